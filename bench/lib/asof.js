/**
 * As-of queries in-process: the entitlement query (at, knownAt) the server runs, for units with long
 * histories, on the read models the rebuild produced. Runs the same code the server runs (TS
 * sources through libs/testing/register.js, or the built output when BENCH_DIST is set).
 * Three rounds after a warm-up; each round's p99 is reported and the median of them is the figure
 * (one round's tail on a shared 2-core machine mostly measures the neighbours). The queries go
 * through the per-unit fold cache with its default size, as on a server (at the quick size every
 * long unit fits in it; at the full size a tenth does); a fourth round without the cache
 * (UnitFolds(0): every query gathers and folds the unit from the read store) is reported beside.
 * Usage: node [-r libs/testing/register.js] bench/lib/asof.js READ_DB MANIFEST SECONDS  (prints one JSON line)
 */
'use strict';
const { join } = require('node:path');
const { readFileSync } = require('node:fs');
const Database = require('better-sqlite3');

const root = join(__dirname, '..', '..');
const lib = (name) => (process.env.BENCH_DIST ? join(root, 'dist', 'apps', 'cli', 'libs', name, 'src') : `@careledger/${name}`);
const { defaultCatalogue } = require(lib('domain'));
const { ReadModels, UnitFolds } = require(lib('projections'));

async function main() {
  const [readDb, manifestFile, secondsArg] = process.argv.slice(2);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const units = manifest.long.length > 0 ? manifest.long : manifest.units.slice(0, 200).map((serial) => ({ serial, from: '2021-03-01T00:00:00Z', until: manifest.horizon }));
  const db = new Database(readDb, { readonly: true });
  const reads = new ReadModels(db, defaultCatalogue(), 'rm_');
  // knownAt spans the seeding run (recordedAt), at spans each unit's business history
  const knownFrom = Date.parse(manifest.startedAt);
  const knownUntil = Date.parse(manifest.finishedAt);
  let state = 0x9e3779b9;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const now = new Date();
  const query = (i) => {
    const u = units[Math.floor(rand() * units.length)];
    const from = Date.parse(u.from);
    const until = Date.parse(u.until);
    const at = new Date(from + rand() * (until - from)).toISOString();
    const knownAt = new Date(knownFrom + rand() * (knownUntil - knownFrom)).toISOString();
    // a third each: at only, knownAt only, both
    const q = i % 3 === 0 ? { at, now } : i % 3 === 1 ? { knownAt, now } : { at, knownAt, now };
    return { serial: u.serial, q };
  };
  const seconds = Number(secondsArg ?? 5);
  // warm up (JIT, SQLite page cache, the time memos) on a fifth of the time
  let deadline = performance.now() + seconds * 200;
  for (let i = 0; performance.now() < deadline; i++) {
    const { serial, q } = query(i);
    await reads.entitlements.entitlements(serial, q, 0n);
  }
  let events = 0;
  let counted = 0;
  const rounds = [];
  const all = [];
  for (let round = 0; round < 3; round++) {
    const latencies = [];
    deadline = performance.now() + (seconds * 1000) / 3;
    for (let i = 0; performance.now() < deadline; i++) {
      const { serial, q } = query(i);
      const t = performance.now();
      const json = await reads.entitlements.entitlements(serial, q, 0n);
      latencies.push(performance.now() - t);
      if (!json) throw new Error(`no view of ${serial}`);
      if (counted < 300) {
        events += (await reads.entitlements.unitEvents(serial)).length;
        counted++;
      }
    }
    latencies.sort((a, b) => a - b);
    rounds.push(latencies);
    all.push(...latencies);
  }
  // a round without the per-unit cache: what a query costs on a unit no query has touched lately
  const uncachedReads = new ReadModels(db, defaultCatalogue(), 'rm_', null, new UnitFolds(0));
  const uncached = [];
  deadline = performance.now() + (seconds * 1000) / 3;
  for (let i = 0; performance.now() < deadline; i++) {
    const { serial, q } = query(i);
    const t = performance.now();
    await uncachedReads.entitlements.entitlements(serial, q, 0n);
    uncached.push(performance.now() - t);
  }
  uncached.sort((a, b) => a - b);
  all.sort((a, b) => a - b);
  const p = (list, x) => +list[Math.min(list.length - 1, Math.floor(x * list.length))].toFixed(3);
  const p99s = rounds.map((r) => p(r, 0.99));
  db.close();
  console.log(JSON.stringify({
    queries: all.length, units: units.length, avgEventsPerUnit: Math.round(events / counted),
    p50Ms: p(all, 0.5), p99Ms: [...p99s].sort((a, b) => a - b)[1], p99MsPerRound: p99s, p99MsPooled: p(all, 0.99),
    maxMs: +all[all.length - 1].toFixed(3), meanMs: +(all.reduce((a, b) => a + b, 0) / all.length).toFixed(3),
    uncached: { queries: uncached.length, p50Ms: p(uncached, 0.5), p99Ms: p(uncached, 0.99) },
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
