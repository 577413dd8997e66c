import { randomUUID } from 'node:crypto';
import {
  AccessDeniedError,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  InvalidArgumentError,
  isCommandError,
  jsonEvent,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  StreamDeletedError,
  streamNameFilter,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type AppendResult as ClientAppendResult,
  type EventData,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import {
  type AppendResult,
  type ChainPoint,
  type Clock,
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  EventStore,
  type ExpectedRevision,
  type IntegrityReport,
  IntegrityViolation,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoreCapabilities,
  type StoredEvent,
  type StoredMetadata,
  StoreRecords,
  StoreUnavailable,
  type StreamAppend,
  type SubscribeOptions,
  type Subscription,
  type VerifyOptions,
} from '../port';
import { canonicalJson, chainHash, GENESIS_HASH } from '../hash';
import { bounded, collectRead, type CancellableRead, sleep } from './bounded-read';
import { EventStoreDbRecords } from './eventstoredb-records';
import { ROLLING_GENESIS, RollingIndex, rollingHash } from './rolling-index';

/*
 * EventStoreDB adapter (client @eventstore/db-client 6.2.1; EventStoreDB 24.10, KurrentDB 25.x via
 * esdb://). What differs from the SQLite adapter, and why:
 *
 * Which streams are CareLedger's. $all holds every stream on the node. The adapter only reads,
 * subscribes to, hashes and verifies streams whose names start with one of `streamPrefixes`
 * (default CARELEDGER_STREAM_PREFIXES); the subscription filters on the server (streamNameFilter),
 * $all reads filter here (client 6.x sends reads with no filter). Appending to a stream outside the
 * prefixes is refused (TypeError): it would never reach the projections. Records streams, the
 * records index and the ping stream must lie outside the prefixes (checked at construction).
 *
 * Positions are $all commit positions: byte offsets, increasing, not contiguous. Never subtract
 * them to count events (`eventsBetween` counts). A gRPC append writes commit == prepare, so one
 * bigint is enough. The client's "unknown position" (2^64-1) is returned as -1n.
 *
 * recordedAt is the server's clock: the `created` timestamp EventStoreDB gives the FIRST event of
 * the append (every event of one append gets that value, so an append has one recordedAt, as the
 * port says). Each event's metadata carries `careledger.index`, its place in its append, so a
 * reader finds the first event at revision - index (usually in the same batch, else one read of
 * one event, cached). The writer's clock is not used. The server stamps each event with its own
 * DateTime.UtcNow at millisecond precision here, so: an append answered by this adapter returns
 * only once the server clock has passed the millisecond of its commit (a 1 ms pause when the round
 * trip was quicker), so an append that starts after another one was acknowledged gets a strictly
 * later recordedAt; appends in flight at the same time can share a millisecond (order them by
 * position); after a leader change the new leader's clock may be behind the old one's.
 *
 * Per-stream chain. EventStoreDB assigns positions after the write, so no writer can compute a
 * global chain. Each event carries in its metadata `careledger.hash` = chainHash(previous event's
 * hash in the stream, or the genesis string; streamId, revision, eventId, type, data, the metadata
 * the caller gave, the append's nonce and the index). recordedAt is not in it (the writer cannot
 * know the server's time); the rolling hash below covers it. The previous hash comes from what
 * this instance last read or wrote of the stream (the ledger reads a stream before appending to
 * it), so an append with an exact revision goes straight to the server; the stream is read only on
 * WrongExpectedVersion, an unknown outcome, or a stream this instance has not seen at that revision
 * (then only its tail from the expected revision).
 *
 * Rolling global hash. head(), hashAt() and verifyIntegrity() use a hash rolled over CareLedger's
 * events in $all order (`rollingHash`, the same formula as the stores with a stored chain): the
 * same events give the same hash on any node, so a checkpoint (position, hash) anchors the log.
 * Nothing stores it: the instance computes it by reading the filtered $all once and continues
 * incrementally (RollingIndex); verifyIntegrity({ from }) first checks the log still has `from`.
 *
 * Dedup and unknown outcomes. The server drops a re-append of the same ids at the same exact
 * revision (durably, IndexWriter.CheckCommit). Each append carries a random nonce
 * (`careledger.append`): reading back the events tells whether THIS call wrote them (deduplicated
 * false) or an earlier one did (true). An append that times out, is cancelled or loses its
 * connection may have committed: it is re-sent once, identical (same ids, nonce, hashes, exact
 * revision), which either writes it, finds it written, or conflicts; if that is unknown too, the
 * caller gets StoreUnavailable saying the outcome is unknown. Ids stored BEFORE the expected
 * revision are found when this instance holds the stream's ids (it read the whole stream or wrote
 * it); otherwise EventStoreDB's rule applies (ids compared only after the expected revision).
 * 'any' and 'stream_exists' read the whole stream (dedup over all its ids), then append at the
 * exact revision read, retrying on a race for up to `anyRetryBudgetMs` (then StoreUnavailable,
 * never ConcurrencyConflict). There is no global id index (capabilities.eventLookup false).
 *
 * Multi-stream appends are one stream after the other (capabilities.atomicMultiStream false): a
 * crash or failure between two parts leaves the earlier parts written. The ledger must treat such
 * a command as written in part and complete it by retrying with the same event ids.
 *
 * Timeouts. Client 6.2.1 reads have no deadline: every read here has an idle timeout of its own
 * (`readTimeoutMs`, cancel + StoreUnavailable); appends carry `appendTimeoutMs` as their gRPC
 * deadline and a timer of our own on top.
 *
 * Subscriptions: a dropped $all subscription (server restart, leader change, network, "consumer
 * too slow") REJECTS the pending next() with StoreUnavailable naming the last delivered position,
 * and is unregistered; the adapter does not resume it behind the caller's back, because the caller
 * owns the checkpoint (the projection runner resubscribes from it and reports the gap in readiness).
 * A server that ends the subscription without an error is treated the same way.
 *
 * Soft-deleted streams read as empty on EventStoreDB while the server continues their revisions.
 * A read that finds no stream checks its metadata stream ($$stream); a soft-deleted CareLedger
 * stream refuses appends (IntegrityViolation). A hard-deleted (tombstoned) one refuses them too.
 *
 * Records (StoreRecords): one stream per record, `<recordStreamPrefix><key>`, version = revision
 * + 1, compare-and-set by exact expected revision, `$maxCount` metadata keeping the last few
 * versions; an index stream lists the keys (written before the record is created, so every record
 * is listed; a key whose record was never created is skipped by list()).
 */

/**
 * CareLedger's stream categories on EventStoreDB: the streams the log consists of. Extend this list
 * when the domain adds a category (an append outside it is refused, so a new category fails loudly
 * instead of silently missing the projections).
 */
export const CARELEDGER_STREAM_PREFIXES: readonly string[] = Object.freeze([
  'device-',
  'plan-',
  'service-center-',
  'refusal-',
  'decision-',
]);

export const DEFAULT_RECORD_STREAM_PREFIX = 'careledger-record-';
export const DEFAULT_RECORD_INDEX_STREAM = 'careledger-records';
const PING_STREAM = 'careledger-health-ping';

const READ_ALL_PAGE = 1000;
const HEAD_PAGE = 200;
const TIP_LIMIT = 1000;
const TIP_IDS_LIMIT = 1000;
const ANCHOR_LIMIT = 20_000;
const APPEND_TIMER_GRACE_MS = 1000;
const U64_MAX = (1n << 64n) - 1n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHAIN_VERSION = 'esdb-stream-v1';

export interface EventStoreDbTuning {
  /** Stream-name prefixes of CareLedger's log. Default CARELEDGER_STREAM_PREFIXES. */
  streamPrefixes?: readonly string[];
  /** Where records live. Both must lie outside `streamPrefixes`. */
  records?: { streamPrefix?: string; indexStream?: string; keepVersions?: number };
  /** A read that receives nothing for this long is cancelled (StoreUnavailable). Default 10000. */
  readTimeoutMs?: number;
  /** gRPC deadline of an append; a timer of our own fires 1 s later. Default 10000. */
  appendTimeoutMs?: number;
  /** Default 2000. */
  pingTimeoutMs?: number;
  /** Pause before re-sending an append whose outcome is unknown. Default 250. */
  settleDelayMs?: number;
  /** How long 'any'/'stream_exists' appends keep retrying a moving stream. Default 10000. */
  anyRetryBudgetMs?: number;
  /** The connection string the client was made from (for error messages: tls). */
  connectionString?: string;
  /** Not used: EventStoreDB stamps recordedAt with the server's clock. Accepted for callers that pass one. */
  clock?: Clock;
}

export interface EventStoreDbEventStoreOptions extends EventStoreDbTuning {
  /** esdb://host:2113?tls=false for an insecure node (see docs/eventstoredb.md). */
  connectionString: string;
}

/** The client calls the adapter makes (a test stand-in implements just these). */
export type EventStoreDbClientCalls = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'setStreamMetadata' | 'dispose'
>;

type RawEvent = {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  isJson: boolean;
  created?: Date;
  position?: Position;
};

type Resolved = { event?: RawEvent; commitPosition?: bigint };

/** What the adapter keeps in each event's metadata besides the caller's metadata. */
interface ChainFields {
  v: 1;
  hash: string;
  /** A nonce per append call: tells a write by this call from an earlier one with the same ids. */
  append: string;
  /** Place of the event in its append (0 = the first, whose `created` is the append's recordedAt). */
  index: number;
}

/** An event as read, with the chain fields the port's StoredEvent does not show. */
interface LoggedEvent {
  event: StoredEvent;
  chain: ChainFields | null;
  /** The metadata the writer gave (without recordedAt and chain fields), as hashed. */
  written: Record<string, unknown>;
}

/** What this instance knows of a stream's end: from its last full/tail read or its own append. */
interface StreamTip {
  revision: number;
  hash: string | null;
  /** Every event id of the stream with its revision, when the stream was read whole (small streams). */
  ids: Map<string, number> | null;
  deleted?: boolean;
}

interface PreparedPart {
  streamId: string;
  events: NewEvent[];
  expected: ExpectedRevision;
}

type SendOutcome =
  | { kind: 'ok'; result: ClientAppendResult; ackedAt: number }
  | { kind: 'conflict'; error: WrongExpectedVersionError }
  | { kind: 'unknown'; error: unknown };

class RetryAtCurrent extends Error {}

function key(streamId: string, revision: number): string {
  return `${streamId}\u0000${revision}`;
}

function isSystem(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** The client's "no position" (2^64-1, e.g. stream reads on old servers) becomes -1n. */
export function normalisePosition(position: Position | undefined): bigint {
  if (!position || position.commit === U64_MAX || position.commit < 0n) return -1n;
  return position.commit;
}

function toReadPosition(after: bigint | null | undefined): ReadPosition {
  return after === undefined || after === null || after <= 0n ? START : { commit: after, prepare: after };
}

function splitMetadata(metadata: unknown): { written: Record<string, unknown>; chain: ChainFields | null } {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Uint8Array) {
    return { written: {}, chain: null };
  }
  const { careledger, ...written } = metadata as Record<string, unknown>;
  const c = careledger as Partial<ChainFields> | undefined;
  const chain =
    c && c.v === 1 && typeof c.hash === 'string' && typeof c.append === 'string' && Number.isInteger(c.index) && (c.index as number) >= 0
      ? (c as ChainFields)
      : null;
  return { written, chain };
}

function streamLinkHash(
  previousHash: string,
  e: { streamId: string; revision: number; eventId: string; type: string; data: unknown; written: unknown; append: string; index: number },
): string {
  return chainHash(previousHash, [
    CHAIN_VERSION,
    e.streamId,
    e.revision,
    e.eventId,
    e.type,
    canonicalJson(e.data),
    canonicalJson(e.written),
    e.append,
    e.index,
  ]);
}

function hasTlsOption(connectionString: string | undefined): boolean {
  if (!connectionString) return true;
  const query = connectionString.split('?')[1] ?? '';
  return query.split('&').some((pair) => pair.split('=')[0].trim().toLowerCase() === 'tls');
}

const TLS_MISMATCH = /wrong version number|SSL routines|ssl3_get_record|EPROTO|tls_validate_record_header|packet length too long/i;

const UNAVAILABLE_TYPES = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
  ErrorType.NOT_LEADER,
  ErrorType.UNKNOWN,
  ErrorType.ACCESS_DENIED,
]);

