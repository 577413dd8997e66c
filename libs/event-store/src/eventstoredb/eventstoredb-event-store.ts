import {
  BACKWARDS,
  convertToCommandError,
  END,
  ErrorType,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  isCommandError,
  jsonEvent,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import {
  type AppendOptions,
  type AppendResult,
  type ChainPoint,
  type Clock,
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  EventStore,
  type ExpectedRevision,
  type IntegrityReport,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoreCapabilities,
  type StoredEvent,
  type StoredRecord,
  StoreRecords,
  type StreamAppend,
  type VerifyOptions,
  type StoredMetadata,
  StoreUnavailable,
  type SubscribeOptions,
  type Subscription,
  systemClock,
} from '../port';
import { canonicalJson, chainHash, GENESIS_HASH } from '../hash';

/*
 * Differences from the SQLite adapter, forced by EventStoreDB:
 * - Positions are $all commit positions (byte offsets): increasing, not contiguous. A gRPC append
 *   writes one prepare per event with commit == prepare, so the port's single bigint is enough and
 *   is turned back into { commit: p, prepare: p } when reading from a position.
 * - The hash chain is per stream, not global: EventStoreDB assigns positions after we send the
 *   events, so a global chain cannot be computed by a writer. Each event carries in its metadata
 *   `hash` = sha256(previous event's hash in the same stream, or the genesis string, + content).
 *   verifyIntegrity re-reads $all and checks every stream's chain and revision sequence. Removing
 *   the last events of a stream, or a whole stream, is not detectable this way.
 * - To keep each chain linear, every append is sent with the exact revision the adapter just read
 *   (NO_STREAM or a bigint); 'any' and 'stream_exists' are checked here and retried on a race.
 * - Event-id dedup covers ids already in the same stream (the adapter reads the stream before
 *   appending; CareLedger streams are small). An id stored in ANOTHER stream is not detected:
 *   EventStoreDB has no global index by event id. Event ids must be UUIDs.
 * - recordedAt comes from this process's clock, never going backwards within this instance; two
 *   processes writing to one server are ordered by position, not by recordedAt.
 */

export interface EventStoreDbEventStoreOptions {
  /** esdb://host:2113?tls=false (see notes/eventstoredb-client.md). */
  connectionString: string;
  clock?: Clock;
}

const MAX_APPEND_ATTEMPTS = 10;
const READ_ALL_PAGE = 1000;
const PING_STREAM = 'careledger-health-ping';

type RawEvent = {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  isJson: boolean;
  position?: Position;
};

function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

function toStoredEvent(raw: RawEvent | undefined): StoredEvent | null {
  if (!raw || isSystem(raw)) return null;
  const { hash, ...metadata } = (raw.metadata ?? {}) as Record<string, unknown>;
  const event: StoredEvent = {
    eventId: raw.id,
    type: raw.type,
    streamId: raw.streamId,
    revision: Number(raw.revision),
    // Stream reads carry positions on servers >= 22.6; -1n marks an unknown position.
    position: raw.position?.commit ?? -1n,
    data: raw.data,
    metadata: metadata as unknown as StoredMetadata,
  };
  if (typeof hash === 'string') event.hash = hash;
  return event;
}

function streamHash(
  previousHash: string,
  e: { streamId: string; revision: number; eventId: string; type: string; data: unknown; metadata: unknown },
): string {
  return chainHash(previousHash, [
    e.streamId,
    e.revision,
    e.eventId,
    e.type,
    canonicalJson(e.data),
    canonicalJson(e.metadata),
  ]);
}

function matchesExpected(expected: ExpectedRevision, current: number | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  if (expected === 'stream_exists') return current !== null;
  return current === expected;
}

const UNAVAILABLE_TYPES = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
  ErrorType.NOT_LEADER,
]);

/** Vendor errors -> the port's. appendToStream rejects with a raw gRPC error (code 14) when down. */
function translateError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof ConcurrencyConflict || error instanceof DuplicateEventIdConflict) return error;
  if (error instanceof StoreUnavailable) return error;
  const converted = isCommandError(error) ? error : convertToCommandError(error);
  if (isCommandError(converted) && UNAVAILABLE_TYPES.has(converted.type)) {
    return new StoreUnavailable(`EventStoreDB unavailable: ${converted.message}`, error);
  }
  const code = (error as { code?: unknown }).code;
  if (code === 14 || code === 4) return new StoreUnavailable(`EventStoreDB unavailable: ${error.message}`, error);
  return converted;
}

function toReadPosition(after: bigint | null | undefined): ReadPosition {
  return after === undefined || after === null ? START : { commit: after, prepare: after };
}

