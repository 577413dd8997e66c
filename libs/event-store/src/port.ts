/**
 * The event-store port: the only way the rest of CareLedger touches stored events.
 * Adapters (SQLite, PostgreSQL, EventStoreDB) implement it; one contract suite checks every adapter.
 *
 * Conventions
 * - `revision` is the 0-based index of an event in its stream (the first event is revision 0),
 *   as in EventStoreDB. A stream's revision is the revision of its last event.
 * - `position` is the event's place in the global log: strictly increasing, not necessarily
 *   contiguous. Carried as bigint; printed as a string. Positions are NOT event counts: on
 *   EventStoreDB they are byte offsets in the transaction log (an event moves the position by its
 *   size, hundreds of bytes), so `head - checkpoint` is bytes, not "events behind", and
 *   `Number(position)` is no progress count. Compare positions; never subtract them to count
 *   events: use `eventsBetween` when the adapter has it (optional), or count the events you read.
 *   -1n means "unknown" (a store that could not tell an event's position).
 * - `recordedAt` is stamped by the store when the append commits (ISO-8601 UTC, millisecond
 *   precision), from the store's clock where it has one (PostgreSQL, EventStoreDB); every event of
 *   one append carries the same value. Within one store it strictly increases from one append to
 *   the next. EventStoreDB stamps it with the leader's clock: an append started after another was
 *   acknowledged gets a later value, but appends in flight at the same moment may share a
 *   millisecond, and a leader change can step it back by the clock difference between nodes;
 *   order events by position, not by recordedAt.
 * - Every event carries a chain hash. Stores with a global chain (SQLite, PostgreSQL) hash each
 *   event over the one before it in the global log; see `capabilities`.
 */

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface EventMetadata {
  /** When the fact happened in the world (business time), ISO-8601 with offset, or a date. */
  occurredAt: string;
  /** Who caused it: the authenticated actor (token name or role), or a system process. */
  actor: string;
  /** The request (or process run) this event belongs to. */
  correlationId: string;
  /** The event or command that caused this one, when there is one. */
  causationId?: string | null;
  /**
   * The decision this event records (set by the ledger): on a command's primary event, the whole
   * decision (command, token, key, request hash, answer); on its other events, `{ id }` only.
   */
  decision?: Record<string, unknown> | null;
}

export interface StoredMetadata extends EventMetadata {
  /** When the store committed the event (ISO-8601 UTC, ms precision). */
  recordedAt: string;
}

export interface NewEvent<T extends string = string, D = unknown> {
  /** A UUID. Appending an event id that is already stored is a no-op (see AppendResult). */
  eventId: string;
  type: T;
  data: D;
  metadata: EventMetadata;
}

export interface StoredEvent<T extends string = string, D = unknown> {
  eventId: string;
  type: T;
  streamId: string;
  revision: number;
  position: bigint;
  data: D;
  metadata: StoredMetadata;
  /** Tamper-evidence hash stamped by the store (sha256 hex); see `capabilities.globalChain`. */
  hash?: string;
  /**
   * The metadata text the hash covers, when it is not the canonical metadata without recordedAt
   * (events appended before that rule: SQLite schema 2 and earlier kept recordedAt inside).
   * See `hashedMetadataOf` in hash.ts.
   */
  hashedMetadata?: string;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

/** One stream's part of an append. */
export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
  /** Default 'any'. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** The stream's revision after the append (the last appended event's revision). */
  nextExpectedRevision: number;
  /** Global position of the last event of this append. */
  position: bigint;
  /** Global positions of the appended events, in order. */
  positions: bigint[];
  /** recordedAt of the appended events (one commit, so one value). */
  recordedAt: string;
  /** True when every event id was already stored (a retried append): nothing was written. */
  deduplicated: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards default: 0; backwards default: the end. */
  fromRevision?: number | 'start' | 'end';
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position strictly greater than this. Default: from the start. */
  after?: bigint | null;
  maxCount?: number;
}

/** A place in the hash chain: an event's position and its hash (position 0n: the empty log). */
export interface ChainPoint {
  position: bigint;
  hash: string;
}

/** Result of walking the stored log and recomputing its hashes. */
export interface IntegrityReport {
  /** How many events were checked (by this walk; an incremental walk starts after `from`). */
  events: number;
  ok: boolean;
  /** The first event whose hash (or place in the chain) does not match; null when ok. */
  firstBrokenPosition: bigint | null;
  /** The last event checked and found sound (the `from` point when nothing new was checked). */
  verifiedUpTo: ChainPoint;
}

export type IntegrityProgress = (progress: { events: number; position: bigint }) => void;

export interface VerifyOptions {
  /**
   * Continue a chain verified earlier: the walk starts after `from.position` and first checks that
   * the log still holds `from.hash` there. Default: from the start of the log.
   */
  from?: ChainPoint | null;
  onProgress?: IntegrityProgress;
}

export interface SubscribeOptions {
  /** Exclusive start, as for readAll: pass the last position you processed. */
  after?: bigint | null;
  /** How many events to fetch per batch while catching up. */
  batchSize?: number;
}