/** An append error that proves nothing was written (anything else may hide a commit). */
function isDefiniteAppendFailure(error: unknown): boolean {
  return (
    error instanceof StreamDeletedError ||
    error instanceof AccessDeniedError ||
    error instanceof MaxAppendSizeExceededError ||
    error instanceof InvalidArgumentError ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof SyntaxError
  );
}

function isServiceError(error: unknown): error is Error & { code: number; details?: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

export class EventStoreDbEventStore extends EventStore {
  readonly kind = 'eventstoredb';
  readonly capabilities: StoreCapabilities = { atomicMultiStream: false, globalChain: false, eventLookup: false };
  readonly records: StoreRecords;
  readonly streamPrefixes: readonly string[];

  private readonly readTimeoutMs: number;
  private readonly appendTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  private readonly settleDelayMs: number;
  private readonly anyRetryBudgetMs: number;
  private readonly connectionString: string | undefined;
  private readonly tips = new Map<string, StreamTip>();
  private readonly anchors = new Map<string, { append: string; ms: number }>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly index: RollingIndex;
  private closed = false;
  /** Aborted by close(): every read, append and pause in flight ends at once with StoreUnavailable. */
  private readonly closing = new AbortController();

  constructor(
    private readonly client: EventStoreDbClientCalls,
    options: EventStoreDbTuning = {},
  ) {
    super();
    this.streamPrefixes = Object.freeze([...(options.streamPrefixes ?? CARELEDGER_STREAM_PREFIXES)]);
    if (this.streamPrefixes.length === 0 || this.streamPrefixes.some((p) => p.length === 0 || p.startsWith('$'))) {
      throw new TypeError('streamPrefixes must be non-empty strings that do not start with $');
    }
    const recordPrefix = options.records?.streamPrefix ?? DEFAULT_RECORD_STREAM_PREFIX;
    const indexStream = options.records?.indexStream ?? DEFAULT_RECORD_INDEX_STREAM;
    for (const name of [recordPrefix, indexStream, PING_STREAM]) {
      if (this.isOurs(name) || this.streamPrefixes.some((p) => p.startsWith(name))) {
        throw new TypeError(`${name} overlaps the log's stream prefixes (${this.streamPrefixes.join(', ')}): records and the log must not share streams`);
      }
    }
    if (indexStream.startsWith(recordPrefix)) throw new TypeError(`the records index ${indexStream} must not start with the record prefix ${recordPrefix}`);
    this.readTimeoutMs = options.readTimeoutMs ?? 10_000;
    this.appendTimeoutMs = options.appendTimeoutMs ?? 10_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2000;
    this.settleDelayMs = options.settleDelayMs ?? 250;
    this.anyRetryBudgetMs = options.anyRetryBudgetMs ?? 10_000;
    this.connectionString = options.connectionString;
    this.index = new RollingIndex((after, upTo) => this.walkPages(after, upTo));
    this.records = new EventStoreDbRecords(this, recordPrefix, indexStream, options.records?.keepVersions ?? 16);
  }

  /** Subscriptions currently open (a dropped or closed one is no longer counted). */
  get openSubscriptions(): number {
    return this.subscriptions.size;
  }

  /** Is this stream part of CareLedger's log (one of the prefixes, not a system stream)? */
  isOurs(streamId: string): boolean {
    return !streamId.startsWith('$') && this.streamPrefixes.some((p) => streamId.startsWith(p));
  }

  // ---------------------------------------------------------------- appends

  async append(appends: StreamAppend[]): Promise<AppendResult[]> {
    this.assertOpen();
    const parts = this.prepare(appends);
    const results: AppendResult[] = [];
    for (const part of parts) {
      try {
        results.push(await this.appendPart(part));
      } catch (error) {
        if (results.length > 0 && error instanceof StoreUnavailable) {
          const written = parts.slice(0, results.length).map((p) => p.streamId).join(', ');
          throw new StoreUnavailable(`${error.message} (the earlier parts of this append, to ${written}, are written)`, error.cause ?? error);
        }
        throw error;
      }
    }
    return results;
  }

  private prepare(appends: StreamAppend[]): PreparedPart[] {
    if (appends.length === 0) throw new TypeError('append needs at least one stream');
    const seen = new Set<string>();
    return appends.map(({ streamId, events, expectedRevision }) => {
      const expected = expectedRevision ?? 'any';
      if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
      if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
        throw new TypeError(`expectedRevision must be a non-negative integer, got ${expected}`);
      }
      if (!this.isOurs(streamId)) {
        throw new TypeError(
          `stream ${streamId} is outside the log's stream prefixes (${this.streamPrefixes.join(', ')}): ` +
            'its events would never reach $all readers; extend CARELEDGER_STREAM_PREFIXES',
        );
      }
      for (const e of events) if (!UUID.test(e.eventId)) throw new TypeError(`event id ${e.eventId} is not a UUID`);
      const repeated = events.map((e) => e.eventId).filter((id) => seen.has(id) || !seen.add(id));
      if (repeated.length > 0) throw new DuplicateEventIdConflict(streamId, repeated);
      return { streamId, events, expected };
    });
  }

  private async appendPart(part: PreparedPart): Promise<AppendResult> {
    const { streamId, expected } = part;
    if (expected === 'any' || expected === 'stream_exists') return this.appendAtCurrent(part);
    const base = expected === 'no_stream' ? -1 : expected;
    const tip = this.tips.get(streamId);
    if (tip?.deleted) throw this.deletedStream(streamId);
    if (tip && tip.revision === base && tip.hash !== null) {
      // the usual path: the ledger has just read the stream through this instance
      if (tip.ids) {
        const known = await this.dedupFromIds(part, tip.ids);
        if (known) return known;
      }
      return this.sendSettled(part, base, tip.hash, 'classify');
    }
    if (base === -1) return this.sendSettled(part, -1, GENESIS_HASH, 'classify');
    if (tip && tip.revision > base) {
      // revisions only grow: the server would answer WrongExpectedVersion or a dedup; the tail decides
      return this.classify(part, await this.readTail(streamId, base + 1), null, null);
    }
    // not seen at this revision: the tail from the expected revision gives the link (or the answer)
    const tail = await this.readTail(streamId, base);
    if (this.tips.get(streamId)?.deleted) throw this.deletedStream(streamId);
    if (tail.length === 0 || tail[0].event.revision !== base) {
      const actual = tail.length > 0 ? tail[tail.length - 1].event.revision : await this.lastRevision(streamId);
      throw new ConcurrencyConflict(streamId, expected, actual ?? 'no_stream');
    }
    if (tail.length > 1) return this.classify(part, tail.slice(1), null, null);
    return this.sendSettled(part, base, tail[0].chain?.hash ?? GENESIS_HASH, 'classify');
  }

  /** 'any' / 'stream_exists': read the stream, append at the exact revision read, retry on a race. */
  private async appendAtCurrent(part: PreparedPart): Promise<AppendResult> {
    const { streamId, expected } = part;
    const giveUpAt = Date.now() + this.anyRetryBudgetMs;
    for (let attempt = 0; ; attempt += 1) {
      const stream = await this.readWhole(streamId);
      if (this.tips.get(streamId)?.deleted) throw this.deletedStream(streamId);
      const known = this.dedupFromStream(part, stream);
      if (known) return known;
      const last = stream.length > 0 ? stream[stream.length - 1] : null;
      if (expected === 'stream_exists' && !last) throw new ConcurrencyConflict(streamId, expected, 'no_stream');
      try {
        return await this.sendSettled(part, last ? last.event.revision : -1, last?.chain?.hash ?? GENESIS_HASH, 'retry');
      } catch (error) {
        if (!(error instanceof RetryAtCurrent)) throw error;
      }
      if (Date.now() >= giveUpAt) {
        throw new StoreUnavailable(
          `append to ${streamId} with expected revision '${String(expected)}': the stream kept moving for ${this.anyRetryBudgetMs} ms (${attempt + 1} attempts); retry later`,
        );
      }
      await sleep(Math.min(50, 1 + attempt * 2) * (0.5 + Math.random()), this.closing.signal);
    }
  }

  /**
   * Sends the append at exact revision `base` (-1: no stream). An unknown outcome is settled by
   * sending the identical events once more. On WrongExpectedVersion: 'classify' reads the tail to
   * tell dedup / DuplicateEventIdConflict / ConcurrencyConflict; 'retry' asks the caller to re-read.
   */
  private async sendSettled(part: PreparedPart, base: number, link: string, onConflict: 'classify' | 'retry'): Promise<AppendResult> {
    const { streamId, events } = part;
    const nonce = randomUUID();
    let previous = link;
    const payload: EventData[] = events.map((e, index) => {
      const written = { ...e.metadata };
      const hash = streamLinkHash(previous, {
        streamId,
        revision: base + 1 + index,
        eventId: e.eventId,
        type: e.type,
        data: e.data,
        written,
        append: nonce,
        index,
      });
      previous = hash;
      const chain: ChainFields = { v: 1, hash, append: nonce, index };
      return jsonEvent({ id: e.eventId, type: e.type, data: e.data as JSONType, metadata: { ...written, careledger: chain } as JSONType });
    });
    const expectedRevision: AppendExpectedRevision = base === -1 ? NO_STREAM : BigInt(base);

    let outcome = await this.send(streamId, payload, expectedRevision);
    if (outcome.kind === 'unknown') {
      const first = outcome.error;
      await sleep(this.settleDelayMs, this.closing.signal);
      if (this.closed) throw this.closedDuringAppend(streamId, first);
      outcome = await this.send(streamId, payload, expectedRevision);
      if (outcome.kind === 'unknown') {
        throw new StoreUnavailable(
          `append to ${streamId} at revision ${base}: no answer (${this.describe(first)}), and no answer to the identical retry ` +
            `(${this.describe(this.translate(outcome.error, 'on the retry'))}); the events may or may not be written: ` +
            'retry with the same event ids and expected revision',
          outcome.error,
        );
      }
    }
    if (outcome.kind === 'conflict') {
      if (onConflict === 'retry') throw new RetryAtCurrent();
      return this.classify(part, await this.readTail(streamId, base + 1), outcome.error, nonce);
    }

    const next = Number(outcome.result.nextExpectedRevision);
    const first = next - events.length + 1;
    const readBack = await this.readRange(streamId, first, events.length);
    if (readBack.length !== events.length || readBack.some((l, i) => l.event.eventId !== events[i].eventId)) {
      throw new IntegrityViolation(
        `append to ${streamId}: the server acknowledged revisions ${first}..${next} but they do not hold the appended event ids`,
      );
    }
    const ours = readBack[0].chain?.append === nonce;
    if (ours && first !== base + 1) {
      throw new IntegrityViolation(
        `stream ${streamId} had been soft-deleted on the server: EventStoreDB appended these events at revision ${first}, ` +
          `not ${base + 1}, continuing the deleted stream; CareLedger streams must never be deleted`,
      );
    }
    const result = this.resultOf(readBack, !ours, outcome.result.position);
    this.noteAppended(streamId, base, readBack);
    if (ours) {
      // The next append that starts after this answer must get a later millisecond from the server:
      // the commit happened before the answer, so 1 ms after the answer the server's clock is past
      // the commit's millisecond. (A loop: libuv may fire a 1 ms timer early, from its cached clock.)
      const until = outcome.ackedAt + 1;
      while (performance.now() < until && !this.closed) await sleep(1, this.closing.signal);
    }
    return result;
  }

  private async send(streamId: string, payload: EventData[], expectedRevision: AppendExpectedRevision): Promise<SendOutcome> {
    this.assertOpen();
    try {
      const call = this.client.appendToStream(streamId, payload, { expectedRevision, deadline: this.appendTimeoutMs });
      const limit = this.appendTimeoutMs + Math.min(APPEND_TIMER_GRACE_MS, this.appendTimeoutMs);
      const result = await bounded(call, limit, () => new StoreUnavailable(`no answer to the append within ${limit} ms`), this.closing.signal);
      return { kind: 'ok', result, ackedAt: performance.now() };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return { kind: 'conflict', error };
      if (this.closed) throw this.closedDuringAppend(streamId, error);
      if (error instanceof StreamDeletedError) throw this.deletedStream(streamId, true);
      if (isDefiniteAppendFailure(error)) throw this.translate(error, `append to ${streamId}`);
      return { kind: 'unknown', error };
    }
  }

  /** The events after the expected revision decide: all ours in order (dedup), some (duplicate), none (conflict). */
  private async classify(
    part: PreparedPart,
    after: LoggedEvent[],
    error: WrongExpectedVersionError | null,
    nonce: string | null,
  ): Promise<AppendResult> {
    const { streamId, events, expected } = part;
    const ids = events.map((e) => e.eventId);
    const window = after.slice(0, ids.length);
    if (window.length === ids.length && window.every((l, i) => l.event.eventId === ids[i])) {
      return this.resultOf(window, nonce === null || window[0].chain?.append !== nonce, undefined);
    }
    const wanted = new Set(ids);
    const found = after.filter((l) => wanted.has(l.event.eventId)).map((l) => l.event.eventId);
    if (found.length > 0) throw new DuplicateEventIdConflict(streamId, found);
    if (after.length > 0) throw new ConcurrencyConflict(streamId, expected, after[after.length - 1].event.revision);
    if (this.tips.get(streamId)?.deleted) throw this.deletedStream(streamId);
    const actual = error ? error.actualVersion : await this.lastRevision(streamId);
    throw new ConcurrencyConflict(streamId, expected, typeof actual === 'bigint' || typeof actual === 'number' ? Number(actual) : 'no_stream');
  }

  /** The ids are known: all in order is the earlier append (read back for its result), some is a conflict. */
  private async dedupFromIds(part: PreparedPart, ids: Map<string, number>): Promise<AppendResult | null> {
    const hits = part.events.map((e) => ids.get(e.eventId));
    if (hits.every((h) => h === undefined)) return null;
    const inOrder = hits.every((h, i) => h !== undefined && h === (hits[0] as number) + i);
    if (!inOrder) throw new DuplicateEventIdConflict(part.streamId, part.events.filter((_, i) => hits[i] !== undefined).map((e) => e.eventId));
    const stored = await this.readRange(part.streamId, hits[0] as number, hits.length);
    return this.classify(part, stored, null, null);
  }

  private dedupFromStream(part: PreparedPart, stream: LoggedEvent[]): AppendResult | null {
    const ids = new Map(stream.map((l) => [l.event.eventId, l.event.revision] as const));
    const hits = part.events.map((e) => ids.get(e.eventId));
    if (hits.every((h) => h === undefined)) return null;
    const inOrder = hits.every((h, i) => h !== undefined && h === (hits[0] as number) + i);
    if (!inOrder) throw new DuplicateEventIdConflict(part.streamId, part.events.filter((_, i) => hits[i] !== undefined).map((e) => e.eventId));
    const first = stream.findIndex((l) => l.event.revision === hits[0]);
    return this.resultOf(stream.slice(first, first + hits.length), true, undefined);
  }

  private resultOf(events: LoggedEvent[], deduplicated: boolean, lastPosition: Position | undefined): AppendResult {
    const positions = events.map((l) => l.event.position);
    const reported = normalisePosition(lastPosition);
    if (positions[positions.length - 1] === -1n && reported !== -1n && !deduplicated) positions[positions.length - 1] = reported;
    const last = events[events.length - 1].event;
    return {
      nextExpectedRevision: last.revision,
      position: positions[positions.length - 1],
      positions,
      recordedAt: events[0].event.metadata.recordedAt,
      deduplicated,
    };
  }

  private closedDuringAppend(streamId: string, cause: unknown): StoreUnavailable {
    return new StoreUnavailable(
      `the EventStoreDB store was closed while an append to ${streamId} was in flight: it may or may not be written; retry with the same event ids`,
      cause,
    );
  }

  private deletedStream(streamId: string, tombstoned = false): IntegrityViolation {
    return new IntegrityViolation(
      `stream ${streamId} was ${tombstoned ? 'hard-deleted (tombstoned)' : 'soft-deleted'} on the EventStoreDB server: ` +
        'CareLedger never deletes streams, so the adapter refuses to append to it; restore it from a backup or investigate',
    );
  }

  // ---------------------------------------------------------------- stream tips (what this instance knows)

  private setTip(streamId: string, tip: StreamTip): void {
    this.tips.delete(streamId);
    this.tips.set(streamId, tip);
    if (this.tips.size > TIP_LIMIT) this.tips.delete(this.tips.keys().next().value as string);
  }

  private noteRead(streamId: string, events: LoggedEvent[], complete: boolean): void {
    if (events.length === 0) return;
    const last = events.reduce((a, b) => (b.event.revision > a.event.revision ? b : a));
    const current = this.tips.get(streamId);
    if (current && !current.deleted && current.revision > last.event.revision) return;
    const ids =
      complete && events[0].event.revision === 0 && events.length <= TIP_IDS_LIMIT
        ? new Map(events.map((l) => [l.event.eventId, l.event.revision] as const))
        : current && !current.deleted && current.revision === last.event.revision
          ? current.ids
          : null;
    this.setTip(streamId, { revision: last.event.revision, hash: last.chain?.hash ?? null, ids });
  }

  private noteAppended(streamId: string, base: number, written: LoggedEvent[]): void {
    const last = written[written.length - 1];
    const current = this.tips.get(streamId);
    if (current && current.revision >= last.event.revision) return;
    let ids: Map<string, number> | null = null;
    if (current?.ids && current.revision === base && written[0].event.revision === base + 1) {
      ids = current.ids;
      for (const l of written) ids.set(l.event.eventId, l.event.revision);
      if (ids.size > TIP_IDS_LIMIT) ids = null;
    } else if (!current && base === -1 && written[0].event.revision === 0) {
      ids = new Map(written.map((l) => [l.event.eventId, l.event.revision] as const));
    }
    this.setTip(streamId, { revision: last.event.revision, hash: last.chain?.hash ?? null, ids });
  }

  /** No stream: missing, or soft-deleted (its metadata stream keeps a truncate-before)? */
  private async noteMissing(streamId: string): Promise<void> {
    if (!this.isOurs(streamId)) return;
    let deleted = false;
    try {
      const [meta] = await this.readRaw(`$$${streamId}`, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }, `the metadata of ${streamId}`);
      const data = meta?.data as Record<string, unknown> | undefined;
      deleted = data !== undefined && data !== null && typeof data === 'object' && data.$tb !== undefined;
    } catch (error) {
      // a user without metadata read access still reads the stream; only the soft-delete guard is lost
      if (error instanceof AccessDeniedError) return;
      if (!(error instanceof StreamNotFoundError)) throw this.translate(error, `reading the metadata of ${streamId}`);
    }
    this.setTip(streamId, deleted ? { revision: -1, hash: null, ids: null, deleted: true } : { revision: -1, hash: GENESIS_HASH, ids: new Map() });
  }

  private async lastRevision(streamId: string): Promise<number | null> {
    const [last] = await this.readLogged(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    return last ? last.event.revision : null;
  }

  // ---------------------------------------------------------------- reads

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    if (options.maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision;
    if (typeof from === 'number' && (!Number.isInteger(from) || from < 0)) throw new TypeError(`fromRevision must be a non-negative integer, got ${from}`);
    if (!backwards && from === 'end') return [];
    const fromRevision: ReadRevision =
      from === undefined ? (backwards ? END : START) : from === 'start' ? START : from === 'end' ? END : BigInt(from);
    const logged = await this.readLogged(streamId, { direction: backwards ? BACKWARDS : FORWARDS, fromRevision, maxCount: options.maxCount });
    if (logged.length > 0) {
      const whole = !backwards && (from === undefined || from === 'start' || from === 0) && (options.maxCount === undefined || logged.length < options.maxCount);
      const tail = backwards && (from === undefined || from === 'end');
      if (whole || tail) this.noteRead(streamId, logged, whole);
    }
    return logged.map((l) => l.event);
  }

  private async readWhole(streamId: string): Promise<LoggedEvent[]> {
    const logged = await this.readLogged(streamId, { direction: FORWARDS, fromRevision: START });
    this.noteRead(streamId, logged, true);
    return logged;
  }

  /** The stream from `fromRevision` on (inclusive); notes its end. */
  private async readTail(streamId: string, fromRevision: number): Promise<LoggedEvent[]> {
    const logged = await this.readLogged(streamId, { direction: FORWARDS, fromRevision: BigInt(fromRevision) });
    this.noteRead(streamId, logged, fromRevision === 0);
    return logged;
  }

  private readRange(streamId: string, fromRevision: number, count: number): Promise<LoggedEvent[]> {
    return this.readLogged(streamId, { direction: FORWARDS, fromRevision: BigInt(fromRevision), maxCount: count });
  }

  /** A stream read, stamped; a missing stream reads as empty (and is checked for a soft delete). */
  private async readLogged(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number },
  ): Promise<LoggedEvent[]> {
    let raws: RawEvent[];
    try {
      raws = await this.readRaw(streamId, options, `a read of ${streamId}`);
    } catch (error) {
      if (error instanceof StreamNotFoundError) {
        await this.noteMissing(streamId);
        return [];
      }
      throw this.translate(error, `reading ${streamId}`);
    }
    return this.stamp(raws.filter((r) => !isSystem(r)));
  }

  /** One bounded client read of a stream (raw events; errors untranslated). */
  async readRaw(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: ReadRevision; maxCount?: number },
    label: string,
    timeoutMs = this.readTimeoutMs,
  ): Promise<RawEvent[]> {
    this.assertOpen();
    const resolved = await collectRead<Resolved>(
      label,
      () => this.client.readStream(streamId, { ...options, maxCount: options.maxCount }) as unknown as CancellableRead,
      timeoutMs,
      this.closing.signal,
    );
    return resolved.map((r) => r.event).filter((e): e is RawEvent => e !== undefined);
  }

  /**
   * Gives each event its recordedAt: the `created` of the first event of its append (at revision
   * revision - careledger.index), found in the same batch, in the cache, or by reading that event.
   */
  private async stamp(raws: RawEvent[]): Promise<LoggedEvent[]> {
    const split = raws.map((raw) => ({ raw, ...splitMetadata(raw.metadata) }));
    const inBatch = new Map<string, (typeof split)[number]>();
    for (const s of split) inBatch.set(key(s.raw.streamId, Number(s.raw.revision)), s);
    const missing = new Map<string, { streamId: string; revision: number }>();
    for (const s of split) {
      const index = s.chain?.index ?? 0;
      const anchor = Number(s.raw.revision) - index;
      if (index === 0 || anchor < 0) continue;
      const k = key(s.raw.streamId, anchor);
      if (!inBatch.has(k) && !this.anchors.has(k)) missing.set(k, { streamId: s.raw.streamId, revision: anchor });
    }
    for (const [k, { streamId, revision }] of missing) {
      try {
        const [raw] = await this.readRaw(streamId, { direction: FORWARDS, fromRevision: BigInt(revision), maxCount: 1 }, `the first event of an append in ${streamId}`);
        if (raw && Number(raw.revision) === revision) inBatch.set(k, { raw, ...splitMetadata(raw.metadata) });
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw this.translate(error, `reading ${streamId}`);
      }
    }
    return split.map((s) => {
      const own = s.raw.created?.getTime() ?? 0;
      let ms = own;
      const index = s.chain?.index ?? 0;
      if (s.chain && index === 0) {
        this.rememberAnchor(key(s.raw.streamId, Number(s.raw.revision)), s.chain.append, own);
      } else if (s.chain) {
        const k = key(s.raw.streamId, Number(s.raw.revision) - index);
        const local = inBatch.get(k);
        if (local?.chain && local.chain.index === 0 && local.chain.append === s.chain.append) {
          ms = local.raw.created?.getTime() ?? own;
          this.rememberAnchor(k, local.chain.append, ms);
        } else {
          const cached = this.anchors.get(k);
          if (cached && cached.append === s.chain.append) ms = cached.ms;
        }
      }
      const metadata = { ...s.written, recordedAt: new Date(ms).toISOString() } as unknown as StoredMetadata;
      const event: StoredEvent = {
        eventId: s.raw.id,
        type: s.raw.type,
        streamId: s.raw.streamId,
        revision: Number(s.raw.revision),
        position: normalisePosition(s.raw.position),
        data: s.raw.data,
        metadata,
      };
      if (s.chain) event.hash = s.chain.hash;
      return { event, chain: s.chain, written: s.written };
    });
  }

  private rememberAnchor(k: string, append: string, ms: number): void {
    if (this.anchors.has(k)) return;
    this.anchors.set(k, { append, ms });
    if (this.anchors.size > ANCHOR_LIMIT) this.anchors.delete(this.anchors.keys().next().value as string);
  }

  /** $all after a position, CareLedger streams only. */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (wanted <= 0) return [];
    const events: StoredEvent[] = [];
    for await (const page of this.walkPages(options.after ?? 0n)) {
      for (const event of page) {
        if (events.length >= wanted) return events;
        events.push(event);
      }
      if (events.length >= wanted) return events;
    }
    return events;
  }

  private async *walkPages(after: bigint, upTo?: bigint): AsyncGenerator<StoredEvent[]> {
    for await (const page of this.walkLogged(after, upTo)) yield page.map((l) => l.event);
  }

  /** Pages of CareLedger events in $all strictly after `after` (stopping past `upTo`), paging by raw positions. */
  private async *walkLogged(after: bigint, upTo?: bigint): AsyncGenerator<LoggedEvent[]> {
    let cursor = after;
    for (;;) {
      const raws = await this.readAllRaw(cursor, READ_ALL_PAGE);
      const fresh = raws.filter((r) => r.position && r.position.commit > cursor);
      const inRange = upTo === undefined ? fresh : fresh.filter((r) => r.position!.commit <= upTo);
      const ours = inRange.filter((r) => !isSystem(r) && this.isOurs(r.streamId));
      if (ours.length > 0) yield await this.stamp(ours);
      if (fresh.length === 0 || raws.length < READ_ALL_PAGE + 1) return;
      cursor = fresh[fresh.length - 1].position!.commit;
      if (upTo !== undefined && cursor >= upTo) return;
    }
  }

  /** One page of $all from a position (inclusive there, so one more is asked for); every stream. */
  private async readAllRaw(after: bigint, maxCount: number): Promise<RawEvent[]> {
    this.assertOpen();
    try {
      const resolved = await collectRead<Resolved>(
        'a read of $all',
        () => this.client.readAll({ fromPosition: toReadPosition(after), maxCount: maxCount + 1 }) as unknown as CancellableRead,
        this.readTimeoutMs,
        this.closing.signal,
      );
      return resolved.map((r) => r.event).filter((e): e is RawEvent => e !== undefined && e.position !== undefined);
    } catch (error) {
      throw this.translate(error, 'reading $all');
    }
  }

  async readEvents(): Promise<StoredEvent[]> {
    throw new StoreUnavailable(
      'EventStoreDB has no index of events by id (capabilities.eventLookup is false): find events through the read model',
    );
  }

  /** The last CareLedger event's position (0n when none): $all backwards, skipping other streams. */
  async headPosition(): Promise<bigint> {
    this.assertOpen();
    let from: ReadPosition = END;
    let before: bigint | null = null;
    for (;;) {
      let raws: RawEvent[];
      try {
        const start = from;
        const resolved = await collectRead<Resolved>(
          'a backwards read of $all',
          () => this.client.readAll({ direction: BACKWARDS, fromPosition: start, maxCount: HEAD_PAGE }) as unknown as CancellableRead,
          this.readTimeoutMs,
          this.closing.signal,
        );
        raws = resolved.map((r) => r.event).filter((e): e is RawEvent => e !== undefined && e.position !== undefined);
      } catch (error) {
        throw this.translate(error, 'reading $all');
      }
      const fresh: RawEvent[] = before === null ? raws : raws.filter((r: RawEvent) => r.position!.commit < (before as bigint));
      const ours = fresh.find((r) => !isSystem(r) && this.isOurs(r.streamId));
      if (ours) return ours.position!.commit;
      if (fresh.length === 0 || raws.length < HEAD_PAGE) return 0n;
      const oldest: Position = fresh[fresh.length - 1].position!;
      before = oldest.commit;
      from = oldest;
    }
  }

  /**
   * Optional port helper: how many CareLedger events lie in (after, upTo]. Reads that range of
   * $all (positions are byte offsets, not counts), stopping at `limit` (default 100000).
   */
  override async eventsBetween(after: bigint, upTo: bigint, options: { limit?: number } = {}): Promise<{ events: number; capped: boolean }> {
    this.assertOpen();
    const limit = options.limit ?? 100_000;
    let events = 0;
    if (upTo <= after) return { events: 0, capped: false };
    for await (const page of this.walkPages(after, upTo)) {
      events += page.length;
      if (events >= limit) return { events: limit, capped: true };
    }
    return { events, capped: false };
  }

  // ---------------------------------------------------------------- rolling hash and verify

  async head(): Promise<ChainPoint> {
    this.assertOpen();
    return this.index.advance();
  }

  async hashAt(position: bigint): Promise<string | null> {
    this.assertOpen();
    return this.index.hashAt(position);
  }

  /**
   * Checks every CareLedger stream's chain (each event's hash over the previous one in its stream)
   * and revision continuity (0, 1, 2... with no gap), walking the filtered $all, and rolls the
   * global hash as it goes (verifiedUpTo). With `from`, first checks the log still has `from.hash`
   * at `from.position` (rolling hash), then checks only the events after it, taking the link of a
   * stream's first event after `from` from the event before it (verified by the earlier walk).
   */
  async verifyIntegrity(options: VerifyOptions = {}): Promise<IntegrityReport> {
    this.assertOpen();
    const from = options.from ?? null;
    const fromGenesis = from === null || (from.position === 0n && from.hash === GENESIS_HASH);
    let start: ChainPoint = ROLLING_GENESIS;
    if (!fromGenesis) {
      const stored = from.position > 0n ? await this.index.hashAt(from.position) : null;
      if (stored !== from.hash) return { events: 0, ok: false, firstBrokenPosition: from.position, verifiedUpTo: ROLLING_GENESIS };
      start = from;
    }
    const indexTipAtStart = this.index.tip;
    const continuesIndex = indexTipAtStart.position === start.position && indexTipAtStart.hash === start.hash;
    const streams = new Map<string, { revision: number; hash: string }>();
    const points: ChainPoint[] = [];
    let verified = start;
    let events = 0;
    for await (const page of this.walkLogged(start.position)) {
      for (const l of page) {
        events += 1;
        const e = l.event;
        let previous: { revision: number; hash: string } | null | undefined = streams.get(e.streamId);
        if (!previous) previous = fromGenesis ? { revision: -1, hash: GENESIS_HASH } : await this.linkBefore(e);
        const sound =
          previous !== null &&
          l.chain !== null &&
          e.revision === previous.revision + 1 &&
          streamLinkHash(previous.hash, {
            streamId: e.streamId,
            revision: e.revision,
            eventId: e.eventId,
            type: e.type,
            data: e.data,
            written: l.written,
            append: l.chain.append,
            index: l.chain.index,
          }) === l.chain.hash;
        if (!sound) return { events, ok: false, firstBrokenPosition: e.position, verifiedUpTo: verified };
        streams.set(e.streamId, { revision: e.revision, hash: l.chain!.hash });
        verified = { position: e.position, hash: rollingHash(verified.hash, e) };
        if (events % 512 === 0) points.push(verified);
      }
      options.onProgress?.({ events, position: verified.position });
    }
    if (continuesIndex) this.index.absorb(indexTipAtStart, points, verified);
    return { events, ok: true, firstBrokenPosition: null, verifiedUpTo: verified };
  }

  /** The stored link before an event (a walk that continues from a checkpoint). */
  private async linkBefore(e: StoredEvent): Promise<{ revision: number; hash: string } | null> {
    if (e.revision === 0) return { revision: -1, hash: GENESIS_HASH };
    const [previous] = await this.readRange(e.streamId, e.revision - 1, 1);
    if (!previous || previous.event.revision !== e.revision - 1 || !previous.chain) return null;
    return { revision: previous.event.revision, hash: previous.chain.hash };
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Catch-up then live, filtered on the server by stream prefix. A drop rejects the pending next()
   * with StoreUnavailable (resubscribe from your checkpoint); close() ends it.
   */
  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('batchSize must be a positive integer');
    const after = options.after ?? null;
    const state: { closed: boolean; live: ReturnType<EventStoreDbClientCalls['subscribeToAll']> | null; last: bigint | null } = {
      closed: false,
      live: null,
      last: after,
    };
    const stop = async () => {
      const live = state.live;
      state.live = null;
      if (!live) return;
      live.on('error', () => undefined);
      await live.unsubscribe().catch(() => undefined);
      live.destroy();
    };
    const deliver = async function* (this: EventStoreDbEventStore): AsyncGenerator<StoredEvent> {
      try {
        if (state.closed) return;
        this.assertOpen();
        const live = this.client.subscribeToAll(
          { fromPosition: toReadPosition(after), filter: streamNameFilter({ prefixes: [...this.streamPrefixes] }) },
          { highWaterMark: batchSize },
        );
        state.live = live;
        for await (const resolved of live as AsyncIterable<Resolved>) {
          if (state.closed) return;
          const raw = resolved.event;
          if (!raw?.position || isSystem(raw) || !this.isOurs(raw.streamId)) continue;
          if (state.last !== null && raw.position.commit <= state.last) continue;
          const [logged] = await this.stamp([raw]);
          if (state.closed) return;
          state.last = raw.position.commit;
          yield logged.event;
        }
        if (!state.closed) {
          throw new StoreUnavailable(
            `EventStoreDB ended the $all subscription after position ${state.last ?? 'start'}; resubscribe from your checkpoint`,
          );
        }
      } catch (error) {
        if (state.closed) return;
        if (error instanceof StoreUnavailable) throw error;
        const cause = this.translate(error, 'the $all subscription');
        throw new StoreUnavailable(
          `the EventStoreDB $all subscription dropped after position ${state.last ?? 'start'} (${this.describe(cause)}); resubscribe from your checkpoint`,
          error,
        );
      } finally {
        this.subscriptions.delete(subscription);
        await stop();
      }
    };
    let iterator: AsyncGenerator<StoredEvent> | undefined;
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => (iterator ??= deliver.call(this)),
      close: async () => {
        state.closed = true;
        this.subscriptions.delete(subscription);
        await stop();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  // ---------------------------------------------------------------- health, errors, close

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.readRaw(PING_STREAM, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }, 'ping', this.pingTimeoutMs);
      return true;
    } catch (error) {
      return error instanceof StreamNotFoundError;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new StoreUnavailable('the EventStoreDB event store is closed'));
    for (const subscription of [...this.subscriptions]) await subscription.close();
    await this.client.dispose();
  }

  assertOpen(): void {
    if (this.closed) throw new StoreUnavailable('the EventStoreDB event store is closed');
  }

  /** Client errors -> the port's. Our own errors and programming errors pass through. */
  translate(error: unknown, doing: string): unknown {
    if (
      error instanceof StoreUnavailable ||
      error instanceof ConcurrencyConflict ||
      error instanceof DuplicateEventIdConflict ||
      error instanceof IntegrityViolation
    ) {
      return error;
    }
    if (this.closed) return new StoreUnavailable(`the EventStoreDB event store is closed (${doing})`, error);
    if (!(error instanceof Error)) return new StoreUnavailable(`EventStoreDB failed ${doing}: ${String(error)}`, error);
    const message = error.message ?? '';
    if (TLS_MISMATCH.test(message) && !hasTlsOption(this.connectionString)) {
      return new StoreUnavailable(
        `EventStoreDB TLS handshake failed ${doing}: the connection string has no tls option, so the client uses TLS (its default), ` +
          'and the node answers like an insecure one (EVENTSTORE_INSECURE=true). Add tls=false: esdb://host:2113?tls=false',
        error,
      );
    }
    if (error instanceof AccessDeniedError) {
      return new StoreUnavailable(`EventStoreDB denied access ${doing}: reading $all and stream metadata needs an admin user (${message})`, error);
    }
    if (isCommandError(error) && UNAVAILABLE_TYPES.has(error.type)) {
      return new StoreUnavailable(`EventStoreDB unavailable ${doing}: ${message}`, error);
    }
    if (isServiceError(error)) return new StoreUnavailable(`EventStoreDB unavailable ${doing}: ${message}`, error);
    if ((error as { code?: unknown }).code === 'ERR_STREAM_WRITE_AFTER_END' || /ECONNRESET|EPIPE|socket hang up/i.test(message)) {
      return new StoreUnavailable(`EventStoreDB connection lost ${doing}: ${message}`, error);
    }
    return error;
  }

  private describe(error: unknown): string {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }

  /** For the records: send with the same settle rule as the log. */
  async sendRecord(streamId: string, payload: EventData[], expectedRevision: AppendExpectedRevision): Promise<SendOutcome> {
    let outcome = await this.send(streamId, payload, expectedRevision);
    if (outcome.kind !== 'unknown') return outcome;
    const first = outcome.error;
    await sleep(this.settleDelayMs, this.closing.signal);
    if (this.closed) throw this.closedDuringAppend(streamId, first);
    outcome = await this.send(streamId, payload, expectedRevision);
    if (outcome.kind === 'unknown') {
      throw new StoreUnavailable(
        `write to ${streamId}: no answer (${this.describe(first)}), and no answer to the identical retry ` +
          `(${this.describe(this.translate(outcome.error, 'on the retry'))}); it may or may not be written`,
        outcome.error,
      );
    }
    return outcome;
  }

  async setMaxCount(streamId: string, maxCount: number): Promise<void> {
    this.assertOpen();
    try {
      const limit = this.appendTimeoutMs + Math.min(APPEND_TIMER_GRACE_MS, this.appendTimeoutMs);
      await bounded(
        this.client.setStreamMetadata(streamId, { maxCount }, { deadline: this.appendTimeoutMs }),
        limit,
        () => new StoreUnavailable(`no answer to the metadata write of ${streamId} within ${limit} ms`),
        this.closing.signal,
      );
    } catch (error) {
      throw this.translate(error, `writing the metadata of ${streamId}`);
    }
  }
}

export function openEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStoreDbEventStore {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  return new EventStoreDbEventStore(client, options);
}

