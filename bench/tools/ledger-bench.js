#!/usr/bin/env node
/**
 * The command path without HTTP: opens a node (Runtime, built output) on a copy of a seeded run
 * directory and approves the run's open claims through the ledger, C at a time, then waits for the
 * read models to reflect them. Prints commands/s and CPU µs per command (this process: ledger,
 * store, projection), so changes to the libraries can be compared on one machine in one sitting.
 *   node bench/tools/ledger-bench.js SEEDED_DIR [--count N] [--concurrency C] [--kind approve|renew] [--database-url URL]
 * --database-url: the run's log is in that PostgreSQL database (seeded with `careledger seed --database-url`;
 * its pool is consumed, so seed a fresh one per run). Also prints the store calls per command and the
 * wall time spent waiting in each (calls overlap, so the times are per call, not shares of the run).
 */
'use strict';
const { cpSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { tmpdir } = require('node:os');
const { parseArgs } = require('node:util');

const ROOT = resolve(__dirname, '..', '..');
const { Runtime } = require(join(ROOT, 'dist/apps/api/libs/runtime/src'));

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string' }, concurrency: { type: 'string' }, kind: { type: 'string' }, 'database-url': { type: 'string' } } });
  const source = positionals[0];
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  cpSync(source, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8'));
  const kind = values.kind ?? 'approve';
  const items = kind === 'approve' ? manifest.approvable : manifest.renewable;
  const count = Math.min(Number(values.count ?? 3000), items.length);
  const concurrency = Number(values.concurrency ?? 32);
  const rt = await Runtime.open({
    dbPath: join(dir, 'ledger.sqlite'), readDbPath: join(dir, 'ledger.read.sqlite'), signingKeyDefaultFile: join(dir, 'key.pem'),
    databaseUrl: values['database-url'] ?? null,
  });
  // the store calls each command makes, and the time each waits
  const calls = {};
  for (const method of ['readStream', 'readEvents', 'append', 'head', 'headPosition', 'hashAt']) {
    const original = rt.store[method].bind(rt.store);
    rt.store[method] = async (...args) => {
      const t = performance.now();
      try {
        return await original(...args);
      } finally {
        const c = (calls[method] ??= { calls: 0, ms: 0 });
        c.calls += 1;
        c.ms += performance.now() - t;
      }
    };
  }
  await rt.consistentRead(undefined, 60_000);
  // planIds of the claims, from the read models (what the HTTP layer's directory looks up)
  const commands = items.slice(0, count).map((x) =>
    kind === 'approve'
      ? { type: 'ApproveClaim', planId: rt.reads.claims.location(x.claimId).planId, claimId: x.claimId, at: x.at }
      : { type: 'RenewPlan', planId: x.planId, purchasedAt: x.purchasedAt, orderId: x.orderId, term: '1y', price: null },
  );
  for (const k of Object.keys(calls)) delete calls[k];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let last = 0n;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < commands.length) {
      const c = commands[next++];
      const r = await rt.ledger.execute(c, { actor: 'bench', correlationId: 'bench' });
      if (BigInt(r.position) > last) last = BigInt(r.position);
    }
  }));
  const decided = performance.now() - t0;
  await rt.consistentRead(last, 60_000);
  const projected = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perCommand = Object.fromEntries(Object.entries(calls).map(([m, c]) => [m, { perCommand: +(c.calls / count).toFixed(2), msPerCall: +(c.ms / c.calls).toFixed(2) }]));
  await rt.close();
  rmSync(dir, { recursive: true, force: true });
  const us = (cpu.user + cpu.system) / count;
  console.log(JSON.stringify({ kind, count, concurrency, commandsPerSecond: Math.round((count / projected) * 1000), decidedMs: Math.round(decided), projectedMs: Math.round(projected), cpuUsPerCommand: Math.round(us), storeCalls: perCommand }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
