/**
 * The event feed (API.md v1.1 "Integration"): the log in global order, from a position, for the
 * systems around the ledger.
 *
 * It reads this node's copy of the log (the read store's log model), not the store:
 * - the copy is a prefix of the log: the projection runner applies events in position order and
 *   commits each batch with its checkpoint in one transaction, after checking that the log still
 *   holds what it reflects; reading `(after, checkpoint]` never skips an event and never shows one
 *   twice, and a node whose read models diverged from the log serves no feed at all;
 * - read-your-writes: a feed read first waits (like every read) until the copy reflects what this
 *   node acknowledged, so a client that wrote here sees its own events;
 * - a waiting reader (long-poll `wait`, an event stream) costs the store nothing: it waits on the
 *   runner's checkpoint in memory, where a reader of the store itself would hold a subscription or
 *   poll the store for each client;
 * - filtering by types runs on the copy's index instead of reading every event from the store.
 * The cost is the projection delay (milliseconds on a live node): another node's writes appear
 * here once this node has applied them.
 *
 * Positions are the store's own (on EventStoreDB byte offsets of its transaction log): they are
 * compared, never subtracted or counted.
 */
import type Database from 'better-sqlite3';
import type { StoredEvent } from '@careledger/event-store';
import { EventRow, LIVE } from '@careledger/projections';
import type { Runtime } from './runtime';

/** One event as the feed and the webhooks carry it. */
export interface FeedEvent {
  /** The event's global position (decimal string). */
  position: string;
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  occurredAt: string;
  recordedAt: string;
  actor: string;
  correlationId: string;
  causationId: string | null;
  data: unknown;
  /** The chain hash the store stamped on the event (sha256 hex); null when the store gave none. */
  hash: string | null;
}

export interface FeedPage {
  events: FeedEvent[];
  /**
   * Where to go on from (pass it as `after`): the last event returned, or, when a types filter
   * left events out, the last position examined; `after` itself when nothing was examined.
   */
  next: string;
}

export interface FeedQuery {
  /** Exclusive. */
  after: bigint;
  /** Event types to keep; null for all. */
  types: readonly string[] | null;
  limit: number;
}

/** The largest position SQLite holds (int64): a client's `after` beyond it matches nothing. */
const MAX_POSITION = 9_223_372_036_854_775_807n;
/** A filtered page examines at most this many events of the log copy (then `next` says how far it got). */
const SCAN_WINDOW = 10_000;

export function feedEventOf(e: StoredEvent): FeedEvent {
  return {
    position: e.position.toString(),
    eventId: e.eventId,
    streamId: e.streamId,
    revision: e.revision,
    type: e.type,
    occurredAt: e.metadata.occurredAt,
    recordedAt: e.metadata.recordedAt,
    actor: e.metadata.actor,
    correlationId: e.metadata.correlationId,
    causationId: e.metadata.causationId ?? null,
    data: e.data,
    hash: e.hash ?? null,
  };
}

function feedEventOfRow(r: EventRow): FeedEvent {
  return {
    position: String(r.position),
    eventId: r.event_id,
    streamId: r.stream_id,
    revision: r.revision,
    type: r.type,
    occurredAt: r.occurred_at ?? r.recorded_at,
    recordedAt: r.recorded_at,
    actor: r.actor ?? '',
    correlationId: r.correlation_id ?? '',
    causationId: r.causation_id,
    data: JSON.parse(r.data),
    hash: r.hash,
  };
}

export class Feed {
  /** Prepared statements by shape (the number of types), prepared once. */
  private readonly statements = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(private readonly rt: Runtime) {}

  private statement<R>(key: string, sql: () => string): Database.Statement<unknown[], R> {
    let statement = this.statements.get(key);
    if (!statement) this.statements.set(key, (statement = this.rt.readDb.prepare<unknown[], unknown>(sql())));
    return statement as Database.Statement<unknown[], R>;
  }

  /** Waits (like every read) until the copy reflects what this node acknowledged and `minPosition`. */
  consistent(minPosition?: bigint): Promise<boolean> {
    return this.rt.consistentRead(minPosition);
  }

  /** The position the copy reflects: the last event applied. */
  checkpoint(): bigint {
    return this.rt.reads.checkpoint();
  }

  /** Events after `after` in global order, at most `limit`, of the given types (or all). */
  page(q: FeedQuery): FeedPage {
    // the bound is read in the same synchronous turn as the rows: the runner commits whole batches
    const bound = this.checkpoint();
    const after = q.after > MAX_POSITION ? MAX_POSITION : q.after;
    if (after >= bound) return { events: [], next: q.after.toString() };
    if (q.types === null) {
      const rows = this.statement<EventRow>('all', () => `SELECT * FROM ${LIVE}events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`).all(after, bound, q.limit);
      return { events: rows.map(feedEventOfRow), next: rows.length > 0 ? String(rows[rows.length - 1].position) : q.after.toString() };
    }
    // a filtered page examines a bounded window of the log, so a rare type costs a bounded scan per request
    const windowEnd = this.statement<{ position: number }>('window', () => `SELECT position FROM ${LIVE}events WHERE position > ? AND position <= ? ORDER BY position LIMIT 1 OFFSET ?`)
      .get(after, bound, SCAN_WINDOW - 1);
    const upTo = windowEnd ? BigInt(windowEnd.position) : bound;
    const marks = q.types.map(() => '?').join(', ');
    const rows = this.statement<EventRow>(`types:${q.types.length}`, () => `SELECT * FROM ${LIVE}events WHERE position > ? AND position <= ? AND type IN (${marks}) ORDER BY position LIMIT ?`)
      .all(after, upTo, ...q.types, q.limit);
    const next = rows.length === q.limit ? String(rows[rows.length - 1].position) : upTo.toString();
    return { events: rows.map(feedEventOfRow), next };
  }

  /**
   * Resolves true once the copy holds an event after `after`, false when `ms` pass or `signal`
   * aborts first. Never returns early otherwise (a stopped runner is waited out, not polled).
   */
  async waitBeyond(after: bigint, ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.checkpoint() > after || signal.aborted) return this.checkpoint() > after;
    const started = Date.now();
    // the runner resolves a waiter once its checkpoint is >= the target: the successor of `after`
    // makes that "> after" (a comparison of positions, not a count of events)
    const reached = await abortable(this.rt.runner.waitFor(after + 1n, ms), signal, false);
    if (reached) return true;
    const left = ms - (Date.now() - started);
    if (left > 0) await abortable(new Promise<void>((resolve) => setTimeout(resolve, left).unref()), signal, undefined);
    return this.checkpoint() > after;
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: T): Promise<T> {
  if (signal.aborted) return Promise.resolve(onAbort);
  return new Promise<T>((resolve, reject) => {
    const abort = () => resolve(onAbort);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
