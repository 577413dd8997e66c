/**
 * Read models on real SQLite files, over generated histories (decided by the real domain, then
 * restored into a real event store): rebuild from zero equals the live model; applying events
 * twice changes nothing; the cached "now" view equals the domain fold; a runner killed mid-batch
 * resumes from its checkpoint with nothing counted twice.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { defaultCatalogue, foldEntitlements } from '@careledger/domain';
import { openSqliteEventStore, SqliteEventStore, StoredEvent } from '@careledger/event-store';
import { historyArb, runHistory, RunHistory } from '@careledger/testing/histories';
import { Projector } from './projector';
import { ReadModels } from './read-models';
import { rebuild } from './rebuild';
import { ProjectionRunner } from './runner';
import { createSchema, LIVE, TABLES } from './read-store';

const catalogue = defaultCatalogue();
const ROOT = join(__dirname, '..', '..', '..');

/** A few varied histories, the same on every run. */
async function histories(count: number, seed: number): Promise<RunHistory[]> {
  const plans = fc.sample(historyArb(80, true), { numRuns: count, seed });
  const out: RunHistory[] = [];
  for (const plan of plans) out.push(await runHistory(plan));
  return out;
}

/** One store holding several histories one after another (their serials and ids are distinct per history). */
async function storeOf(dir: string, runs: RunHistory[]): Promise<{ store: SqliteEventStore; path: string; events: StoredEvent[] }> {
  const path = join(dir, 'events.sqlite');
  const store = openSqliteEventStore({ path });
  const events: StoredEvent[] = [];
  runs.forEach((run, i) => {
    for (const e of run.ledger.events) {
      // each history has its own serials and plan ids; prefix them so histories do not collide
      const remap = (s: string) => s.replace(/^(device|plan|service-center)-/, `$1-h${i}`);
      events.push({
        ...e,
        streamId: remap(e.streamId),
        eventId: `h${i}-${e.eventId}`,
        position: BigInt(events.length + 1),
        data: JSON.parse(JSON.stringify(e.data), (key, value) =>
          typeof value === 'string' && ['serial', 'replacementSerial', 'planId', 'claimId', 'centerId', 'serviceCenterId', 'targetEventId'].includes(key)
            ? key === 'targetEventId' ? `h${i}-${value}` : `h${i}${value}`
            : value,
        ),
      } as StoredEvent);
    }
  });
  // recordedAt must not go backwards across histories: shift each history's clock after the previous
  let last = 0;
  for (const e of events) {
    const ms = Math.max(Date.parse(e.metadata.recordedAt), last + 1);
    e.metadata = { ...e.metadata, recordedAt: new Date(ms).toISOString() };
    last = ms;
  }
  await store.importEvents(events);
  return { store, path, events: await store.readAll() };
}

function dump(db: Database.Database, prefix: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    if (t === 'entitlements') continue; // a cache, filled on read
    out[t] = db.prepare(`SELECT * FROM ${prefix}${t} ORDER BY 1, 2`).all();
  }
  return out;
}

