/**
 * The event-store port: the only way the rest of CareLedger touches stored events.
 * Adapters (SQLite, EventStoreDB) implement it; one contract suite checks every adapter.
 *
 * Conventions
 * - `revision` is the 0-based index of an event in its stream (the first event is revision 0),
 *   as in EventStoreDB. A stream's revision is the revision of its last event.
 * - `position` is the event's place in the global log: strictly increasing, not necessarily
 *   contiguous (EventStoreDB positions are byte offsets). Carried as bigint; printed as a string.
 * - `recordedAt` is stamped by the store when the append commits (ISO-8601 UTC, millisecond
 *   precision). Within one store it never goes backwards.
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
  /**
   * Tamper-evidence hash stamped by the store (sha256 hex). SQLite: a chain over the global log;
   * EventStoreDB: a chain per stream. Absent for stores that do not hash.
   */
  hash?: string;
}

export interface AppendOptions {
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

/** Result of walking the stored log and recomputing its hashes. */
export interface IntegrityReport {
  /** How many events were checked. */
  events: number;
  ok: boolean;
  /** The first event whose hash (or place in the chain) does not match; null when ok. */
  firstBrokenPosition: bigint | null;
}

export type IntegrityProgress = (progress: { events: number; position: bigint }) => void;

export interface SubscribeOptions {
  /** Exclusive start, as for readAll: pass the last position you processed. */
  after?: bigint | null;
  /** How many events to fetch per batch while catching up. */
  batchSize?: number;
}

/**
 * A catch-up-then-live subscription to the global log. It is pull-based: events are fetched only
 * as fast as the consumer iterates (back-pressure). `close()` ends the iteration.
 */
export interface Subscription extends AsyncIterable<StoredEvent> {
  close(): Promise<void>;
}

export abstract class EventStore {
  /** A short name for logs and health: 'sqlite' | 'eventstoredb'. */
  abstract readonly kind: string;

  abstract appendToStream(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /** Events of one stream in revision order (or reverse). A missing stream reads as empty. */
  abstract readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;

  /** The global log in position order. */
  abstract readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;

  abstract subscribeToAll(options?: SubscribeOptions): Subscription;

  /** The position of the last event in the global log (0n when empty). */
  abstract headPosition(): Promise<bigint>;

  /** Recompute the hash chain(s) over the whole log, in batches. */
  abstract verifyIntegrity(onProgress?: IntegrityProgress): Promise<IntegrityReport>;

  /** Is the store reachable? Used by /health. */
  abstract ping(): Promise<boolean>;

  abstract close(): Promise<void>;
}

/** The stream was not at the expected revision. */
export class ConcurrencyConflict extends Error {
  readonly code = 'ConcurrencyConflict';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
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