/** Interim: records on EventStoreDB are not written yet (see the EventStoreDB issue). */
class UnsupportedRecords extends StoreRecords {
  async get<V>(): Promise<StoredRecord<V> | null> {
    throw new StoreUnavailable('records are not implemented on EventStoreDB yet');
  }
  async put(): Promise<number> {
    throw new StoreUnavailable('records are not implemented on EventStoreDB yet');
  }
  async list<V>(): Promise<StoredRecord<V>[]> {
    throw new StoreUnavailable('records are not implemented on EventStoreDB yet');
  }
}

export class EventStoreDbEventStore extends EventStore {
  readonly kind = 'eventstoredb';
  readonly capabilities: StoreCapabilities = { atomicMultiStream: false, globalChain: false, eventLookup: false };
  readonly records: StoreRecords = new UnsupportedRecords();
  private lastRecordedAtMs = Number.NEGATIVE_INFINITY;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** One stream after the other: EventStoreDB has no multi-stream transaction. */
  async append(appends: StreamAppend[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const a of appends) results.push(await this.appendOne(a.streamId, a.events, { expectedRevision: a.expectedRevision }));
    return results;
  }

  async readEvents(): Promise<StoredEvent[]> {
    throw new StoreUnavailable('EventStoreDB has no global index by event id');
  }

  async head(): Promise<ChainPoint> {
    return { position: await this.headPosition(), hash: '' };
  }

  async hashAt(): Promise<string | null> {
    return null;
  }

  private async appendOne(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
    const expected = options.expectedRevision ?? 'any';
    const ids = events.map((e) => e.eventId);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) throw new DuplicateEventIdConflict(streamId, repeated);

    let lastConflict: WrongExpectedVersionError | undefined;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const stream = await this.readStream(streamId);
      const duplicate = this.alreadyAppended(streamId, stream, ids);
      if (duplicate) return duplicate;
      const last = stream.length > 0 ? stream[stream.length - 1] : null;
      const current = last ? last.revision : null;
      if (!matchesExpected(expected, current)) throw new ConcurrencyConflict(streamId, expected, current ?? 'no_stream');