describe('projections on real SQLite files', () => {
  let dir: string;
  let runs: RunHistory[];

  beforeAll(async () => {
    runs = await histories(16, 424242);
    expect(runs.some((r) => r.hasCorrections)).toBe(true);
    expect(runs.reduce((n, r) => n + r.ledger.events.length, 0)).toBeGreaterThan(200);
  }, 60_000);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-proj-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('rebuild from zero equals the live model, and swaps in while the live tables answer', async () => {
    const { store, events } = await storeOf(dir, runs);
    const db = new Database(join(dir, 'read.sqlite'));
    createSchema(db, LIVE);
    const live = new ProjectionRunner(store, db, catalogue, LIVE);
    for (let i = 0; i < events.length; i += 7) live.applyBatch(events.slice(i, i + 7)); // small live batches
    const before = dump(db, LIVE);
    const indexes = () =>
      db.prepare(`SELECT tbl_name, COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'rm%' GROUP BY tbl_name ORDER BY tbl_name`).all();
    const indexesBefore = indexes();
    const reads = new ReadModels(db, catalogue, LIVE);
    const result = await rebuild(store, db, catalogue, { batchSize: 50 });
    expect(result.events).toBe(events.length);
    expect(dump(db, LIVE)).toEqual(before);
    await rebuild(store, db, catalogue, { batchSize: 500 }); // a second rebuild: index names must not clash
    expect(dump(db, LIVE)).toEqual(before);
    expect(indexes()).toEqual(indexesBefore); // every index is there once, none left behind
    createSchema(db, LIVE); // a restart re-creating the live schema adds nothing
    expect(indexes()).toEqual(indexesBefore);
    expect(reads.checkpoint()).toBe(events[events.length - 1].position);
    db.close();
    await store.close();
  });

  test('applying the same events twice changes nothing', async () => {
    const { store, events } = await storeOf(dir, runs);
    const db = new Database(join(dir, 'read.sqlite'));
    createSchema(db, 'once_');
    createSchema(db, 'twice_');
    const once = new Projector(db, catalogue, 'once_');
    const twice = new Projector(db, catalogue, 'twice_');
    db.transaction(() => {
      for (const e of events) once.apply(e, { dirtySerials: new Set() });
      for (const e of events) twice.apply(e, { dirtySerials: new Set() });
      for (const e of events) twice.apply(e, { dirtySerials: new Set() });
    })();
    const strip = (d: Record<string, unknown[]>) => Object.fromEntries(Object.entries(d).filter(([t]) => t !== 'checkpoint'));
    expect(strip(dump(db, 'twice_'))).toEqual(strip(dump(db, 'once_')));
    db.close();
    await store.close();
  });

  test('the cached current view equals the domain fold, for every unit of every history', async () => {
    const { store, events } = await storeOf(dir, runs);
    const db = new Database(join(dir, 'read.sqlite'));
    createSchema(db, LIVE);
    new ProjectionRunner(store, db, catalogue, LIVE).applyBatch(events);
    const reads = new ReadModels(db, catalogue, LIVE);
    const now = new Date(Date.parse(events[events.length - 1].metadata.recordedAt) + 60_000);
    const serials = new Set(events.filter((e) => e.streamId.startsWith('device-')).map((e) => e.streamId.slice('device-'.length)));
    expect(serials.size).toBeGreaterThan(20);
    for (const serial of serials) {
      const direct = JSON.parse(JSON.stringify(foldEntitlements(catalogue, events, { serial, now: now.toISOString() })));
      const computed = JSON.parse((await reads.entitlements.entitlements(serial, { now, explain: true }, reads.checkpoint()))!);
      const cached = JSON.parse((await reads.entitlements.entitlements(serial, { now, explain: true }, reads.checkpoint()))!);
      const { checkpoint: _c1, ...a } = computed;
      const { checkpoint: _c2, ...b } = cached;
      expect(b).toEqual(a);
      expect(a).toEqual(direct);
      // and an as-of query through the read models equals the fold over the store
      const at = '2025-01-01';
      const asOf = JSON.parse((await reads.entitlements.entitlements(serial, { at, knownAt: now.toISOString(), now, explain: true }, reads.checkpoint()))!);
      const { checkpoint: _c3, ...c } = asOf;
      expect(c).toEqual(JSON.parse(JSON.stringify(foldEntitlements(catalogue, events, { serial, at, knownAt: now.toISOString(), now: now.toISOString() }))));
    }
    db.close();
    await store.close();
  }, 60_000);

  test('a runner killed mid-batch resumes from its checkpoint with no double counting', async () => {
    const { store, path, events } = await storeOf(dir, runs);
    await store.close();
    const readPath = join(dir, 'read.sqlite');
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'libs/testing/register.js'), join(__dirname, '__fixtures__', 'killed-runner.fixture.ts'), path, readPath, '40', '95'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    expect(stderr).toBe('');

    const db = new Database(readPath);
    const committed = (db.prepare(`SELECT position FROM ${LIVE}checkpoint`).get() as { position: number }).position;
    expect(committed).toBe(80); // two whole batches of 40; the third died before its commit
    expect((db.prepare(`SELECT COUNT(*) AS n FROM ${LIVE}events`).get() as { n: number }).n).toBe(80);

    const reopened = openSqliteEventStore({ path });
    const resumed = new ProjectionRunner(reopened, db, catalogue, LIVE, { batchSize: 40 });
    expect(resumed.checkpoint).toBe(80n);
    for (;;) {
      const batch = await reopened.readAll({ after: resumed.checkpoint, maxCount: 40 });
      if (batch.length === 0) break;
      resumed.applyBatch(batch);
    }
    const afterResume = dump(db, LIVE);
    await rebuild(reopened, db, catalogue);
    expect(dump(db, LIVE)).toEqual(afterResume);
    expect(afterResume.events).toHaveLength(events.length);
    db.close();
    await reopened.close();
  }, 60_000);
});
