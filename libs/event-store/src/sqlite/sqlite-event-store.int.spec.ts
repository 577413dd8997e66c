import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describeEventStoreContract, newEvent, uniqueStream } from '../contract/event-store.contract';
import { canonicalJson, eventHash, GENESIS_HASH } from '../hash';
import {
  type AppendResult,
  type Clock,
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  IntegrityViolation,
  type StoredEvent,
  StoreUnavailable,
} from '../port';
import { openSqliteEventStore, type SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-event-store';

const repoRoot = resolve(__dirname, '../../../..');
const writerScript = join(__dirname, '__fixtures__', 'sqlite-writer.fixture.ts');

const tempDirs: string[] = [];
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'careledger-es-'));
  tempDirs.push(dir);
  return join(dir, 'ledger.sqlite');
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describeEventStoreContract('sqlite', async () => {
  const path = tempDbPath();
  const store = openSqliteEventStore({ path });
  return { store, cleanup: () => store.close() };
});

function spawnWriter(args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', './libs/testing/register.js', writerScript, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function appendWithRetry(store: SqliteEventStore, streamId: string, data: unknown): Promise<void> {
  const event = newEvent('Tick', data);
  for (;;) {
    const [last] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    try {
      await store.appendToStream(streamId, [event], { expectedRevision: last ? last.revision : 'no_stream' });
      return;
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
  }
}

function toNdjson(events: StoredEvent[]): string {
  return events.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).join('\n');
}

function fromNdjson(text: string): StoredEvent[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = JSON.parse(line) as StoredEvent & { position: string };
      return { ...parsed, position: BigInt(parsed.position) };
    });
}

