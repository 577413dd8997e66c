#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suites (no Docker): Debian's postgresql package, one cluster in
# a temp dir, listening on 127.0.0.1 only, at a free port, with fsync and synchronous_commit left ON
# (the suites check durability claims, so the server must keep them).
#
#   eval "$(bash .ci/postgres.sh)"             # start; prints the export lines below on stdout
#   bash .ci/postgres.sh stop "$CARELEDGER_PG_DIR"   # stop it and remove the directory
#
# Start prints:
#   export CARELEDGER_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   export CARELEDGER_PG_DIR=/tmp/careledger-pg.XXXXXX
# Everything else goes to stderr, so the output can be eval'ed. Trust authentication on loopback
# only: this cluster is for tests and must never hold real data.
set -euo pipefail

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# Runs a PostgreSQL binary as the cluster's owner: `postgres` when we are root (initdb refuses
# root), ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bindir() {
  local initdb
  # The newest major version installed (an unmatched glob stays literal and fails the -x test).
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  if [ -x "$initdb" ]; then dirname "$initdb"; fi
}

stop_cluster() {
  local dir="$1"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then log "nothing to stop at '${dir}'"; return 0; fi
  if [ ! -f "$dir/careledger-pg" ]; then log "refusing to remove $dir: not a directory this script created"; return 1; fi
  local bindir
  bindir=$(find_bindir)
  if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w >/dev/null 2>&1 || log "pg_ctl stop failed (already down?)"
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

if [ "${1:-start}" = "stop" ]; then
  stop_cluster "${2:-${CARELEDGER_PG_DIR:-}}"
  exit $?
fi
if [ "${1:-start}" != "start" ]; then
  log "usage: $0 [start] | stop DIR"
  exit 2
fi

BINDIR=$(find_bindir)
if [ -z "$BINDIR" ]; then
  log "installing Debian's postgresql (initdb not found under /usr/lib/postgresql/*/bin)"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  BINDIR=$(find_bindir)
  if [ -z "$BINDIR" ]; then log "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"; exit 1; fi
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/careledger-pg.XXXXXX")
touch "$DIR/careledger-pg"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$DIR"; fi
cleanup_on_failure() { stop_cluster "$DIR" || true; }
trap cleanup_on_failure ERR

as_owner "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --no-instructions >/dev/null

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();})"
}

# A port found free can be taken before the server binds it: try a few.
PORT=""
for attempt in 1 2 3 4 5; do
  candidate=$(free_port)
  if as_owner "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 30 \
    -o "-p $candidate -k $DIR -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200" \
    start >/dev/null 2>&1; then
    PORT=$candidate
    break
  fi
  log "start on port $candidate failed (attempt $attempt)"
done
if [ -z "$PORT" ]; then
  log "could not start PostgreSQL; server log:"
  cat "$DIR/log" >&2 || true
  false
fi

for _ in $(seq 1 100); do
  if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; then break; fi
  sleep 0.1
done
"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres || { log "server on port $PORT does not accept connections"; false; }
trap - ERR

log "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, data in $DIR"
echo "export CARELEDGER_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
echo "export CARELEDGER_PG_DIR=$DIR"