      const recordedAt = this.stampRecordedAt();
      let previousHash = last?.hash ?? GENESIS_HASH;
      const payload = events.map((e, i) => {
        const metadata = { ...e.metadata, recordedAt };
        const hash = streamHash(previousHash, {
          streamId,
          revision: (current ?? -1) + 1 + i,
          eventId: e.eventId,
          type: e.type,
          data: e.data,
          metadata,
        });
        previousHash = hash;
        return jsonEvent({ id: e.eventId, type: e.type, data: e.data as JSONType, metadata: { ...metadata, hash } });
      });
      const expectedRevision: AppendExpectedRevision = current === null ? NO_STREAM : BigInt(current);
      let result;
      try {
        result = await this.client.appendToStream(streamId, payload, { expectedRevision });
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw translateError(error);
        // Someone appended between our read and our write (or this is a retry whose first try
        // committed): the next read decides between dedup, ConcurrencyConflict, and a retry.
        lastConflict = error;
        continue;
      }
      const nextExpectedRevision = Number(result.nextExpectedRevision);
      const positions = await this.positionsOf(streamId, nextExpectedRevision, events.length, result.position?.commit);
      return { nextExpectedRevision, position: positions[positions.length - 1], positions, recordedAt, deduplicated: false };
    }
    const actual = lastConflict?.actualVersion;
    throw new ConcurrencyConflict(streamId, expected, typeof actual === 'bigint' ? Number(actual) : 'no_stream');
  }

  /** The original result when every id is already in this stream, in order; throws on a partial match. */
  private alreadyAppended(streamId: string, stream: StoredEvent[], ids: string[]): AppendResult | null {
    const byId = new Map(stream.map((e) => [e.eventId, e]));
    const found = ids.map((id) => byId.get(id)).filter((e): e is StoredEvent => e !== undefined);
    if (found.length === 0) return null;
    const inOrder = found.length === ids.length && found.every((e, i) => e.revision === found[0].revision + i);
    if (!inOrder) throw new DuplicateEventIdConflict(streamId, found.map((e) => e.eventId));
    const last = found[found.length - 1];
    return {
      nextExpectedRevision: last.revision,
      position: last.position,
      positions: found.map((e) => e.position),
      recordedAt: last.metadata.recordedAt,
      deduplicated: true,
    };
  }

  /** The append result carries only the last event's position; earlier ones are read back. */
  private async positionsOf(
    streamId: string,
    lastRevision: number,
    count: number,
    lastPosition: bigint | undefined,
  ): Promise<bigint[]> {
    if (count === 1 && lastPosition !== undefined) return [lastPosition];
    const appended = await this.readStream(streamId, { fromRevision: lastRevision - count + 1, maxCount: count });
    const positions = appended.map((e) => e.position);
    if (lastPosition !== undefined) positions[positions.length - 1] = lastPosition;
    return positions;
  }

  private stampRecordedAt(): string {
    const ms = Math.max(this.clock.now().getTime(), this.lastRecordedAtMs + 1);
    this.lastRecordedAtMs = ms;
    return new Date(ms).toISOString();
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    if (options.maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision;
    const fromRevision: ReadRevision =
      from === undefined ? (backwards ? END : START) : from === 'start' ? START : from === 'end' ? END : BigInt(from);
    const events: StoredEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision,
        maxCount: options.maxCount,
      });
      for await (const resolved of read) {
        const event = toStoredEvent(resolved.event as RawEvent | undefined);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw translateError(error);
    }
    return events;
  }

  /** Pages through $all; fromPosition is inclusive there, so `after` itself is skipped. */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const events: StoredEvent[] = [];
    let after = options.after ?? null;
    while (events.length < wanted) {
      const page = await this.readAllPage(after, READ_ALL_PAGE);
      for (const raw of page) {
        const event = toStoredEvent(raw);
        if (event && events.length < wanted) events.push(event);
      }
      if (page.length < READ_ALL_PAGE) break;
      after = page[page.length - 1].position!.commit;
    }
    return events;
  }

  /** One page of $all after a position, system events included (callers filter). */
  private async readAllPage(after: bigint | null, maxCount: number): Promise<RawEvent[]> {
    const page: RawEvent[] = [];
    try {
      for await (const resolved of this.client.readAll({ fromPosition: toReadPosition(after), maxCount: maxCount + 1 })) {
        const raw = resolved.event as RawEvent | undefined;
        if (!raw?.position) continue;
        if (after !== null && raw.position.commit <= after) continue;
        if (page.length < maxCount) page.push(raw);
      }
    } catch (error) {
      throw translateError(error);
    }
    return page;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const batchSize = options.batchSize ?? 500;
    const after = options.after ?? null;
    const client = this.client;
    let closed = false;
    let live: AllStreamSubscription | null = null;
    let unsubscribed = false;
    const stop = async () => {
      if (!live || unsubscribed) return;
      unsubscribed = true;
      await live.unsubscribe().catch(() => undefined);
      live.destroy();
    };

    async function* deliver(): AsyncGenerator<StoredEvent> {
      if (closed) return;
      // Start position is exclusive for subscriptions; highWaterMark bounds what is read ahead.
      live = client.subscribeToAll(
        { fromPosition: toReadPosition(after), filter: excludeSystemEvents() },
        { highWaterMark: batchSize },
      );
      try {
        for await (const resolved of live) {
          if (closed) return;
          const event = toStoredEvent(resolved.event as RawEvent | undefined);
          if (event && (after === null || event.position > after)) yield event;
        }
      } catch (error) {
        if (!closed) throw translateError(error);
      } finally {
        await stop();
      }
    }

    let iterator: AsyncGenerator<StoredEvent> | undefined;
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => (iterator ??= deliver()),
      close: async () => {
        closed = true;
        this.subscriptions.delete(subscription);
        await stop();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    let from: ReadPosition = END;
    for (;;) {
      const page: RawEvent[] = [];
      try {
        for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: 100 })) {
          if (resolved.event) page.push(resolved.event as RawEvent);
        }
      } catch (error) {
        throw translateError(error);
      }
      const user = page.find((e) => !isSystem(e) && e.position);
      if (user) return user.position!.commit;
      const oldest = page[page.length - 1]?.position;
      if (page.length < 100 || !oldest) return 0n;
      from = oldest;
    }
  }

  async verifyIntegrity(options: VerifyOptions = {}): Promise<IntegrityReport> {
    const onProgress = options.onProgress;
    let verified: ChainPoint = { position: 0n, hash: '' };
    // One entry per stream: memory grows with the number of streams, not of events.
    const chains = new Map<string, { revision: number; hash: string }>();
    let events = 0;
    let after: bigint | null = null;
    for (;;) {
      const page = await this.readAllPage(after, READ_ALL_PAGE);
      for (const raw of page) {
        const event = toStoredEvent(raw);
        if (!event) continue;
        events += 1;
        const chain = chains.get(event.streamId) ?? { revision: -1, hash: GENESIS_HASH };
        const expected = streamHash(chain.hash, event);
        if (event.revision !== chain.revision + 1 || event.hash !== expected) {
          return { events, ok: false, firstBrokenPosition: event.position, verifiedUpTo: verified };
        }
        chains.set(event.streamId, { revision: event.revision, hash: expected });
        verified = { position: event.position, hash: expected };
      }
      if (page.length > 0) {
        after = page[page.length - 1].position!.commit;
        onProgress?.({ events, position: after });
      }
      if (page.length < READ_ALL_PAGE) return { events, ok: true, firstBrokenPosition: null, verifiedUpTo: verified };
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.readStream(PING_STREAM, { maxCount: 1 });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    for (const subscription of [...this.subscriptions]) await subscription.close();
    await this.client.dispose();
  }
}

export function openEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStoreDbEventStore {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  return new EventStoreDbEventStore(client, options.clock ?? systemClock);
}