describe('SqliteEventStore (SQLite only)', () => {
  let path: string;
  let store: SqliteEventStore;
  const open = (options: Partial<SqliteEventStoreOptions> = {}) => openSqliteEventStore({ path, ...options });

  beforeEach(() => {
    path = tempDbPath();
    store = open();
  });
  afterEach(async () => {
    await store.close();
  });

  describe('immutability and the hash chain', () => {
    it('refuses UPDATE and DELETE of stored events through any connection', async () => {
      await store.appendToStream('plan-1', [newEvent('PlanPurchased', { planId: '1' })]);
      const raw = new Database(path);
      try {
        expect(() => raw.prepare(`UPDATE events SET data = '{}' WHERE position = 1`).run()).toThrow(/immutable/);
        expect(() => raw.prepare('DELETE FROM events WHERE position = 1').run()).toThrow(/immutable/);
      } finally {
        raw.close();
      }
      expect((await store.readStream('plan-1'))[0].data).toEqual({ planId: '1' });
    });

    it('verifyIntegrity reports the modified row once the trigger is dropped and a row is updated', async () => {
      for (let i = 0; i < 5; i += 1) await store.appendToStream(`plan-${i % 2}`, [newEvent('Paid', { amount: `${i}.00` })]);
      expect(await store.verifyIntegrity()).toMatchObject({ events: 5, ok: true, firstBrokenPosition: null, verifiedUpTo: { position: 5n } });

      const raw = new Database(path);
      raw.exec('DROP TRIGGER events_are_immutable_update');
      raw.prepare(`UPDATE events SET data = '{"amount":"999.00"}' WHERE position = 3`).run();
      raw.close();

      expect(await store.verifyIntegrity()).toMatchObject({ events: 3, ok: false, firstBrokenPosition: 3n, verifiedUpTo: { position: 2n } });
    });

    it('verifyIntegrity detects a deleted row (a gap) and swapped rows (reordering)', async () => {
      await store.appendToStream('s', Array.from({ length: 6 }, (_, i) => newEvent('E', { i })));
      const raw = new Database(path);
      raw.exec('DROP TRIGGER events_are_immutable_delete; DROP TRIGGER events_are_immutable_update');
      raw.prepare('DELETE FROM events WHERE position = 4').run();
      expect(await store.verifyIntegrity()).toMatchObject({ ok: false, firstBrokenPosition: 5n });

      const swap = raw.transaction(() => {
        const a = raw.prepare('SELECT * FROM events WHERE position = 1').get() as Record<string, unknown>;
        const b = raw.prepare('SELECT * FROM events WHERE position = 2').get() as Record<string, unknown>;
        raw.prepare('DELETE FROM events WHERE position IN (1, 2)').run();
        const insert = raw.prepare(
          'INSERT INTO events VALUES (@position, @event_id, @stream_id, @revision, @type, @data, @metadata, @recorded_at, @hash)',
        );
        insert.run({ ...b, position: 1 });
        insert.run({ ...a, position: 2 });
      });
      swap();
      raw.close();
      expect(await store.verifyIntegrity()).toMatchObject({ ok: false, firstBrokenPosition: 1n });
    });

    it('verifyIntegrity walks the log in batches and reports progress', async () => {
      for (let i = 0; i < 5; i += 1) {
        await store.appendToStream(`batch-${i}`, Array.from({ length: 500 }, (_, k) => newEvent('E', { i, k })));
      }
      const progress: Array<{ events: number; position: bigint }> = [];
      const report = await store.verifyIntegrity({ onProgress: (p) => progress.push(p), batchSize: 1000 });
      expect(report).toMatchObject({ events: 2500, ok: true, firstBrokenPosition: null });
      expect(progress).toEqual([
        { events: 1000, position: 1000n },
        { events: 2000, position: 2000n },
        { events: 2500, position: 2500n },
      ]);

      const raw = new Database(path);
      raw.exec('DROP TRIGGER events_are_immutable_update');
      raw.prepare(`UPDATE events SET hash = 'forged' WHERE position = 1500`).run();
      raw.close();
      expect(await store.verifyIntegrity({ batchSize: 1000 })).toMatchObject({
        events: 1500,
        ok: false,
        firstBrokenPosition: 1500n,
      });
    });
  });

  describe('export and import', () => {
    async function seed(): Promise<void> {
      await store.appendToStream('plan-a', [newEvent('PlanPurchased', { planId: 'a', owner: 'Zoë Ñúñez 東京' })]);
      await store.appendToStream('device-SN1', [newEvent('DeviceBoundToPlan', { planId: 'a', z: 1, a: [{ y: 2, b: 3 }] })]);
      await store.appendToStream('plan-a', [newEvent('PlanActivated', {}), newEvent('ClaimOpened', { claimId: 'c1' })]);
      for (let i = 0; i < 10; i += 1) await store.appendToStream(`plan-${i}`, [newEvent('PlanPurchased', { i })]);
    }

    it('readAll -> NDJSON -> importEvents into an empty file reproduces positions, metadata and hashes', async () => {
      await seed();
      let ndjson = '';
      let after = 0n;
      for (;;) {
        const page = await store.readAll({ after, maxCount: 4 });
        if (page.length === 0) break;
        ndjson += `${toNdjson(page)}\n`;
        after = page[page.length - 1].position;
      }

      const targetPath = tempDbPath();
      const target = openSqliteEventStore({ path: targetPath });
      try {
        const events = fromNdjson(ndjson);
        await target.importEvents(events.slice(0, 5));
        expect(await target.importEvents(events.slice(5))).toEqual({ imported: events.length - 5, headPosition: 14n });

        expect(await target.readAll()).toEqual(await store.readAll());
        expect(await target.verifyIntegrity()).toMatchObject({ events: 14, ok: true, firstBrokenPosition: null });

        const next = await target.appendToStream('plan-a', [newEvent('PlanRenewed', {})], { expectedRevision: 2 });
        expect(next.position).toBe(15n);
        expect(next.recordedAt > events[events.length - 1].metadata.recordedAt).toBe(true);
        expect((await target.verifyIntegrity()).ok).toBe(true);
      } finally {
        await target.close();
      }
    });

    it('import does not depend on the key order of the exported JSON', async () => {
      await seed();
      const reversed = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(reversed);
        if (value === null || typeof value !== 'object') return value;
        return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
      };
      const events = (await store.readAll()).map((e) => ({ ...e, data: reversed(e.data), metadata: reversed(e.metadata) }));
      const target = openSqliteEventStore({ path: tempDbPath() });
      try {
        await target.importEvents(events as StoredEvent[]);
        expect((await target.readAll()).map((e) => e.hash)).toEqual((await store.readAll()).map((e) => e.hash));
      } finally {
        await target.close();
      }
    });

    it('refuses an export whose content does not match its hashes, and writes nothing', async () => {
      await seed();
      const events = await store.readAll();
      events[6] = { ...events[6], data: { planId: 'forged' } };
      const target = openSqliteEventStore({ path: tempDbPath() });
      try {
        const error = await target.importEvents(events).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(IntegrityViolation);
        expect((error as IntegrityViolation).position).toBe(events[6].position);
        expect(await target.headPosition()).toBe(0n);
      } finally {
        await target.close();
      }
    });

    it('refuses to import over events already in the store', async () => {
      await seed();
      const events = await store.readAll();
      await expect(store.importEvents(events)).rejects.toBeInstanceOf(IntegrityViolation);
      expect(await store.headPosition()).toBe(14n);
    });
  });

  describe('recordedAt', () => {
    it('is strictly increasing per append even when the clock stalls or goes backwards', async () => {
      await store.close();
      let now = Date.parse('2026-11-22T03:47:11.123Z');
      const clock: Clock = { now: () => new Date(now) };
      store = open({ clock });

      const r1 = await store.appendToStream('a', [newEvent('E', {}), newEvent('E', {})]);
      const r2 = await store.appendToStream('b', [newEvent('E', {})]);
      now -= 3_600_000;
      const r3 = await store.appendToStream('a', [newEvent('E', {})]);
      now += 7_200_000;
      const r4 = await store.appendToStream('a', [newEvent('E', {})]);

      expect([r1, r2, r3, r4].map((r) => r.recordedAt)).toEqual([
        '2026-11-22T03:47:11.123Z',
        '2026-11-22T03:47:11.124Z',
        '2026-11-22T03:47:11.125Z',
        '2026-11-22T04:47:11.123Z',
      ]);
      const a = await store.readStream('a');
      expect(a.map((e) => e.metadata.recordedAt)).toEqual([r1.recordedAt, r1.recordedAt, r3.recordedAt, r4.recordedAt]);

      const lagging = open({ clock: { now: () => new Date('2020-01-01T00:00:00Z') } });
      try {
        const r5 = await lagging.appendToStream('c', [newEvent('E', {})]);
        expect(r5.recordedAt).toBe('2026-11-22T04:47:11.124Z');
      } finally {
        await lagging.close();
      }
    });
  });

  describe('group commit', () => {
    it('commits the appends of one tick in one transaction; a conflict fails only its own append', async () => {
      const before = store.stats().groupCommits;
      const settled = await Promise.allSettled([
        store.appendToStream('plan-x', [newEvent('A', {})], { expectedRevision: 'no_stream' }),
        store.appendToStream('plan-x', [newEvent('B', {})], { expectedRevision: 'no_stream' }),
        store.appendToStream('plan-x', [newEvent('C', {})], { expectedRevision: 0 }),
        store.appendToStream('plan-y', [newEvent('D', {}), newEvent('E', {})], { expectedRevision: 'no_stream' }),
        store.appendToStream('plan-x', [newEvent('F', {})], { expectedRevision: 1 }),
      ]);

      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyConflict);
      expect(store.stats().groupCommits - before).toBe(1);
      expect((await store.readStream('plan-x')).map((e) => [e.type, e.revision, e.position])).toEqual([
        ['A', 0, 1n],
        ['C', 1, 2n],
        ['F', 2, 5n],
      ]);
      const recordedAts = settled
        .filter((s): s is PromiseFulfilledResult<AppendResult> => s.status === 'fulfilled')
        .map((s) => s.value.recordedAt);
      expect([...recordedAts].sort()).toEqual(recordedAts);
      expect(new Set(recordedAts).size).toBe(4);
      expect((await store.verifyIntegrity()).ok).toBe(true);
    });

    it('an append that fails half-way is rolled back to its savepoint; the rest of the group commits', async () => {
      const raw = new Database(path);
      raw.exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'Poison' BEGIN SELECT RAISE(ABORT, 'poison'); END`);
      raw.close();
      const settled = await Promise.allSettled([
        store.appendToStream('plan-1', [newEvent('A', {})]),
        store.appendToStream('plan-2', [newEvent('Fine', {}), newEvent('Poison', {})]),
        store.appendToStream('plan-3', [newEvent('B', {})]),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailable);
      expect(await store.readStream('plan-2')).toEqual([]);
      expect((await store.readAll()).map((e) => [e.streamId, e.position])).toEqual([
        ['plan-1', 1n],
        ['plan-3', 2n],
      ]);
      expect((await store.verifyIntegrity()).ok).toBe(true);
    });

    it('rejects data or metadata that cannot be stored as JSON before queueing it', async () => {
      const bad = { ...newEvent('A', {}), metadata: { ...newEvent('A', {}).metadata, causationId: 1n as unknown as string } };
      await expect(store.appendToStream('plan-1', [bad])).rejects.toThrow(/BigInt/);
      await expect(store.appendToStream('plan-1', [newEvent('A', { amount: 10n })])).rejects.toThrow(/BigInt/);
      expect(await store.headPosition()).toBe(0n);
    });

    it('an acknowledged append is visible to another connection (resolved after COMMIT)', async () => {
      const result = await store.appendToStream('plan-z', [newEvent('A', {})]);
      const raw = new Database(path, { readonly: true });
      try {
        const row = raw.prepare('SELECT event_id FROM events WHERE position = ?').get(Number(result.position));
        expect(row).toBeDefined();
      } finally {
        raw.close();
      }
    });

    it('rejects with StoreUnavailable when another connection holds the write lock past busyTimeoutMs', async () => {
      await store.close();
      store = open({ busyTimeoutMs: 50 });
      const raw = new Database(path);
      raw.exec('BEGIN IMMEDIATE');
      try {
        await expect(store.appendToStream('plan-lock', [newEvent('A', {})])).rejects.toBeInstanceOf(StoreUnavailable);
      } finally {
        raw.exec('ROLLBACK');
        raw.close();
      }
      await expect(store.appendToStream('plan-lock', [newEvent('A', {})])).resolves.toMatchObject({ position: 1n });
    });

    it('refuses an event id already stored in another stream, and repeated ids within one append', async () => {
      const e = newEvent('A', {});
      await store.appendToStream('plan-1', [e]);
      await expect(store.appendToStream('plan-2', [e])).rejects.toBeInstanceOf(DuplicateEventIdConflict);
      const twice = newEvent('B', {});
      await expect(store.appendToStream('plan-3', [twice, twice])).rejects.toBeInstanceOf(DuplicateEventIdConflict);
      expect(await store.headPosition()).toBe(1n);
    });
  });

  describe('the file', () => {
    it('reopens an existing file, keeps tables other components created, and continues the log', async () => {
      await store.appendToStream('plan-1', [newEvent('A', {})]);
      const raw = new Database(path);
      raw.exec(`CREATE TABLE decisions (id TEXT PRIMARY KEY); INSERT INTO decisions VALUES ('d1')`);
      raw.close();
      await store.close();

      store = open();
      expect((await store.readStream('plan-1')).map((e) => e.type)).toEqual(['A']);
      const result = await store.appendToStream('plan-1', [newEvent('B', {})], { expectedRevision: 0 });
      expect(result.position).toBe(2n);

      const check = new Database(path, { readonly: true });
      try {
        expect(check.prepare('SELECT id FROM decisions').all()).toEqual([{ id: 'd1' }]);
        expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(check.prepare(`SELECT value FROM event_store_meta WHERE key = 'schema_version'`).get()).toEqual({ value: '3' });
      } finally {
        check.close();
      }
    });

    it('a store written under schema 2 (ids and hashes as text, recordedAt inside the metadata) opens, still verifies and continues', async () => {
      await store.close();
      rmSync(path, { force: true });
      const raw = new Database(path);
      raw.exec(`CREATE TABLE event_store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO event_store_meta VALUES ('schema_version', '2');
        CREATE TABLE events (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL, revision INTEGER NOT NULL,
          type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (stream_id, revision));
        CREATE TABLE records (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL);`);
      let previous = GENESIS_HASH;
      const ids = [randomUUID(), 'not-a-uuid-id', randomUUID()];
      ids.forEach((eventId, i) => {
        const recordedAt = `2026-11-0${i + 1}T10:00:00.000Z`;
        const row = { position: BigInt(i + 1), eventId, streamId: 'plan-old', revision: i, type: 'Old', recordedAt, data: canonicalJson({ i }), metadata: canonicalJson({ actor: 'old', correlationId: 'c', occurredAt: recordedAt, recordedAt }) };
        previous = eventHash(previous, row);
        raw.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(i + 1, eventId, row.streamId, i, row.type, row.data, row.metadata, recordedAt, previous);
      });
      raw.close();

      store = open();
      const read = await store.readStream('plan-old');
      expect(read.map((e) => e.eventId)).toEqual(ids);
      expect(read[2].hash).toBe(previous);
      expect(read[1].metadata.recordedAt).toBe('2026-11-02T10:00:00.000Z');
      expect(await store.verifyIntegrity()).toMatchObject({ ok: true, events: 3 });
      expect((await store.readEvents([ids[0], ids[1]])).map((e) => e.eventId)).toEqual([ids[0], ids[1]]);
      await store.appendToStream('plan-old', [newEvent('New', {})], { expectedRevision: 2 });
      expect(await store.verifyIntegrity()).toMatchObject({ ok: true, events: 4 });
      const check = new Database(path, { readonly: true });
      try {
        expect(check.prepare(`SELECT typeof(event_id) AS id, typeof(hash) AS hash FROM events ORDER BY position`).all()).toEqual([
          { id: 'blob', hash: 'blob' }, { id: 'text', hash: 'blob' }, { id: 'blob', hash: 'blob' }, { id: 'blob', hash: 'blob' },
        ]);
        expect(() => check.prepare(`UPDATE events SET data = '{}'`).run()).toThrow();
      } finally {
        check.close();
      }
      const writer = new Database(path);
      expect(() => writer.prepare(`UPDATE events SET data = '{}' WHERE position = 1`).run()).toThrow(/immutable/);
      writer.close();
    });

    it('after close(), appends reject with StoreUnavailable and ping() is false', async () => {
      await store.close();
      await expect(store.appendToStream('plan-1', [newEvent('A', {})])).rejects.toBeInstanceOf(StoreUnavailable);
      expect(await store.ping()).toBe(false);
    });

    it('a live subscription is woken by appends through this store, not by its poll timer', async () => {
      await store.close();
      store = open({ pollIntervalMs: 60_000 });
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        const next = iterator.next();
        await new Promise((r) => setTimeout(r, 20));
        const started = Date.now();
        await store.appendToStream('plan-live', [newEvent('A', {})]);
        expect((await next).value).toMatchObject({ streamId: 'plan-live', position: 1n });
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await subscription.close();
      }
    });

    it('close() ends the subscriptions of the store promptly', async () => {
      await store.close();
      store = open({ pollIntervalMs: 60_000 });
      const subscription = store.subscribeToAll();
      const loop = (async () => {
        for await (const _event of subscription) throw new Error('nothing was appended');
        return 'ended';
      })();
      await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      await store.close();
      await expect(loop).resolves.toBe('ended');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('a subscription sees appends made through another connection (polling)', async () => {
      await store.close();
      store = open({ pollIntervalMs: 20 });
      const other = open();
      const subscription = store.subscribeToAll({ after: 0n });
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        const next = iterator.next();
        await new Promise((r) => setTimeout(r, 20));
        const appended = await other.appendToStream('plan-elsewhere', [newEvent('A', { via: 'other' })]);
        const { value } = await next;
        expect(value).toMatchObject({ position: appended.position, data: { via: 'other' } });
      } finally {
        await subscription.close();
        await other.close();
      }
    });
  });

  describe('several writers on one file', () => {
    it('two instances in this process and a child process lose and duplicate nothing under contention', async () => {
      const streamId = uniqueStream('shared');
      const second = open();
      const child = spawnWriter(['contend', path, streamId, '40']);
      let childOut = '';
      let childErr = '';
      child.stdout!.on('data', (chunk: Buffer) => (childOut += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (childErr += chunk.toString()));
      const childExit = once(child, 'close');
      try {
        await Promise.all(
          [store, store, second, second].map(async (s, w) => {
            for (let i = 0; i < 30; i += 1) await appendWithRetry(s, streamId, { writer: w, i });
          }),
        );
        const [code] = await childExit;
        expect({ code, childErr }).toEqual({ code: 0, childErr: '' });
        expect(childOut).toBe('done\n');
      } finally {
        child.kill('SIGKILL');
        await second.close();
      }

      const stream = await store.readStream(streamId);
      expect(stream).toHaveLength(4 * 30 + 40);
      expect(stream.map((e) => e.revision)).toEqual(Array.from({ length: 160 }, (_, i) => i));
      expect(new Set(stream.map((e) => e.eventId)).size).toBe(160);
      const positions = stream.map((e) => e.position);
      expect(new Set(positions).size).toBe(160);
      expect((await store.verifyIntegrity()).ok).toBe(true);
    }, 30_000);

    it('crash: every append acknowledged before SIGKILL is present after reopening, and the chain is intact', async () => {
      await store.close();
      const child = spawnWriter(['crash', path]);
      const acknowledged = new Map<bigint, string>();
      let buffered = '';
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const [position, eventId] = line.split(' ');
          acknowledged.set(BigInt(position), eventId);
        }
        if (acknowledged.size >= 400) child.kill('SIGKILL');
      });
      const [code, signal] = await once(child, 'close');
      expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
      expect(acknowledged.size).toBeGreaterThanOrEqual(400);

      store = open();
      const stored = new Map((await store.readAll()).map((e) => [e.position, e.eventId]));
      for (const [position, eventId] of acknowledged) expect(stored.get(position)).toBe(eventId);
      expect(await store.verifyIntegrity()).toMatchObject({ ok: true, events: stored.size });
      await expect(store.appendToStream('after-crash', [newEvent('A', {})])).resolves.toMatchObject({
        position: BigInt(stored.size + 1),
      });
    }, 30_000);
  });

  it('a subscription delivers a backlog larger than batchSize in order, then later appends', async () => {
    await store.appendToStream('bulk', Array.from({ length: 50 }, (_, i) => newEvent('E', { i })));
    const subscription = store.subscribeToAll({ batchSize: 10 });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value.position).toBe(1n);
    await store.appendToStream('bulk-2', [newEvent('Late', { id: randomUUID() })]);
    const rest: StoredEvent[] = [];
    for (let i = 0; i < 50; i += 1) rest.push((await iterator.next()).value);
    expect(rest.map((e) => e.position)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 2)));
    expect(rest[rest.length - 1].type).toBe('Late');
    await subscription.close();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('a subscription reads at most one batch ahead of its consumer (back-pressure)', async () => {
    await store.appendToStream('bulk', Array.from({ length: 30 }, (_, i) => newEvent('E', { i })));
    const subscription = store.subscribeToAll({ batchSize: 10 });
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value.position).toBe(1n);

    // Rewrite rows 10 (inside the batch already fetched) and 11 (not fetched yet) behind the store's back.
    const raw = new Database(path);
    raw.exec('DROP TRIGGER events_are_immutable_update');
    raw.prepare(`UPDATE events SET data = '{"rewritten":true}' WHERE position IN (10, 11)`).run();
    raw.close();

    const next: StoredEvent[] = [];
    for (let i = 0; i < 10; i += 1) next.push((await iterator.next()).value);
    expect(next.map((e) => [e.position, e.data])).toEqual([
      ...Array.from({ length: 8 }, (_, i) => [BigInt(i + 2), { i: i + 1 }]),
      [10n, { i: 9 }],
      [11n, { rewritten: true }],
    ]);
    await subscription.close();
  });
});
