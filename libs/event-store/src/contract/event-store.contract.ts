import { randomUUID } from 'node:crypto';
import {
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type StoredEvent,
  type Subscription,
} from '../port';

/**
 * One behavioural contract for every EventStore adapter (emmett's eventStore "features" pattern).
 * Stream names are unique per test, and global-log assertions only look at this test's streams, so
 * the suite also runs against a shared EventStoreDB server that other tests are writing to.
 */
export type EventStoreFactory = () => Promise<{ store: EventStore; cleanup(): Promise<void> }>;

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Every stream the suite writes starts with this test-only prefix, never a CareLedger category
 * (`plan-`, `device-`...): an adapter under test is configured to accept only this prefix, so the
 * suite cannot touch real data on a shared node, and real data cannot enter the suite's $all reads.
 */
export const CONTRACT_STREAM_PREFIX = 'cltest-';

export function uniqueStream(prefix: string): string {
  return `${CONTRACT_STREAM_PREFIX}${prefix}-${randomUUID()}`;
}

export function contractMetadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    occurredAt: '2026-11-20T10:15:00+01:00',
    actor: 'contract-test',
    correlationId: randomUUID(),
    causationId: null,
    ...overrides,
  };
}

export function newEvent<D>(type: string, data: D, eventId: string = randomUUID()): NewEvent<string, D> {
  return { eventId, type, data, metadata: contractMetadata() };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, it resolved');
}

/** Pulls events from a subscription until `count` match, or fails after `timeoutMs`. */
async function take(
  iterator: AsyncIterator<StoredEvent>,
  count: number,
  matches: (e: StoredEvent) => boolean,
  timeoutMs = 5000,
): Promise<StoredEvent[]> {
  const taken: StoredEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (taken.length < count) {
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), remaining)));
    const next = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (next === 'timeout') throw new Error(`subscription delivered ${taken.length} of ${count} events in time`);
    if (next.done) throw new Error(`subscription ended after ${taken.length} of ${count} events`);
    if (matches(next.value)) taken.push(next.value);
  }
  return taken;
}

/**
 * Appends one event at the stream's current revision, retrying on conflict (an optimistic writer).
 * Returns how many conflicts it met and whether the store put the event right after the revision read.
 */
