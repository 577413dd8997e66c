/**
 * The PostgreSQL event store's tables, and the migration that creates or upgrades them on open.
 *
 * Everything lives in one PostgreSQL schema (default `careledger`, see PostgresEventStoreOptions),
 * so the store can share a database with other applications and tests can isolate themselves in a
 * schema of their own. The version of the layout is kept in `event_store_meta.schema_version`; a
 * node refuses a schema newer than its code. DDL runs under a transaction-level advisory lock, so two
 * nodes starting at once on an empty database do not race each other.
 */
import type { PoolClient } from 'pg';

/** 1: the log (events, immutable), records (leases, webhook state, signed checkpoints). */
export const POSTGRES_SCHEMA_VERSION = 1;

export const DEFAULT_SCHEMA = 'careledger';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

export function checkSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new TypeError(`schema must be a plain identifier of at most 40 letters, digits or _ (got ${JSON.stringify(schema)})`);
  }
  return schema;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal for a statement that cannot take parameters (a multi-statement query); standard_conforming_strings is on. */
export function literal(value: string): string {
  if (value.includes('\0')) throw new TypeError('a PostgreSQL literal cannot hold NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Advisory lock keys, two int4 each: a class (what the lock guards) and the schema's own key, so
 * stores in different schemas of one database never wait for each other.
 */
export const APPEND_LOCK_CLASS = 0x434c4541; // "CLEA": appends (one writer at a time, see the store)
export const MIGRATE_LOCK_CLASS = 0x434c454d; // "CLEM": DDL on open

/** A stable 32-bit key for a schema name (FNV-1a), as a signed int4. */
export function schemaLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The LISTEN/NOTIFY channel on which commits announce new events. */
export function notifyChannel(schema: string): string {
  return `careledger_events:${schema}`;
}

/** migrations[v] brings the schema from version v to v + 1. */
function migrations(s: string): string[] {
  return [
    `
    CREATE TABLE ${s}.events (
      position    bigint PRIMARY KEY CHECK (position > 0),
      event_id    text COLLATE "C" NOT NULL,
      stream_id   text COLLATE "C" NOT NULL,
      revision    integer NOT NULL CHECK (revision >= 0),
      type        text NOT NULL,
      -- data and metadata: the canonical JSON text the hash covers, byte for byte (jsonb would
      -- reorder keys and normalise numbers, and a re-hash would no longer match).
      data        text NOT NULL,
      metadata    text NOT NULL,
      recorded_at text NOT NULL,
      hash        text NOT NULL,
      -- The transaction that wrote the row (diagnostics: which appends shared a group commit).
      xact_id     xid8 NOT NULL DEFAULT pg_current_xact_id(),
      CONSTRAINT events_event_id_key UNIQUE (event_id),
      CONSTRAINT events_stream_revision_key UNIQUE (stream_id, revision)
    );

    CREATE FUNCTION ${s}.events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION 'events are immutable: % refused on %.%', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING HINT = 'The log is append-only; record a correcting event instead.';
    END
    $fn$;

    CREATE TRIGGER events_are_immutable
      BEFORE UPDATE OR DELETE OR TRUNCATE ON ${s}.events
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_are_immutable();

    CREATE TABLE ${s}.records (
      key        text COLLATE "C" PRIMARY KEY,
      version    integer NOT NULL CHECK (version > 0),
      value      text NOT NULL,
      updated_at text NOT NULL
    );
    `,
  ];
}

async function readVersion(client: PoolClient, schema: string): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists`,
    [`${quoteIdent(schema)}.event_store_meta`],
  );
  if (!table.rows[0].exists) return 0;
  const row = await client.query<{ value: string }>(
    `SELECT value FROM ${quoteIdent(schema)}.event_store_meta WHERE key = 'schema_version'`,
  );
  return row.rows.length === 0 ? 0 : Number(row.rows[0].value);
}

function refuseNewer(schema: string, version: number): void {
  if (version > POSTGRES_SCHEMA_VERSION) {
    throw new Error(
      `the CareLedger event store in PostgreSQL schema "${schema}" is at schema version ${version}, newer than ` +
        `this code understands (${POSTGRES_SCHEMA_VERSION}); upgrade CareLedger before opening it`,
    );
  }
  if (!Number.isInteger(version) || version < 0) {
    throw new Error(`the CareLedger event store in PostgreSQL schema "${schema}" has an unreadable schema_version`);
  }
}

/**
 * Creates or upgrades the schema. A schema already at this version is only read (a role without
 * CREATE rights can open it); otherwise the DDL runs in one transaction under an advisory lock.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  const current = await readVersion(client, schema);
  refuseNewer(schema, current);
  if (current === POSTGRES_SCHEMA_VERSION) return;

  const s = quoteIdent(schema);
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATE_LOCK_CLASS, schemaLockKey(schema)]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rows.length === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.event_store_meta (key text PRIMARY KEY, value text NOT NULL)`);
    // Read again under the lock: another node may have migrated while we waited.
    const version = await readVersion(client, schema);
    refuseNewer(schema, version);
    const steps = migrations(s);
    for (let v = version; v < POSTGRES_SCHEMA_VERSION; v += 1) await client.query(steps[v]);
    await client.query(
      `INSERT INTO ${s}.event_store_meta (key, value) VALUES ('schema_version', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [String(POSTGRES_SCHEMA_VERSION)],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
