/**
 * A log that loses its tail under a live subscription (a failover to an asynchronous replica behind a
 * connection pooler, a restore into the running database) and then grows past the lost positions
 * again: the runner must not stitch the new events onto read models that still hold the lost ones.
 * The periodic anchor check is turned off here, so only the per-batch chain link can catch it.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCatalogue } from '@careledger/domain';
import { EventStore, openSqliteEventStore, SqliteEventStore } from '@careledger/event-store';
import { TestStore, testStores } from '@careledger/testing/stores';
import { createSchema, LIVE, openReadStore } from './read-store';
import { ProjectionRunner, ReadModelDivergence } from './runner';

const catalogue = defaultCatalogue();

describe('the runner on a log that lost its tail while it followed it', () => {
  let dir: string;
  let store: SqliteEventStore;
  let readDb: Database.Database;
  let runner: ProjectionRunner | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-lost-tail-'));
    store = openSqliteEventStore({ path: join(dir, 'events.sqlite') });
    readDb = openReadStore(join(dir, 'read.sqlite'));
    createSchema(readDb, LIVE);
  });

  afterEach(async () => {
    await runner?.stop();
    await store.close();
    readDb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const register = (centerId: string, name: string) =>
    store.append([{
      streamId: `service-center-${centerId}`,
      events: [{ eventId: `${centerId}-${name}`, type: 'ServiceCenterRegistered', data: { centerId, name, region: 'US', at: '2024-01-01T00:00:00Z' }, metadata: { occurredAt: '2024-01-01T00:00:00Z', actor: 'test', correlationId: 'c' } }],
    }]);

  /** What the replica that never received the tail holds: the events after `position` are gone. */
  function loseTailAfter(position: number): void {
    const db = new Database(join(dir, 'events.sqlite'));
    try {
      db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update; DROP TRIGGER IF EXISTS events_are_immutable_delete');
      db.prepare('DELETE FROM events WHERE position > ?').run(position);
    } finally {
      db.close();
    }
  }

  const center = (id: string) => readDb.prepare<[string], { name: string }>(`SELECT name FROM ${LIVE}centers WHERE center_id = ?`).get(id)?.name ?? null;

  test('the first batch past the checkpoint that does not chain onto it is a divergence, caught before it is applied', async () => {
    const divergences: ReadModelDivergence[] = [];
    runner = new ProjectionRunner(store, readDb, catalogue, LIVE, {
      anchorCheckMs: 0,
      onDivergence: async (d) => {
        divergences.push(d);
        return 'stop';
      },
    });
    runner.start();
    for (const id of ['A', 'B', 'C', 'D', 'E']) await register(id, 'first');
    expect(await runner.waitFor(5n, 5000)).toBe(true);

    loseTailAfter(3);
    // the new log grows past the lost positions with other events
    for (const id of ['F', 'G', 'H', 'I']) await register(id, 'after the failover');
    expect(await store.headPosition()).toBe(7n);

    const until = Date.now() + 5000;
    while (runner.state !== 'diverged' && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runner.state).toBe('diverged');
    expect(divergences).toHaveLength(1);
    expect(divergences[0].checkpoint.position).toBe(5n);
    // nothing of the new log was stitched onto the old tail, and reads are refused rather than served stale
    expect(runner.checkpoint).toBe(5n);
    expect(center('F')).toBeNull();
    expect(await runner.waitFor(7n, 100)).toBe(false);
  });

});

describe.each(testStores('The runner chain-link test'))('the runner following a log that holds its checkpoint, on %s', (_name, open) => {
  let node: TestStore;
  let readDb: Database.Database;
  let runner: ProjectionRunner | null = null;

  beforeEach(async () => {
    node = await open();
    readDb = openReadStore(join(node.dir, 'read.sqlite'));
    createSchema(readDb, LIVE);
  });

  afterEach(async () => {
    await runner?.stop();
    await node.store.close();
    readDb.close();
    await node.cleanup();
  });

  test('every batch chains onto the checkpoint by the events alone: no false alarm, and no extra read of the store per batch', async () => {
    const store: EventStore = node.store;
    const hashAt = jest.spyOn(store, 'hashAt');
    let divergences = 0;
    runner = new ProjectionRunner(store, readDb, catalogue, LIVE, {
      anchorCheckMs: 0,
      onDivergence: async () => {
        divergences++;
        return 'stop';
      },
    });
    runner.start();
    for (let i = 0; i < 30; i++) {
      // one and several events per append, data with nested objects, numbers and unicode
      await store.append([{
        streamId: `service-center-X${i}`,
        events: Array.from({ length: 1 + (i % 3) }, (_, k) => ({
          eventId: `x-${i}-${k}`, type: 'ServiceCenterRegistered',
          data: { centerId: `X${i}`, name: `Zentrum ${i} ü ${'é'.repeat(k)}`, region: 'US', at: '2024-01-01T00:00:00Z', extra: { n: i / 7, list: [k, null, true] } },
          metadata: { occurredAt: '2024-01-01T00:00:00Z', actor: 'test', correlationId: `c-${i}` },
        })),
      }]);
      if (i % 7 === 0) expect(await runner.waitFor(await store.headPosition(), 5000)).toBe(true);
    }
    expect(await runner.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(divergences).toBe(0);
    expect(runner.state).not.toBe('diverged');
    expect(hashAt).not.toHaveBeenCalled();
  });
});
