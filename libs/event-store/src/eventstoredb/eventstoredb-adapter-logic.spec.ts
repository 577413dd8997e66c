/**
 * EventStoreDB adapter logic against a fault-injecting stand-in (no server).
 *
 * No EventStoreDB server can run where these tests run. The stand-in implements only the client
 * calls the adapter makes, answering as the server does (see __fixtures__/eventstoredb-stand-in.ts)
 * and injecting what a real cluster does to a client: dropped subscriptions, appends whose answer
 * is lost after they committed, reads that never answer, other applications' streams in $all,
 * soft-deleted streams, dispose with appends in flight, positions near 2^64-1. Each numbered block
 * covers one defect of issue 13. The contract suite runs over the stand-in too (first block), and
 * against a real node in eventstoredb-event-store.int.spec.ts when EVENTSTORE_CONNECTION_STRING is set.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AccessDeniedError, CancelledError, UnavailableError, UnknownError, type Position } from '@eventstore/db-client';
import { CONTRACT_STREAM_PREFIX, contractMetadata, describeEventStoreContract, newEvent, uniqueStream } from '../contract/event-store.contract';
import { GENESIS_HASH } from '../hash';
import {
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  IntegrityViolation,
  type NewEvent,
  type StoredEvent,
  StoreUnavailable,
} from '../port';
import { CONTRACT_ESDB_TUNING } from './__fixtures__/contract-tuning';
import { clientCancellation, EventStoreDbStandIn, type StandInOptions, U64_MAX, unavailable } from './__fixtures__/eventstoredb-stand-in';
import {
  CARELEDGER_STREAM_PREFIXES,
  type EventStoreDbClientCalls,
  EventStoreDbEventStore,
  type EventStoreDbTuning,
  normalisePosition,
} from './eventstoredb-event-store';
import { ROLLING_GENESIS, rollingHash } from './rolling-index';
import { openSqliteEventStore } from '../sqlite/sqlite-event-store';

describeEventStoreContract('eventstoredb adapter over the in-memory stand-in (no server)', async () => {
  const store = new EventStoreDbEventStore(new EventStoreDbStandIn() as unknown as EventStoreDbClientCalls, {
    ...CONTRACT_ESDB_TUNING,
    readTimeoutMs: 2000,
    connectionString: 'esdb://127.0.0.1:2113?tls=false',
  });
  return { store, cleanup: () => store.close() };
});

const opened: EventStoreDbEventStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

function setup(tuning: EventStoreDbTuning = {}, options: StandInOptions = {}, server = new EventStoreDbStandIn(options)) {
  const store = new EventStoreDbEventStore(server as unknown as EventStoreDbClientCalls, {
    readTimeoutMs: 300,
    appendTimeoutMs: 300,
    pingTimeoutMs: 150,
    settleDelayMs: 5,
    connectionString: 'esdb://127.0.0.1:2113?tls=false',
    ...tuning,
  });
  opened.push(store);
  return { server, store };
}

const plan = () => `plan-${randomUUID()}`;
const device = () => `device-${randomUUID()}`;
const events = (n: number, type = 'E'): NewEvent[] => Array.from({ length: n }, (_, i) => newEvent(type, { i }));

/** Fails (instead of hanging the suite) when the promise has not settled within `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

async function take(iterator: AsyncIterator<StoredEvent>, count: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  while (out.length < count) {
    const next = await within(2000, iterator.next());
    if (next.done) throw new Error(`ended after ${out.length} events`);
    out.push(next.value);
  }
  return out;
}

describe('EventStoreDB adapter logic against a fault-injecting stand-in (no server)', () => {
  describe('1. a dropped $all subscription', () => {
    it('rejects the pending next() with StoreUnavailable naming the last delivered position, and is cancelled and unregistered', async () => {
      const { server, store } = setup();
      const stream = plan();
      const written = await store.appendToStream(stream, events(2));
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      expect((await take(iterator, 2)).map((e) => e.position)).toEqual(written.positions);
      expect(store.openSubscriptions).toBe(1);

      const pending = iterator.next();
      server.dropSubscriptions(new UnavailableError(undefined, '14 UNAVAILABLE: Connection dropped'));
      const error = await within(2000, rejectionOf(pending));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toContain(`after position ${written.position}`);
      expect((error as Error).message).toContain('resubscribe');
      expect(store.openSubscriptions).toBe(0);
      expect(server.liveSubscriptions).toBe(0);
    });

    it('a server that cuts a slow consumer (an error that is not "unavailable") is a drop too, not a 500', async () => {
      const { server, store } = setup();
      await store.appendToStream(plan(), events(1));
      const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
      await take(iterator, 1);
      const pending = iterator.next();
      server.dropSubscriptions(new UnknownError(undefined, 'Consumer too slow to handle event while live. Client resubscription required.'));
      await expect(within(2000, pending)).rejects.toBeInstanceOf(StoreUnavailable);
      expect(store.openSubscriptions).toBe(0);
    });

    it('a subscription the server ends without an error rejects next() instead of ending as if it were closed', async () => {
      const { server, store } = setup();
      await store.appendToStream(plan(), events(1));
      const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
      await take(iterator, 1);
      const pending = iterator.next();
      server.endSubscriptions();
      await expect(within(2000, pending)).rejects.toBeInstanceOf(StoreUnavailable);
      expect(store.openSubscriptions).toBe(0);
    });

    it('resubscribing from the last processed position after a drop delivers every later event exactly once', async () => {
      const { server, store } = setup();
      const stream = plan();
      await store.appendToStream(stream, events(2));
      const iterator = store.subscribeToAll({ batchSize: 2 })[Symbol.asyncIterator]();
      const seen = await take(iterator, 2);
      const pending = iterator.next();
      server.dropSubscriptions(new CancelledError(undefined, 'Server is shutting down'));
      await expect(within(2000, pending)).rejects.toBeInstanceOf(StoreUnavailable);
      await store.appendToStream(stream, events(3), { expectedRevision: 1 });

      const again = store.subscribeToAll({ after: seen[seen.length - 1].position })[Symbol.asyncIterator]();
      const rest = await take(again, 3);
      expect([...seen, ...rest].map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    });
  });

  describe('2. recordedAt is the server commit time', () => {
    it("comes from the server's clock, not the writer's, on the append result and on every read", async () => {
      const serverTime = Date.parse('2031-03-04T05:06:07.000Z');
      const { store } = setup({ clock: { now: () => new Date('1999-01-01T00:00:00.000Z') } }, { now: () => serverTime });
      const stream = plan();
      const result = await store.appendToStream(stream, events(2));
      expect(result.recordedAt).toBe('2031-03-04T05:06:07.000Z');
      expect((await store.readStream(stream)).map((e) => e.metadata.recordedAt)).toEqual([result.recordedAt, result.recordedAt]);
      expect((await store.readAll()).map((e) => e.metadata.recordedAt)).toEqual([result.recordedAt, result.recordedAt]);
    });

    it("gives every event of an append the first event's commit time, even when the server clock ticks within the append", async () => {
      const start = Date.parse('2030-01-01T00:00:00.000Z');
      const { server, store } = setup({}, { now: () => start, clockStepPerEventMs: 1 });
      const stream = plan();
      const result = await store.appendToStream(stream, events(3));
      expect(server.streamEvents(stream).map((e) => e.created.getTime())).toEqual([start, start + 1, start + 2]);
      expect(result.recordedAt).toBe(new Date(start).toISOString());

      // from another instance (empty caches), reading only the last events: the first is looked up
      const { store: reader } = setup({}, {}, server);
      expect((await reader.readStream(stream, { fromRevision: 1 })).map((e) => e.metadata.recordedAt)).toEqual([result.recordedAt, result.recordedAt]);
      expect((await reader.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0].metadata.recordedAt).toBe(result.recordedAt);
      const [, second] = result.positions;
      expect((await reader.readAll({ after: second - 1n })).map((e) => e.metadata.recordedAt)).toEqual([result.recordedAt, result.recordedAt]);
      const live = reader.subscribeToAll({ after: result.positions[0] })[Symbol.asyncIterator]();
      expect((await take(live, 2)).map((e) => e.metadata.recordedAt)).toEqual([result.recordedAt, result.recordedAt]);
    });

    it('an append that starts after another was acknowledged gets a strictly later recordedAt, even when the server answers within a millisecond', async () => {
      const { store } = setup({}, { now: Date.now });
      const stream = plan();
      const stamps: string[] = [];
      for (let i = 0; i < 40; i += 1) {
        stamps.push((await store.appendToStream(stream, [newEvent('E', { i })], { expectedRevision: i === 0 ? 'no_stream' : i - 1 })).recordedAt);
      }
      for (let i = 1; i < stamps.length; i += 1) expect(Date.parse(stamps[i])).toBeGreaterThan(Date.parse(stamps[i - 1]));
    });
  });

  describe('3. an append whose outcome is unknown is settled by one identical retry', () => {
    it('committed but the answer was lost (deadline exceeded): reported written once, and stored once', async () => {
      const { server, store } = setup();
      const stream = plan();
      const appended = events(2);
      server.appendFaults.push({ kind: 'commit-then-fail' });
      const result = await store.appendToStream(stream, appended, { expectedRevision: 'no_stream' });

      expect(result).toMatchObject({ nextExpectedRevision: 1, deduplicated: false });
      expect(server.streamEvents(stream).map((e) => e.id)).toEqual(appended.map((e) => e.eventId));
      const sends = server.callsOf('appendToStream');
      expect(sends).toHaveLength(2);
      expect(sends[1]).toEqual(sends[0]);
      expect(sends[1].expectedRevision).toBe('no_stream');
    });

    it('lost before it reached the server (connection down): the retry writes it', async () => {
      const { server, store } = setup();
      const stream = plan();
      server.appendFaults.push({ kind: 'fail-before-commit', error: unavailable('Connection dropped') });
      const result = await store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' });
      expect(result.deduplicated).toBe(false);
      expect(server.streamEvents(stream)).toHaveLength(1);
      expect(server.callsOf('appendToStream')).toHaveLength(2);
    });

    it('an answer that never comes is cut by the adapter’s own timer and settled the same way', async () => {
      const { server, store } = setup({ appendTimeoutMs: 100 });
      const stream = plan();
      server.appendFaults.push({ kind: 'commit-then-hang' });
      const result = await within(3000, store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' }));
      expect(result.deduplicated).toBe(false);
      expect(server.streamEvents(stream)).toHaveLength(1);
    });

    it('a retry that finds another writer there first reports ConcurrencyConflict, not success', async () => {
      const { server, store } = setup();
      const stream = plan();
      server.appendFaults.push({ kind: 'fail-before-commit' });
      server.appendFaults.push({ kind: 'before', run: () => server.writeAsAnotherClient(stream, [{ type: 'Other' }], 'no_stream') });
      const error = await rejectionOf(store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' }));
      expect(error).toBeInstanceOf(ConcurrencyConflict);
      expect(error).toMatchObject({ streamId: stream, expected: 'no_stream', actual: 0 });
    });

    it('when the retry gets no answer either, StoreUnavailable says the outcome is unknown', async () => {
      const { server, store } = setup();
      const stream = plan();
      server.appendFaults.push({ kind: 'commit-then-fail' }, { kind: 'commit-then-fail' });
      const error = await rejectionOf(store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' }));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toMatch(/may or may not be written/);
      expect(server.streamEvents(stream)).toHaveLength(1);
    });

    it('the caller’s own retry of that append then finds it and reports it deduplicated', async () => {
      const { server, store } = setup();
      const stream = plan();
      const appended = events(1);
      server.appendFaults.push({ kind: 'commit-then-fail' }, { kind: 'commit-then-fail' });
      await expect(store.appendToStream(stream, appended, { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(StoreUnavailable);
      const retried = await store.appendToStream(stream, appended, { expectedRevision: 'no_stream' });
      expect(retried).toMatchObject({ nextExpectedRevision: 0, deduplicated: true });
      expect(server.streamEvents(stream)).toHaveLength(1);
    });
  });

  describe('4. every read has a timeout of its own', () => {
    it('readStream, readAll, headPosition, head, verify and records give up with StoreUnavailable and cancel the read', async () => {
      const { server, store } = setup({ readTimeoutMs: 80 });
      await store.appendToStream(plan(), events(1));
      server.hangReads = () => true;
      const started = Date.now();
      const attempts: Array<() => Promise<unknown>> = [
        () => store.readStream(plan()),
        () => store.readAll(),
        () => store.headPosition(),
        () => store.head(),
        () => store.verifyIntegrity(),
        () => store.records.get('lease:x'),
      ];
      for (const attempt of attempts) {
        await expect(within(2000, attempt())).rejects.toBeInstanceOf(StoreUnavailable);
      }
      expect(Date.now() - started).toBeLessThan(3000);
      expect(server.cancelledReads.length).toBeGreaterThanOrEqual(6);
      expect(server.cancelledReads.every((r) => r.destroyed)).toBe(true);
    });

    it('ping() answers false in time when the node stops answering', async () => {
      const { server, store } = setup({ pingTimeoutMs: 50 });
      expect(await store.ping()).toBe(true);
      server.hangReads = () => true;
      expect(await within(1000, store.ping())).toBe(false);
    });

    it('the read an append needs (a stream not read at that revision) times out too', async () => {
      const { server, store } = setup({ readTimeoutMs: 80 });
      const stream = plan();
      server.writeAsAnotherClient(stream, [{ type: 'A' }], 'no_stream');
      server.hangReads = (call) => call.op === 'readStream' && call.stream === stream;
      await expect(within(2000, store.appendToStream(stream, events(1), { expectedRevision: 0 }))).rejects.toBeInstanceOf(StoreUnavailable);
    });

    it('a slow read that keeps delivering is not cut (the timer is an idle timer)', async () => {
      const { server, store } = setup({ readTimeoutMs: 60 });
      const stream = plan();
      await store.appendToStream(stream, events(5));
      const original = server.readStream.bind(server);
      server.readStream = ((name: string, options: Parameters<typeof original>[1]) => {
        const fast = original(name, options);
        if (name !== stream) return fast;
        const slow = new Readable({ objectMode: true, read() {} }) as typeof fast;
        slow.cancel = fast.cancel;
        const items: unknown[] = [];
        fast.on('data', (item) => items.push(item));
        fast.on('end', () => {
          let i = 0;
          const tick = setInterval(() => {
            if (i < items.length) slow.push(items[i++]);
            else {
              clearInterval(tick);
              slow.push(null);
            }
          }, 40);
        });
        return slow;
      }) as typeof server.readStream;
      expect(await within(3000, store.readStream(stream))).toHaveLength(5);
    });
  });

  describe("5. only CareLedger's streams", () => {
    it('readAll, headPosition, head, hashAt and verify skip other applications’ streams and system events', async () => {
      const { server, store } = setup();
      server.appendForeign('orders-1', 2);
      server.appendSystem();
      const ours = await store.appendToStream(plan(), events(2));
      server.appendForeign('orders-1', 3);
      server.appendForeign('planning-9', 1); // close to a prefix, still another application's
      server.appendSystem();

      expect((await store.readAll()).map((e) => e.position)).toEqual(ours.positions);
      expect(await store.headPosition()).toBe(ours.position);
      const head = await store.head();
      expect(head.position).toBe(ours.position);
      expect(await store.hashAt(server.log.find((e) => e.streamId === 'orders-1')!.position.commit)).toBeNull();
      expect(await store.verifyIntegrity()).toMatchObject({ ok: true, events: 2, verifiedUpTo: head });
    });

    it('the subscription asks the server for the prefixes and still drops anything else the server sends', async () => {
      const { server, store } = setup();
      server.ignoreSubscriptionFilter = true;
      server.appendForeign('orders-1', 2);
      const ours = await store.appendToStream(device(), events(1));
      const iterator = store.subscribeToAll()[Symbol.asyncIterator]();
      expect((await take(iterator, 1)).map((e) => e.position)).toEqual(ours.positions);
      expect(server.callsOf('subscribeToAll')[0].filter).toMatchObject({ filterOn: 'streamName', prefixes: [...CARELEDGER_STREAM_PREFIXES] });
      server.appendForeign('orders-1', 1);
      const live = await store.appendToStream(device(), events(1));
      expect((await take(iterator, 1))[0].position).toBe(live.position);
    });

    it('refuses to append outside the prefixes, and keeps records out of the log', async () => {
      const { server, store } = setup();
      await expect(store.appendToStream('orders-1', events(1))).rejects.toThrow(/outside the log's stream prefixes/);
      await store.records.put('lease:projector', { holder: 'a' }, null);
      expect(server.log.some((e) => e.streamId.startsWith('careledger-record-'))).toBe(true);
      expect(await store.readAll()).toEqual([]);
      expect(await store.headPosition()).toBe(0n);
      expect(() => setup({ streamPrefixes: ['careledger-'] })).toThrow(/overlaps the log's stream prefixes/);
    });

    it('the contract suite writes only test-prefixed streams, and its adapter sees nothing of real data (and the reverse)', async () => {
      expect(uniqueStream('plan').startsWith(`${CONTRACT_STREAM_PREFIX}plan-`)).toBe(true);
      const server = new EventStoreDbStandIn();
      const { store: production } = setup({}, {}, server);
      const { store: contract } = setup(CONTRACT_ESDB_TUNING, {}, server);
      const real = await production.appendToStream(plan(), events(1));
      const test = await contract.appendToStream(uniqueStream('plan'), events(1));
      await contract.records.put(`test:${randomUUID()}`, {}, null);
      await expect(contract.appendToStream(plan(), events(1))).rejects.toThrow(/outside/);
      expect((await contract.readAll()).map((e) => e.position)).toEqual([test.position]);
      expect((await production.readAll()).map((e) => e.position)).toEqual([real.position]);
      expect(server.log.filter((e) => !e.streamId.startsWith('$') && !e.streamId.startsWith('cltest')).map((e) => e.position.commit)).toEqual([real.position]);
    });
  });

  describe('6. positions are byte offsets', () => {
    it('eventsBetween counts events (not bytes), leaving other streams out', async () => {
      const { server, store } = setup();
      const stream = plan();
      const first = await store.appendToStream(stream, events(1));
      server.appendForeign('orders-1', 4);
      const more = await store.appendToStream(stream, events(3), { expectedRevision: 0 });
      expect(more.position - first.position).toBeGreaterThan(100n); // bytes, not 3
      expect(await store.eventsBetween(first.position, more.position)).toEqual({ events: 3, capped: false });
      expect(await store.eventsBetween(0n, more.position, { limit: 2 })).toEqual({ events: 2, capped: true });
      expect(await store.eventsBetween(more.position, first.position)).toEqual({ events: 0, capped: false });
    });

    it('positions near 2^64-1 stay exact; the client’s 2^64-1 "unknown position" becomes -1n', async () => {
      const { server, store } = setup({}, { firstPosition: U64_MAX - 1_000_000n });
      const stream = plan();
      const result = await store.appendToStream(stream, events(3));
      expect(result.positions).toEqual(server.streamEvents(stream).map((e) => e.position.commit));
      expect(result.positions.every((p) => p > 1n << 63n && p < U64_MAX)).toBe(true);
      expect((await store.readAll({ after: result.positions[0] })).map((e) => e.position)).toEqual(result.positions.slice(1));
      const live = store.subscribeToAll({ after: result.positions[1] })[Symbol.asyncIterator]();
      expect((await take(live, 1))[0].position).toBe(result.positions[2]);
      expect(await store.headPosition()).toBe(result.position);

      server.unknownStreamPositions = true;
      expect((await store.readStream(stream)).map((e) => e.position)).toEqual([-1n, -1n, -1n]);
      expect(normalisePosition({ commit: U64_MAX, prepare: U64_MAX } as Position)).toBe(-1n);
      expect(normalisePosition({ commit: U64_MAX - 1n, prepare: U64_MAX - 1n })).toBe(U64_MAX - 1n);
      expect((await store.readAll()).map((e) => e.position)).toEqual(result.positions);
    });
  });

  describe('7. an append at the exact revision does not re-read the stream', () => {
    it('after the ledger read the stream, the append goes straight to the server and reads back only its own events', async () => {
      const { server, store } = setup();
      const stream = plan();
      await store.appendToStream(stream, events(5));
      const [last] = await store.readStream(stream, { direction: 'backwards', maxCount: 1 });
      server.calls.length = 0;
      const result = await store.appendToStream(stream, events(2), { expectedRevision: last.revision });
      expect(result.nextExpectedRevision).toBe(6);
      expect(server.calls.map((c) => c.op)).toEqual(['appendToStream', 'readStream']);
      expect(server.callsOf('readStream')[0]).toMatchObject({ stream, fromRevision: 5n, maxCount: 2 });
    });

    it('on WrongExpectedVersion it reads only the tail after the expected revision', async () => {
      const server = new EventStoreDbStandIn();
      const { store } = setup({}, {}, server);
      const { store: other } = setup({}, {}, server);
      const stream = plan();
      await store.appendToStream(stream, events(3), { expectedRevision: 'no_stream' });
      await other.appendToStream(stream, events(2), { expectedRevision: 2 });
      server.calls.length = 0;
      const error = await rejectionOf(store.appendToStream(stream, events(1), { expectedRevision: 2 }));
      expect(error).toMatchObject({ expected: 2, actual: 4 });
      expect(server.calls.map((c) => c.op)).toEqual(['appendToStream', 'readStream']);
      expect(server.callsOf('readStream')[0]).toMatchObject({ fromRevision: 3n });
      expect(server.callsOf('readStream')[0].maxCount).toBeUndefined();
    });

    it('a stream this instance has not seen at that revision is read from the expected revision, not from the start', async () => {
      const server = new EventStoreDbStandIn();
      const { store: writer } = setup({}, {}, server);
      const { store } = setup({}, {}, server);
      const stream = plan();
      await writer.appendToStream(stream, events(50));
      server.calls.length = 0;
      await store.appendToStream(stream, events(1), { expectedRevision: 49 });
      expect(server.callsOf('readStream')[0]).toMatchObject({ stream, fromRevision: 49n });
      expect((await store.verifyIntegrity()).ok).toBe(true);
    });
  });

  describe('8. the smaller defects', () => {
    it("'any' does not end in ConcurrencyConflict however often the stream moves under it", async () => {
      const { server, store } = setup();
      const stream = plan();
      await store.appendToStream(stream, events(1));
      let competing = 15;
      server.beforeAppend = (name) => {
        if (name !== stream || competing === 0) return;
        competing -= 1;
        server.writeAsAnotherClient(stream, [{ type: 'Other' }]);
      };
      const result = await within(5000, store.appendToStream(stream, events(1), { expectedRevision: 'any' }));
      expect(competing).toBe(0);
      expect(result.deduplicated).toBe(false);
      expect(server.callsOf('appendToStream').filter((c) => c.stream === stream).length).toBeGreaterThan(10);
    });

    it("'any' against a stream that never stops moving ends in StoreUnavailable after its budget, never ConcurrencyConflict", async () => {
      const { server, store } = setup({ anyRetryBudgetMs: 150 });
      const stream = plan();
      await store.appendToStream(stream, events(1));
      server.beforeAppend = (name) => {
        if (name === stream) server.writeAsAnotherClient(stream, [{ type: 'Other' }]);
      };
      const error = await within(5000, rejectionOf(store.appendToStream(stream, events(1))));
      expect(error).toBeInstanceOf(StoreUnavailable);
    });

    it('an append the server deduplicates (a twin wrote the same ids at the same revision) reports deduplicated: true', async () => {
      const server = new EventStoreDbStandIn();
      const { store } = setup({}, {}, server);
      const { store: twin } = setup({}, {}, server);
      const stream = plan();
      await store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' });
      await store.readStream(stream);
      const command = events(2, 'Decided');
      const original = await twin.appendToStream(stream, command, { expectedRevision: 0 });
      const retried = await store.appendToStream(stream, command, { expectedRevision: 0 });
      expect(retried).toEqual({ ...original, deduplicated: true });
      expect(server.streamEvents(stream)).toHaveLength(3);
    });

    it('a soft-deleted stream reads as empty but refuses appends, instead of continuing the deleted revisions', async () => {
      const server = new EventStoreDbStandIn();
      const { store } = setup({}, {}, server);
      const stream = plan();
      await store.appendToStream(stream, events(3));
      server.softDelete(stream);
      const { store: fresh } = setup({}, {}, server);
      expect(await fresh.readStream(stream)).toEqual([]);
      server.calls.length = 0;
      await expect(fresh.appendToStream(stream, events(1), { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(IntegrityViolation);
      await expect(fresh.appendToStream(stream, events(1))).rejects.toBeInstanceOf(IntegrityViolation);
      expect(server.callsOf('appendToStream')).toEqual([]);
      expect(server.streamEvents(stream)).toHaveLength(3);
    });

    it('a stream soft-deleted between the read and the append is reported, not passed off as revision 0', async () => {
      const server = new EventStoreDbStandIn();
      const { store } = setup({}, {}, server);
      const stream = plan();
      await store.appendToStream(stream, events(2));
      server.softDelete(stream);
      const { store: fresh } = setup({}, {}, server);
      const error = await rejectionOf(fresh.appendToStream(stream, events(1), { expectedRevision: 'no_stream' }));
      expect(error).toBeInstanceOf(IntegrityViolation);
      expect((error as Error).message).toMatch(/soft-deleted.*revision 2/);
    });

    it('a user who may not read stream metadata still reads a missing stream as empty', async () => {
      const { server, store } = setup();
      const original = server.readStream.bind(server);
      server.readStream = ((name: string, options: Parameters<typeof original>[1]) => {
        if (!name.startsWith('$$')) return original(name, options);
        const denied = Object.assign(new Readable({ objectMode: true, read() {} }), { cancel: async () => undefined, cancelled: false });
        setImmediate(() => denied.destroy(new AccessDeniedError(undefined, 'Access denied')));
        return denied;
      }) as typeof server.readStream;
      const stream = plan();
      expect(await store.readStream(stream)).toEqual([]);
      expect((await store.appendToStream(stream, events(1), { expectedRevision: 'no_stream' })).nextExpectedRevision).toBe(0);
    });

    it('a tombstoned stream refuses appends with IntegrityViolation', async () => {
      const { server, store } = setup();
      const stream = plan();
      await store.appendToStream(stream, events(1));
      server.tombstone(stream);
      await expect(store.appendToStream(stream, events(1), { expectedRevision: 0 })).rejects.toBeInstanceOf(IntegrityViolation);
    });

    it('appends in flight when the store closes fail with StoreUnavailable (503), not the client’s UnknownError (500)', async () => {
      const { server, store } = setup();
      await store.appendToStream(plan(), events(1));
      server.holdAppends = true;
      const inFlight = [store.appendToStream(plan(), events(1)), store.append([{ streamId: device(), events: events(1) }])];
      await new Promise((resolve) => setTimeout(resolve, 20));
      await store.close();
      for (const append of inFlight) {
        const error = await within(2000, rejectionOf(append));
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect((error as Error).message).toMatch(/closed while an append/);
      }
      await expect(store.readStream(plan())).rejects.toBeInstanceOf(StoreUnavailable);
      expect(await store.ping()).toBe(false);
    });

    it('reads in flight when the store closes fail with StoreUnavailable at once', async () => {
      const { server, store } = setup({ readTimeoutMs: 60_000 });
      server.hangReads = () => true;
      const pending = store.readAll();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await store.close();
      await expect(within(1000, pending)).rejects.toBeInstanceOf(StoreUnavailable);
    });

    it('an insecure node reached without tls=false gets an error that names tls=false', async () => {
      const tlsError = unavailable(
        'No connection established. Last error: Error: 80CCE5EA897F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
      );
      const { server, store } = setup({ connectionString: 'esdb://127.0.0.1:2113' });
      server.appendFaults.push({ kind: 'fail-before-commit', error: tlsError }, { kind: 'fail-before-commit', error: tlsError });
      const error = await rejectionOf(store.appendToStream(plan(), events(1)));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(store.translate(tlsError, 'reading plan-1')).toMatchObject({ message: expect.stringContaining('tls=false') });

      const { store: configured } = setup({ connectionString: 'esdb://127.0.0.1:2113?tls=false' });
      expect((configured.translate(tlsError, 'reading plan-1') as Error).message).not.toContain('Add tls=false');
    });

    it('readEvents fails with a clear StoreUnavailable (no id index on EventStoreDB)', async () => {
      const { store } = setup();
      expect(store.capabilities.eventLookup).toBe(false);
      await expect(store.readEvents()).rejects.toThrow(/no index of events by id/);
    });
  });

  describe('multi-stream appends', () => {
    it('are written part after part; a failure on a later part leaves the earlier parts written and says so', async () => {
      const { server, store } = setup();
      const [d, p] = [device(), plan()];
      server.appendFaults.push({ kind: 'fail-before-commit', forStream: p }, { kind: 'fail-before-commit', forStream: p });
      const error = await rejectionOf(
        store.append([
          { streamId: d, events: events(1), expectedRevision: 'no_stream' },
          { streamId: p, events: events(1), expectedRevision: 'no_stream' },
        ]),
      );
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toContain(`to ${d}, are written`);
      expect(server.streamEvents(d)).toHaveLength(1);
      expect(server.streamEvents(p)).toHaveLength(0);
    });

    it('each part is settled on its own after an unknown outcome', async () => {
      const { server, store } = setup();
      const [d, p] = [device(), plan()];
      server.appendFaults.push({ kind: 'commit-then-fail', forStream: p });
      const results = await store.append([
        { streamId: d, events: events(1), expectedRevision: 'no_stream' },
        { streamId: p, events: events(2), expectedRevision: 'no_stream' },
      ]);
      expect(results.map((r) => [r.nextExpectedRevision, r.deduplicated])).toEqual([
        [0, false],
        [1, false],
      ]);
      expect(server.streamEvents(p)).toHaveLength(2);
    });
  });

  describe('records', () => {
    it('keep a few versions ($maxCount set before the first one) and never enter the log', async () => {
      const { server, store } = setup({ records: { keepVersions: 3 } });
      for (let v = 0; v < 6; v += 1) await store.records.put('webhook:a', { v }, v === 0 ? null : v);
      expect(server.callsOf('setStreamMetadata')).toEqual([{ op: 'setStreamMetadata', stream: 'careledger-record-webhook:a', metadata: { maxCount: 3 } }]);
      const readable = server.readStream('careledger-record-webhook:a');
      const visible: unknown[] = [];
      for await (const item of readable) visible.push(item);
      expect(visible).toHaveLength(3);
      expect(await store.records.get('webhook:a')).toMatchObject({ value: { v: 5 }, version: 6 });
      expect(await store.readAll()).toEqual([]);
      // a create that loses the race does not write the metadata again
      await expect(store.records.put('webhook:a', { v: 9 }, null)).rejects.toBeInstanceOf(ConcurrencyConflict);
      expect(server.callsOf('setStreamMetadata')).toHaveLength(1);
    });

    it('a record write whose answer was lost is settled: written once, with the right version', async () => {
      const { server, store } = setup();
      await store.records.put('lease:x', { holder: 'a' }, null);
      server.appendFaults.push({ kind: 'commit-then-fail', forStream: 'careledger-record-lease:x' });
      expect(await store.records.put('lease:x', { holder: 'b' }, 1)).toBe(2);
      expect(server.streamEvents('careledger-record-lease:x')).toHaveLength(2);
      await expect(store.records.put('lease:x', { holder: 'c' }, 1)).rejects.toMatchObject({ expected: 1, actual: 2 });
    });

    it('list() reads the index incrementally and skips keys whose record was never created', async () => {
      const { server, store } = setup();
      await store.records.put('k:b', 1, null);
      server.appendFaults.push({ kind: 'fail-before-commit', forStream: 'careledger-record-k:a' }, { kind: 'fail-before-commit', forStream: 'careledger-record-k:a' });
      await expect(store.records.put('k:a', 2, null)).rejects.toBeInstanceOf(StoreUnavailable);
      await store.records.put('k:c', 3, null);
      const { store: other } = setup({}, {}, server);
      expect((await other.records.list('k:')).map((r) => [r.key, r.value])).toEqual([
        ['k:b', 1],
        ['k:c', 3],
      ]);
      await store.records.put('k:a', 2, null);
      server.calls.length = 0;
      expect((await other.records.list('k:', { limit: 1 })).map((r) => r.key)).toEqual(['k:a']);
      expect(server.callsOf('readStream').find((c) => c.stream === 'careledger-records')).toMatchObject({ fromRevision: 3n });
    });
  });

  describe('the rolling global hash: head(), hashAt(), verifyIntegrity()', () => {
    async function history(store: EventStoreDbEventStore, server: EventStoreDbStandIn) {
      const [a, b] = [plan(), device()];
      await store.appendToStream(a, events(2));
      server.appendForeign('orders-1', 2);
      await store.appendToStream(b, events(1));
      await store.appendToStream(a, events(3), { expectedRevision: 1 });
      return { a, b };
    }

    it('is the fold of rollingHash over the filtered $all, the same from any instance', async () => {
      const { server, store } = setup();
      await history(store, server);
      const log = await store.readAll();
      const expected = log.reduce((point, e) => ({ position: e.position, hash: rollingHash(point.hash, e) }), ROLLING_GENESIS);
      expect(await store.head()).toEqual(expected);
      const { store: elsewhere } = setup({}, {}, server);
      expect(await elsewhere.head()).toEqual(expected);
      expect((await setup().store.head())).toEqual({ position: 0n, hash: GENESIS_HASH });
    });

    it('head() continues from where it got to: the next call reads $all only after the last head', async () => {
      const { server, store } = setup();
      await history(store, server);
      const first = await store.head();
      await store.appendToStream(plan(), events(2));
      server.calls.length = 0;
      const second = await store.head();
      expect(second.position > first.position).toBe(true);
      const reads = server.callsOf('readAll');
      expect(reads[0].fromPosition).toEqual({ commit: first.position, prepare: first.position });
    });

    it('hashAt names the rolling hash at each event, and null where no CareLedger event is', async () => {
      const { server, store } = setup();
      await history(store, server);
      const log = await store.readAll();
      let hash = GENESIS_HASH;
      const { store: fresh } = setup({}, {}, server);
      for (const e of log) {
        hash = rollingHash(hash, e);
        expect(await fresh.hashAt(e.position)).toBe(hash);
      }
      expect(await fresh.hashAt(log[0].position + 1n)).toBeNull();
      expect(await fresh.hashAt(log[log.length - 1].position + 10_000n)).toBeNull();
      expect(await fresh.hashAt(0n)).toBeNull();
      // an older position once the index is past it: recomputed from the nearest point
      expect(await fresh.hashAt(log[1].position)).toBe(log.slice(0, 2).reduce((h, e) => rollingHash(h, e), GENESIS_HASH));
    });

    it('verify checks each stream’s chain: a changed event breaks it at that event', async () => {
      const { server, store } = setup();
      const { a } = await history(store, server);
      expect(await store.verifyIntegrity()).toMatchObject({ ok: true, events: 6 });
      server.tamper(a, 3, (e) => ((e.data as { i: number }).i = 99));
      const tampered = server.streamEvents(a)[3].position.commit;
      const { store: fresh } = setup({}, {}, server);
      expect(await fresh.verifyIntegrity()).toMatchObject({ ok: false, firstBrokenPosition: tampered });
    });

    it('verify checks revision continuity: an event written around the adapter breaks it', async () => {
      const { server, store } = setup();
      const { a } = await history(store, server);
      server.writeAsAnotherClient(a, [{ type: 'Forged', metadata: contractMetadata() }], 4n);
      const forged = server.streamEvents(a)[5].position.commit;
      expect(await store.verifyIntegrity()).toMatchObject({ ok: false, firstBrokenPosition: forged });
    });

    it('verify continues from a ChainPoint, checks the log still has it, and refuses a forged one', async () => {
      const { server, store } = setup();
      const { a } = await history(store, server);
      const full = await store.verifyIntegrity();
      await store.appendToStream(a, events(1), { expectedRevision: 4 });
      const progress: bigint[] = [];
      const next = await store.verifyIntegrity({ from: full.verifiedUpTo, onProgress: (p) => progress.push(p.position) });
      expect(next).toMatchObject({ ok: true, events: 1 });
      expect(next.verifiedUpTo).toEqual(await store.head());
      expect(progress[progress.length - 1]).toBe(next.verifiedUpTo.position);

      // on another instance (no cache): same answer, the link before `from` is read from the stream
      const { store: fresh } = setup({}, {}, server);
      expect(await fresh.verifyIntegrity({ from: full.verifiedUpTo })).toEqual(next);
      const forged = await fresh.verifyIntegrity({ from: { position: full.verifiedUpTo.position, hash: 'f'.repeat(64) } });
      expect(forged).toMatchObject({ ok: false, firstBrokenPosition: full.verifiedUpTo.position });
    });

    it('is the chain a SQLite store computes over the same events: an export keeps its head hash when imported', async () => {
      const { server, store } = setup();
      await history(store, server);
      const exported = (await store.readAll()).map(({ hash: _perStream, ...e }) => e);
      const dir = mkdtempSync(join(tmpdir(), 'careledger-esdb-export-'));
      const sqlite = openSqliteEventStore({ path: join(dir, 'import.sqlite') });
      try {
        await sqlite.importEvents(exported);
        expect(await sqlite.head()).toEqual(await store.head());
      } finally {
        await sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the per-stream hash leaves recordedAt out (the writer cannot know it); the rolling hash covers it', async () => {
      let now = Date.parse('2030-01-01T00:00:00.000Z');
      const { server, store } = setup({}, { now: () => now });
      const stream = plan();
      await store.appendToStream(stream, events(1));
      const before = await store.head();
      now += 60_000;
      server.tamper(stream, 0, (e) => (e.created = new Date(now)));
      const { store: fresh } = setup({}, {}, server);
      expect((await fresh.verifyIntegrity()).ok).toBe(true);
      expect(await fresh.hashAt(before.position)).not.toBe(before.hash);
    });
  });

  it('ids repeated within one call, empty appends and non-UUID ids are refused before anything is sent', async () => {
    const { server, store } = setup();
    const e = newEvent('A', {});
    await expect(store.append([{ streamId: plan(), events: [e] }, { streamId: device(), events: [e] }])).rejects.toBeInstanceOf(DuplicateEventIdConflict);
    await expect(store.appendToStream(plan(), [])).rejects.toBeInstanceOf(TypeError);
    await expect(store.appendToStream(plan(), [{ ...e, eventId: 'not-a-uuid' }])).rejects.toThrow(/not a UUID/);
    expect(server.callsOf('appendToStream')).toEqual([]);
  });

  it('the client’s own cancellation of an append (not at close) is an unknown outcome, settled like a timeout', async () => {
    const { server, store } = setup();
    const stream = plan();
    server.appendFaults.push({ kind: 'commit-then-fail', error: clientCancellation() });
    expect((await store.appendToStream(stream, events(1))).deduplicated).toBe(false);
    expect(server.streamEvents(stream)).toHaveLength(1);
  });
});