async function appendWithRetry(
  store: EventStore,
  streamId: string,
  event: NewEvent,
): Promise<{ conflicts: number; landedAfterRead: boolean }> {
  for (let conflicts = 0; ; conflicts += 1) {
    const [last] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    try {
      const result = await store.appendToStream(streamId, [event], {
        expectedRevision: last ? last.revision : 'no_stream',
      });
      return { conflicts, landedAfterRead: result.nextExpectedRevision === (last ? last.revision + 1 : 0) };
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
  }
}

export function describeEventStoreContract(name: string, factory: EventStoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('round-trips appended events with their metadata, in revision order', async () => {
      const streamId = uniqueStream('plan');
      const events = [
        newEvent('PlanPurchased', { planId: 'p-1', tier: 'care-refresh', price: { amount: '79.00', currency: 'EUR' } }),
        newEvent('DeviceBoundToPlan', { planId: 'p-1', serial: 'SN-1' }),
        newEvent('PlanActivated', { planId: 'p-1', nested: { list: [1, 'two', null], flag: true } }),
      ];
      events[1].metadata = contractMetadata({ causationId: events[0].eventId, actor: 'agent:42' });

      const result = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });

      expect(result.nextExpectedRevision).toBe(2);
      expect(result.deduplicated).toBe(false);
      expect(result.positions).toHaveLength(3);
      expect(result.positions[0] < result.positions[1] && result.positions[1] < result.positions[2]).toBe(true);
      expect(result.position).toBe(result.positions[2]);
      expect(result.recordedAt).toMatch(ISO_MS);

      const read = await store.readStream(streamId);
      expect(read.map((e) => ({ ...e, hash: undefined }))).toEqual(
        events.map((e, i) => ({
          eventId: e.eventId,
          type: e.type,
          streamId,
          revision: i,
          position: result.positions[i],
          data: e.data,
          metadata: { ...e.metadata, recordedAt: result.recordedAt },
          hash: undefined,
        })),
      );
    });

    it('reads a stream backwards, from a revision, and up to maxCount; a missing stream reads as empty', async () => {
      const streamId = uniqueStream('plan');
      const events = Array.from({ length: 5 }, (_, i) => newEvent('Counted', { i }));
      await store.appendToStream(streamId, events);

      const revisions = (list: StoredEvent[]) => list.map((e) => e.revision);
      expect(revisions(await store.readStream(streamId, { direction: 'backwards' }))).toEqual([4, 3, 2, 1, 0]);
      expect(revisions(await store.readStream(streamId, { fromRevision: 2 }))).toEqual([2, 3, 4]);
      expect(revisions(await store.readStream(streamId, { fromRevision: 1, maxCount: 2 }))).toEqual([1, 2]);
      expect(revisions(await store.readStream(streamId, { direction: 'backwards', fromRevision: 3, maxCount: 2 }))).toEqual([3, 2]);
      expect(revisions(await store.readStream(streamId, { direction: 'backwards', maxCount: 1 }))).toEqual([4]);
      expect(await store.readStream(uniqueStream('missing'))).toEqual([]);
    });

    describe('expected revision', () => {
      it("'no_stream' succeeds on a new stream and conflicts once the stream exists", async () => {
        const streamId = uniqueStream('device');
        await store.appendToStream(streamId, [newEvent('A', {})], { expectedRevision: 'no_stream' });

        const error = await rejectionOf(
          store.appendToStream(streamId, [newEvent('B', {})], { expectedRevision: 'no_stream' }),
        );
        expect(error).toBeInstanceOf(ConcurrencyConflict);
        expect(error).toMatchObject({ streamId, expected: 'no_stream', actual: 0 });
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it("'stream_exists' conflicts on a missing stream and succeeds on an existing one", async () => {
        const streamId = uniqueStream('device');
        const error = await rejectionOf(
          store.appendToStream(streamId, [newEvent('A', {})], { expectedRevision: 'stream_exists' }),
        );
        expect(error).toBeInstanceOf(ConcurrencyConflict);
        expect(error).toMatchObject({ streamId, expected: 'stream_exists', actual: 'no_stream' });
        expect(await store.readStream(streamId)).toEqual([]);

        await store.appendToStream(streamId, [newEvent('A', {})]);
        const result = await store.appendToStream(streamId, [newEvent('B', {})], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('an exact revision succeeds only when it is the last revision', async () => {
        const streamId = uniqueStream('claim');
        const missing = await rejectionOf(store.appendToStream(streamId, [newEvent('A', {})], { expectedRevision: 0 }));
        expect(missing).toBeInstanceOf(ConcurrencyConflict);
        expect(missing).toMatchObject({ expected: 0, actual: 'no_stream' });

        await store.appendToStream(streamId, [newEvent('A', {}), newEvent('B', {})], { expectedRevision: 'no_stream' });
        const stale = await rejectionOf(store.appendToStream(streamId, [newEvent('C', {})], { expectedRevision: 0 }));
        expect(stale).toBeInstanceOf(ConcurrencyConflict);
        expect(stale).toMatchObject({ streamId, expected: 0, actual: 1 });
        const ahead = await rejectionOf(store.appendToStream(streamId, [newEvent('C', {})], { expectedRevision: 2 }));
        expect(ahead).toMatchObject({ expected: 2, actual: 1 });

        const ok = await store.appendToStream(streamId, [newEvent('C', {})], { expectedRevision: 1 });
        expect(ok.nextExpectedRevision).toBe(2);
        expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it("'any' (the default) never conflicts", async () => {
        const streamId = uniqueStream('sweep');
        const first = await store.appendToStream(streamId, [newEvent('A', {})], { expectedRevision: 'any' });
        const second = await store.appendToStream(streamId, [newEvent('B', {})]);
        expect([first.nextExpectedRevision, second.nextExpectedRevision]).toEqual([0, 1]);
      });
    });

    it('8 parallel writers with exact revisions and retries append 400 events to one stream, none lost or doubled', async () => {
      const streamId = uniqueStream('contended');
      const writers = 8;
      const perWriter = 50;
      const ids = Array.from({ length: writers }, () => Array.from({ length: perWriter }, () => randomUUID()));

      const outcomes = (
        await Promise.all(
          ids.map(async (writerIds, w) => {
            const mine = [];
            for (const [i, eventId] of writerIds.entries()) {
              mine.push(await appendWithRetry(store, streamId, newEvent('Tick', { writer: w, i }, eventId)));
            }
            return mine;
          }),
        )
      ).flat();

      expect(outcomes.filter((o) => !o.landedAfterRead)).toEqual([]);
      expect(outcomes.reduce((sum, o) => sum + o.conflicts, 0)).toBeGreaterThan(0);

      const stream = await store.readStream(streamId);
      expect(stream).toHaveLength(writers * perWriter);
      expect(stream.map((e) => e.revision)).toEqual(Array.from({ length: 400 }, (_, i) => i));
      expect(new Set(stream.map((e) => e.eventId))).toEqual(new Set(ids.flat()));
      for (const [w] of ids.entries()) {
        const own = stream.filter((e) => (e.data as { writer: number }).writer === w).map((e) => (e.data as { i: number }).i);
        expect(own).toEqual(Array.from({ length: perWriter }, (_, i) => i));
      }
    }, 60_000);

    describe('event id dedup', () => {
      it('a retried append returns the original result and writes nothing, whatever expectedRevision says', async () => {
        const streamId = uniqueStream('plan');
        const events = [newEvent('PlanPurchased', { planId: 'p' }), newEvent('PlanActivated', { planId: 'p' })];
        const original = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        await store.appendToStream(streamId, [newEvent('PlanRenewed', {})], { expectedRevision: 1 });

        const retried = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        expect(retried).toEqual({ ...original, deduplicated: true });
        const again = await store.appendToStream(streamId, events, { expectedRevision: 'any' });
        expect(again).toEqual({ ...original, deduplicated: true });

        const stream = await store.readStream(streamId);
        expect(stream.map((e) => e.type)).toEqual(['PlanPurchased', 'PlanActivated', 'PlanRenewed']);
      });

      it('a partial overlap with stored ids is refused with DuplicateEventIdConflict and writes nothing', async () => {
        const streamId = uniqueStream('plan');
        const a = newEvent('A', {});
        const b = newEvent('B', {});
        await store.appendToStream(streamId, [a, b]);

        const c = newEvent('C', {});
        const error = await rejectionOf(store.appendToStream(streamId, [b, c], { expectedRevision: 1 }));
        expect(error).toBeInstanceOf(DuplicateEventIdConflict);
        expect((error as DuplicateEventIdConflict).eventIds).toEqual([b.eventId]);
        const reordered = await rejectionOf(store.appendToStream(streamId, [b, a]));
        expect(reordered).toBeInstanceOf(DuplicateEventIdConflict);

        expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual([a.eventId, b.eventId]);
      });
    });

    it('keeps one global order: positions strictly increase across streams, in append order', async () => {
      const [s1, s2, s3] = [uniqueStream('plan'), uniqueStream('device'), uniqueStream('claim')];
      const before = await store.headPosition();
      const appended: Array<{ streamId: string; eventId: string; position: bigint }> = [];
      for (const streamId of [s1, s2, s1, s3, s2, s1]) {
        const events = [newEvent('E', { streamId }), newEvent('E', { streamId })];
        const result = await store.appendToStream(streamId, events);
        events.forEach((e, i) => appended.push({ streamId, eventId: e.eventId, position: result.positions[i] }));
      }

      const ours = new Set([s1, s2, s3]);
      const log = (await store.readAll({ after: before })).filter((e) => ours.has(e.streamId));
      expect(log.map((e) => ({ streamId: e.streamId, eventId: e.eventId, position: e.position }))).toEqual(appended);
      for (let i = 1; i < log.length; i += 1) expect(log[i].position > log[i - 1].position).toBe(true);
      expect((await store.readStream(s1)).map((e) => e.position)).toEqual(
        appended.filter((a) => a.streamId === s1).map((a) => a.position),
      );
      expect(await store.headPosition()).toBeGreaterThanOrEqual(appended[appended.length - 1].position);
    });

    it('readAll({ after }) is exclusive and honours maxCount', async () => {
      const streamId = uniqueStream('ledger');
      const result = await store.appendToStream(
        streamId,
        Array.from({ length: 5 }, (_, i) => newEvent('Counted', { i })),
      );
      const [, second, third, fourth] = result.positions;

      const page = await store.readAll({ after: second, maxCount: 2 });
      expect(page.map((e) => e.position)).toEqual([third, fourth]);
      expect(page[0].streamId).toBe(streamId);
      expect((await store.readAll({ after: result.position })).filter((e) => e.streamId === streamId)).toEqual([]);
    });

    it('a subscription catches up from a position, then delivers live appends, and close() ends it', async () => {
      const streamId = uniqueStream('subscribed');
      const first = await store.appendToStream(streamId, [newEvent('Old', { n: 0 })]);
      const history = await store.appendToStream(streamId, [newEvent('Old', { n: 1 }), newEvent('Old', { n: 2 })]);

      const subscription: Subscription = store.subscribeToAll({ after: first.position, batchSize: 2 });
      const iterator = subscription[Symbol.asyncIterator]();
      const ours = (e: StoredEvent) => e.streamId === streamId;

      const caughtUp = await take(iterator, 2, ours);
      expect(caughtUp.map((e) => e.position)).toEqual(history.positions);

      const live = await store.appendToStream(streamId, [newEvent('New', { n: 3 }), newEvent('New', { n: 4 })]);
      const delivered = await take(iterator, 2, ours);
      expect(delivered.map((e) => [e.position, e.type, e.data])).toEqual([
        [live.positions[0], 'New', { n: 3 }],
        [live.positions[1], 'New', { n: 4 }],
      ]);

      const pending = iterator.next();
      await subscription.close();
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        pending,
        new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 2000))),
      ]);
      clearTimeout(timer);
      expect(ended).toEqual({ done: true, value: undefined });
    });

    it('a subscription that is closed while idle ends a for-await loop promptly', async () => {
      const subscription = store.subscribeToAll({ after: await store.headPosition() });
      const seen: StoredEvent[] = [];
      const loop = (async () => {
        for await (const event of subscription) seen.push(event);
        return 'ended';
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await subscription.close();
      await expect(loop).resolves.toBe('ended');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    describe('appends to several streams at once', () => {
      it('writes every part in order and answers one result per stream', async () => {
        const [device, plan] = [uniqueStream('device'), uniqueStream('plan')];
        await store.appendToStream(plan, [newEvent('PlanPurchased', {})]);
        const results = await store.append([
          { streamId: device, events: [newEvent('DeviceBoundToPlan', {})], expectedRevision: 'no_stream' },
          { streamId: plan, events: [newEvent('PlanBound', {}), newEvent('Granted', {})], expectedRevision: 0 },
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([0, 2]);
        expect(results[0].position < results[1].positions[0]).toBe(true);
        expect(results[1].positions[0] < results[1].positions[1]).toBe(true);
        expect((await store.readStream(plan)).map((e) => e.type)).toEqual(['PlanPurchased', 'PlanBound', 'Granted']);
      });

      it('a conflict on a later part: nothing is written when the store is atomic, the earlier parts otherwise', async () => {
        const [device, plan] = [uniqueStream('device'), uniqueStream('plan')];
        await store.appendToStream(plan, [newEvent('PlanPurchased', {})]);
        const error = await rejectionOf(
          store.append([
            { streamId: device, events: [newEvent('DeviceBoundToPlan', {})], expectedRevision: 'no_stream' },
            { streamId: plan, events: [newEvent('PlanBound', {})], expectedRevision: 'no_stream' },
          ]),
        );
        expect(error).toBeInstanceOf(ConcurrencyConflict);
        expect(error).toMatchObject({ streamId: plan });
        expect(await store.readStream(device)).toHaveLength(store.capabilities.atomicMultiStream ? 0 : 1);
        expect(await store.readStream(plan)).toHaveLength(1);
      });

      it('a retried multi-stream append deduplicates every part', async () => {
        const [device, plan] = [uniqueStream('device'), uniqueStream('plan')];
        const parts = [
          { streamId: device, events: [newEvent('DeviceBoundToPlan', {})], expectedRevision: 'no_stream' as const },
          { streamId: plan, events: [newEvent('PlanPurchased', {})], expectedRevision: 'no_stream' as const },
        ];
        const first = await store.append(parts);
        const again = await store.append(parts);
        expect(again).toEqual(first.map((r) => ({ ...r, deduplicated: true })));
      });
    });

    it('stamps recordedAt from the store, strictly increasing from one append to the next', async () => {
      const streamId = uniqueStream('clock');
      const stamps: number[] = [];
      for (let i = 0; i < 20; i += 1) stamps.push(Date.parse((await store.appendToStream(streamId, [newEvent('E', { i })])).recordedAt));
      for (let i = 1; i < stamps.length; i += 1) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]);
    });

    it('finds events by id when the store has a global id index', async () => {
      if (!store.capabilities.eventLookup) return;
      const streamId = uniqueStream('lookup');
      const events = [newEvent('A', { n: 1 }), newEvent('B', { n: 2 })];
      await store.appendToStream(streamId, events);
      const found = await store.readEvents([events[1].eventId, randomUUID(), events[0].eventId]);
      expect(found.map((e) => [e.eventId, e.streamId, e.revision])).toEqual([
        [events[0].eventId, streamId, 0],
        [events[1].eventId, streamId, 1],
      ]);
    });

    describe('the hash chain', () => {
      it('head() and hashAt() name the chain hash stored at a position', async () => {
        if (!store.capabilities.globalChain) return;
        const result = await store.appendToStream(uniqueStream('chain'), [newEvent('A', {}), newEvent('B', {})]);
        const head = await store.head();
        const [stored] = await store.readAll({ after: result.positions[1] - 1n, maxCount: 1 });
        expect(head.position).toBeGreaterThanOrEqual(result.position);
        expect(await store.hashAt(result.positions[1])).toBe(stored.hash);
        expect(await store.hashAt(head.position + 1000n)).toBeNull();
      });

      it('head() names the last event and its chain hash, which hashAt() gives back at that position', async () => {
        const result = await store.appendToStream(uniqueStream('head'), [newEvent('A', {}), newEvent('B', {})]);
        const head = await store.head();
        expect(head.position).toBeGreaterThanOrEqual(result.position);
        expect(head.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(await store.hashAt(head.position)).toBe(head.hash);
        const atFirst = await store.hashAt(result.positions[0]);
        expect(atFirst).toMatch(/^[0-9a-f]{64}$/);
        expect(atFirst).not.toBe(await store.hashAt(result.positions[1]));
        expect(await store.hashAt(head.position + 1_000_000n)).toBeNull();
      });

      it('verifies from the start, then incrementally from the point it reached', async () => {
        const streamId = uniqueStream('verify');
        await store.appendToStream(streamId, [newEvent('A', {}), newEvent('B', {})]);
        const full = await store.verifyIntegrity();
        expect(full).toMatchObject({ ok: true, firstBrokenPosition: null });
        await store.appendToStream(streamId, [newEvent('C', {})]);
        const next = await store.verifyIntegrity({ from: full.verifiedUpTo });
        expect(next.ok).toBe(true);
        expect(next.verifiedUpTo.position > full.verifiedUpTo.position).toBe(true);
        if (store.capabilities.globalChain) {
          expect(next.events).toBe(1);
          const forged = await store.verifyIntegrity({ from: { position: full.verifiedUpTo.position, hash: 'f'.repeat(64) } });
          expect(forged).toMatchObject({ ok: false, firstBrokenPosition: full.verifiedUpTo.position });
        }
      });
    });

    describe('records', () => {
      it('creates, compare-and-sets and lists records by key prefix', async () => {
        const prefix = `test:${randomUUID()}:`;
        expect(await store.records.get(`${prefix}a`)).toBeNull();
        expect(await store.records.put(`${prefix}a`, { n: 1 }, null)).toBe(1);
        await expect(store.records.put(`${prefix}a`, { n: 9 }, null)).rejects.toBeInstanceOf(ConcurrencyConflict);
        expect(await store.records.put(`${prefix}a`, { n: 2 }, 1)).toBe(2);
        await expect(store.records.put(`${prefix}a`, { n: 9 }, 1)).rejects.toBeInstanceOf(ConcurrencyConflict);
        expect(await store.records.get(`${prefix}a`)).toMatchObject({ key: `${prefix}a`, value: { n: 2 }, version: 2 });
        await store.records.put(`${prefix}c`, { n: 3 }, null);
        await store.records.put(`${prefix}b`, { n: 4 }, null);
        await store.records.put(`other:${randomUUID()}`, {}, null);
        expect((await store.records.list(prefix)).map((r) => r.key)).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`]);
        expect((await store.records.list(prefix, { after: `${prefix}a`, limit: 1 })).map((r) => r.value)).toEqual([{ n: 4 }]);
      });

      it('lets exactly one of several concurrent writers win a version', async () => {
        const key = `test:${randomUUID()}`;
        await store.records.put(key, { holder: null }, null);
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.records.put(key, { holder: i }, 1)));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason instanceof ConcurrencyConflict)).toBe(true);
      });
    });

    it('counts events between two positions when the adapter can (positions are not counts)', async () => {
      if (!store.eventsBetween) return;
      const result = await store.appendToStream(uniqueStream('count'), Array.from({ length: 4 }, (_, i) => newEvent('Counted', { i })));
      const [first, , , last] = result.positions;
      expect(await store.eventsBetween(first, last)).toEqual({ events: 3, capped: false });
      expect(await store.eventsBetween(first, last, { limit: 2 })).toEqual({ events: 2, capped: true });
      expect(await store.eventsBetween(last, first)).toEqual({ events: 0, capped: false });
    });

    it('reports itself reachable', async () => {
      expect(await store.ping()).toBe(true);
      expect(typeof store.kind).toBe('string');
    });
  });
}