/**
 * A catch-up-then-live subscription to the global log. It is pull-based: events are fetched only
 * as fast as the consumer iterates (back-pressure). `close()` ends the iteration. A subscription
 * whose connection drops rejects its pending `next()`; the caller resubscribes from its checkpoint.
 */
export interface Subscription extends AsyncIterable<StoredEvent> {
  close(): Promise<void>;
}

export interface StoreCapabilities {
  /** `append` of several streams commits all or nothing (SQLite, PostgreSQL). */
  atomicMultiStream: boolean;
  /** One hash chain over the global log (SQLite, PostgreSQL); otherwise one per stream. */
  globalChain: boolean;
  /** `readEvents` finds events by id in the whole log (a unique index). */
  eventLookup: boolean;
}

/** A small versioned record kept beside the log (leases, webhook state, signed checkpoints). */
export interface StoredRecord<V = unknown> {
  key: string;
  value: V;
  /** 1 for a new record, +1 on every put. */
  version: number;
  /** When the store last wrote it (ISO-8601 UTC). */
  updatedAt: string;
}

/**
 * Durable state that is not a fact of the domain and must be shared by every node: what a webhook
 * has delivered, who holds a lease, the signed checkpoints. Compare-and-set by version.
 */
export abstract class StoreRecords {
  abstract get<V = unknown>(key: string): Promise<StoredRecord<V> | null>;
  /**
   * Writes a record: `expectedVersion` null creates it (ConcurrencyConflict when it exists), a
   * number replaces version `expectedVersion` (ConcurrencyConflict when it moved). Returns the new version.
   */
  abstract put(key: string, value: unknown, expectedVersion: number | null): Promise<number>;
  /** Records whose key starts with `prefix`, in key order, after `after` (exclusive). */
  abstract list<V = unknown>(prefix: string, options?: { after?: string; limit?: number }): Promise<StoredRecord<V>[]>;
}

export abstract class EventStore {
  /** A short name for logs and health: 'sqlite' | 'postgres' | 'eventstoredb'. */
  abstract readonly kind: string;
  abstract readonly capabilities: StoreCapabilities;
  abstract readonly records: StoreRecords;

  /**
   * Appends to one or more streams, each at its expected revision, in the order given. With
   * `capabilities.atomicMultiStream` they commit together or not at all (one durable commit);
   * otherwise one after the other, and a failure leaves the earlier ones written. Results come in
   * the order of `appends`.
   */
  abstract append(appends: StreamAppend[]): Promise<AppendResult[]>;

  async appendToStream(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.append([{ streamId, events, expectedRevision: options.expectedRevision }]);
    return result;
  }

  /** Events of one stream in revision order (or reverse). A missing stream reads as empty. */
  abstract readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;

  /** The global log in position order. */
  abstract readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;

  /** Events by id, in position order; ids not stored are left out. Needs `capabilities.eventLookup`. */
  abstract readEvents(eventIds: readonly string[]): Promise<StoredEvent[]>;

  abstract subscribeToAll(options?: SubscribeOptions): Subscription;

  /** The position of the last event in the global log (0n when empty). */
  abstract headPosition(): Promise<bigint>;

  /**
   * Optional: how many events lie in (after, upTo], counting at most `limit` (adapter default);
   * `capped` says the count stopped there. For progress and "events behind" figures, since
   * positions are not counts. It may read the range (EventStoreDB): keep the range or the limit small.
   */
  eventsBetween?(after: bigint, upTo: bigint, options?: { limit?: number }): Promise<{ events: number; capped: boolean }>;

  /** The last event's position and chain hash (`{ 0n, GENESIS_HASH }` when empty). */
  abstract head(): Promise<ChainPoint>;

  /** The chain hash stored at a position, or null when the log holds no event there. */
  abstract hashAt(position: bigint): Promise<string | null>;

  /** Recompute the hash chain(s), from the start or from a point verified before. */
  abstract verifyIntegrity(options?: VerifyOptions): Promise<IntegrityReport>;

  /** Is the store reachable? Used by readiness. */
  abstract ping(): Promise<boolean>;

  abstract close(): Promise<void>;
}

/** The stream was not at the expected revision (or a record not at its expected version). */
export class ConcurrencyConflict extends Error {
  readonly code = 'ConcurrencyConflict';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision | null,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'ConcurrencyConflict';
  }
}

/** Some (not all) of the appended event ids are already stored, or stored in another stream. */
export class DuplicateEventIdConflict extends Error {
  readonly code = 'DuplicateEventId';
  constructor(readonly streamId: string, readonly eventIds: string[]) {
    super(`stream ${streamId}: event ids already stored elsewhere or in part: ${eventIds.join(', ')}`);
    this.name = 'DuplicateEventIdConflict';
  }
}

/** The store could not be reached or answered with an error that is not the caller's fault. */
export class StoreUnavailable extends Error {
  readonly code = 'StoreUnavailable';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailable';
  }
}

/** Raised by integrity checks when the log was modified behind the store's back. */
export class IntegrityViolation extends Error {
  readonly code = 'IntegrityViolation';
  constructor(message: string, readonly position?: bigint) {
    super(message);
    this.name = 'IntegrityViolation';
  }
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
