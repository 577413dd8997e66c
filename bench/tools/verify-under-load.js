#!/usr/bin/env node
/**
 * What a full verify of the log costs the other requests of a node, on a run directory kept by
 * `npm run bench -- --keep` (issue 11: a verify on the event loop raised other requests' median
 * from 1 ms to 363 ms). Starts the built API on the run's store (127.0.0.1, a child process), then:
 *   1. the latency of cached entitlement GETs alone (autocannon, --connections, --seconds);
 *   2. the same GETs while --parallel clients each loop GET /v1/audit/verify?full=true (a walk of the
 *      whole chain from position 1, in a worker thread on SQLite);
 *   3. one incremental verify after those (from the point the last one reached).
 * Usage: node bench/tools/verify-under-load.js DIR [--seconds S] [--connections C] [--parallel P]
 * (npm run build first). Prints one JSON line; nothing is written to the store but verify's point.
 */
'use strict';
const { spawn } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');

const ROOT = resolve(__dirname, '..', '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string' }, connections: { type: 'string' }, parallel: { type: 'string' } } });
const [dir] = positionals;
if (!dir) {
  console.error('usage: verify-under-load.js DIR [--seconds S] [--connections C] [--parallel P]');
  process.exit(2);
}
const seconds = Number(values.seconds ?? 6);
const connections = Number(values.connections ?? 8);
const parallel = Number(values.parallel ?? 8);

const load = (base, token, units) => {
  let i = 0;
  return autocannon({
    url: base, connections, duration: seconds,
    requests: [{ method: 'GET', headers: { authorization: `Bearer ${token}` }, setupRequest: (req) => ({ ...req, path: `/v1/devices/${units[i++ % units.length]}/entitlements` }) }],
  });
};

async function main() {
  const manifest = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8'));
  const token = 'bench-auditor-token-0001';
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify([{ token, role: 'auditor' }]));
  const port = 40000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/api/apps/api/src/main.js')], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, CARELEDGER_DATABASE_URL: '', EVENTSTORE_CONNECTION_STRING: '', CARELEDGER_DB: join(dir, 'ledger.sqlite'), CARELEDGER_READ_DB: join(dir, 'ledger.read.sqlite'),
      PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CARELEDGER_TOKENS_FILE: join(dir, 'tokens.json'), CARELEDGER_SWEEP_INTERVAL_SECONDS: '0', CARELEDGER_CHECKPOINT_INTERVAL_SECONDS: '0',
    },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not yet */ }
      if (i > 600) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const units = manifest.units.slice(0, 2000);
    await load(base, token, units); // warm the cached views
    const alone = await load(base, token, units);

    const verifyTimes = [];
    let verifying = true;
    let events = null;
    const verifier = async () => {
      while (verifying) {
        const t = performance.now();
        const res = await fetch(`${base}/v1/audit/verify?full=true`, { headers: { authorization: `Bearer ${token}` } });
        const body = await res.json();
        if (!res.ok || !body.ok) throw new Error(`verify answered ${res.status}: ${JSON.stringify(body)}`);
        events = body.events;
        verifyTimes.push(performance.now() - t);
      }
    };
    const verifiers = Array.from({ length: parallel }, verifier);
    const during = await load(base, token, units);
    verifying = false;
    await Promise.all(verifiers);

    const t = performance.now();
    const inc = await (await fetch(`${base}/v1/audit/verify`, { headers: { authorization: `Bearer ${token}` } })).json();
    const incrementalMs = performance.now() - t;
    verifyTimes.sort((a, b) => a - b);
    console.log(JSON.stringify({
      events, parallel, connections, seconds,
      alone: { reqPerSec: alone.requests.average, p50Ms: alone.latency.p50, p99Ms: alone.latency.p99 },
      duringFullVerifies: { reqPerSec: during.requests.average, p50Ms: during.latency.p50, p99Ms: during.latency.p99 },
      fullVerify: { runs: verifyTimes.length, medianMs: Math.round(verifyTimes[Math.floor(verifyTimes.length / 2)]), maxMs: Math.round(verifyTimes[verifyTimes.length - 1]) },
      incrementalVerify: { ms: Math.round(incrementalMs), events: inc.events, ok: inc.ok },
    }));
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
