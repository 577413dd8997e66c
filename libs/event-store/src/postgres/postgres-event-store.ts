/**
 * The event store on PostgreSQL (13 or later; CI runs 15): every node of CareLedger can share one log.
 *
 * Commit order = position order: the advisory-lock cure
 * ------------------------------------------------------
 * Every append transaction first takes one transaction-level advisory lock per schema
 * (`pg_advisory_xact_lock`), then reads the head, and computes positions (head + 1, no sequence),
 * the hash chain and recordedAt under that lock. PostgreSQL releases a transaction's locks only after
 * its commit is visible, so the next writer's first statement after the lock already sees it, and a
 * transaction with higher positions can never become visible before one with lower positions. A
 * reader that asks for `position > last` therefore never passes over an event that commits late,
 * without any reader-side logic. We chose this over "xid8 + snapshot xmin" because the global hash
 * chain already serialises writers (each event's hash covers the previous event's hash, so the
 * previous event must be known when a row is written); the lock makes that explicit, keeps positions
 * gapless, and group commit (many appends per transaction) keeps its cost to one lock per group.
 * Transactions run at READ COMMITTED explicitly: under REPEATABLE READ or SERIALIZABLE (a database
 * default someone might set) the snapshot would predate the lock wait and the head would be stale.
 *
 * Subscriptions on a dropped connection
 * -------------------------------------
 * A subscription reads through the pool and is woken by LISTEN/NOTIFY on one dedicated connection
 * per store (with a poll timer as fallback). When that connection drops, every subscription of the
 * store rejects its pending (or next) `next()` with StoreUnavailable, as the port says; the caller
 * resubscribes from the last position it processed, and gets every later event exactly once. The
 * store re-establishes the LISTEN connection in the background (backoff 100 ms .. 5 s); until it is
 * back, new subscriptions rely on the poll timer. A read that fails on a dead pooled connection is
 * retried on a fresh one first (reads are idempotent); when it still fails, the subscription rejects
 * with StoreUnavailable as well.
 *
 * Appends on a dropped connection
 * -------------------------------
 * A group whose transaction fails on a lost connection (or a serialization failure) is run again on a
 * fresh connection with the identical appends (same event ids, same expected revisions); at most 3
 * attempts. When the connection was lost during COMMIT the outcome is unknown; the rerun settles it:
 * an append found stored at exactly the positions the lost commit had planned was written by that
 * commit, and is reported as written (deduplicated: false); otherwise the rerun's own outcome is the
 * true one. Event-id dedup makes the rerun safe either way.
 */
import { Client, type ClientConfig, type CustomTypesConfig, Pool, type PoolClient, type QueryConfig, type QueryResult, type QueryResultRow, types as pgTypes } from 'pg';
import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
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
  type StoredMetadata,
  type StoredRecord,
  StoreRecords,
  StoreUnavailable,
  type StreamAppend,
  type SubscribeOptions,
  type Subscription,
  type VerifyOptions,
} from '../port';
import { canonicalJson, eventHash, GENESIS_HASH } from '../hash';
import { GroupCommit, type Pending } from '../group-commit';
import { isConnectionError, isSerializationFailure, sqlState, toStoreError, wasNeverSent } from './errors';
import {
  APPEND_LOCK_CLASS,
  checkSchemaName,
  DEFAULT_SCHEMA,
  migrate,
  notifyChannel,
  literal,
  quoteIdent,
  schemaLockKey,
} from './schema';

export { POSTGRES_SCHEMA_VERSION } from './schema';

export interface PostgresEventStoreOptions {
  /** postgres://user[:password]@host:port/database (any form node-postgres accepts). */
  connectionString: string;
  /**
   * Accepted for symmetry with the other adapters and not used: on PostgreSQL, recordedAt and
   * records' updatedAt are stamped by the server's clock (clock_timestamp()), one clock for every node.
   */
  clock?: Clock;
  /** Connections in the pool (reads, appends, records). Default 10. The LISTEN connection is extra. */
  poolSize?: number;
  /** How often an idle subscription polls when no notification arrives. Default 500. */
  pollIntervalMs?: number;
  /**
   * The PostgreSQL schema holding the store's tables, created on open when missing. Default
   * `careledger` (a dedicated schema: the store can share a database with other applications).
   */
  schema?: string;
  /** application_name of the store's connections (shown in pg_stat_activity). Default `careledger`. */
  applicationName?: string;
  /** How long to wait for a new connection. Default 5000. */
  connectTimeoutMs?: number;
}

export interface PostgresEventStoreStats {
  /** Write transactions committed by this instance (each holds one or more appends). */
  groupCommits: number;
  /** Appends (one per `append` call) settled by this instance (written, deduplicated or refused). */
  appends: number;
  /** Group transactions run again after a lost connection or a serialization failure. */
  retriedGroups: number;
  /** Groups run again with a savepoint per append, after an insert failed in the database. */
  carefulGroups: number;
  /** Group commits whose outcome was unknown (connection lost during COMMIT). */
  inDoubtCommits: number;
  /** Appends of such commits that the rerun found already stored: the lost COMMIT had succeeded. */
  inDoubtFoundCommitted: number;
  /** Times the LISTEN connection was re-established after it dropped. */
  listenerReconnects: number;
}

const MAX_APPENDS_PER_GROUP = 500;
const WRITE_ATTEMPTS = 3;
const READ_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [50, 200, 500];
const VERIFY_BATCH = 2000;
const LISTEN_BACKOFF_MIN_MS = 100;
const LISTEN_BACKOFF_MAX_MS = 5000;
const PING_TIMEOUT_MS = 2000;
const INT4_MAX = 2_147_483_647;
const INT8_OID = 20;
const GENESIS: ChainPoint = { position: 0n, hash: GENESIS_HASH };

/** int8 comes back as bigint (never through a double); everything else as node-postgres parses it. */
const TYPES: CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === INT8_OID && format !== 'binary' ? (text: string) => BigInt(text) : pgTypes.getTypeParser(oid, format)),
};

interface EventRow {
  position: bigint;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
  hash: string;
}

const EVENT_COLUMNS = 'position, event_id, stream_id, revision, type, data, metadata, recorded_at, hash';

interface PreparedEvent {
  eventId: string;
  type: string;
  data: string;
  metadata: NewEvent['metadata'];
}

interface PreparedAppend {
  streamId: string;
  expected: ExpectedRevision;
  events: PreparedEvent[];
}

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

interface Head {
  position: bigint;
  hash: string;
  recordedAtMs: number;
}

/** What the group's transaction knows about an event id already in the log. */
interface StoredId {
  streamId: string;
  revision: number;
  position: bigint;
  recordedAt: string;
}

interface SubscriptionState {
  cursor: bigint;
  closed: boolean;
  failure: Error | null;
  /** Something was appended since the last read began (a wake-up that came while reading). */
  signalled: boolean;
  wake: (() => void) | null;
}

/** The store stamps recordedAt: one the caller passes (a copied stored event's) is dropped. */
function withoutRecordedAt(metadata: object): object {
  const { recordedAt: _recordedAt, ...rest } = metadata as Record<string, unknown>;
  return rest;
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: row.position,
    data: JSON.parse(row.data),
    metadata: { ...(JSON.parse(row.metadata) as StoredMetadata), recordedAt: row.recorded_at },
    hash: row.hash,
  };
}

function rowHash(previousHash: string, row: Omit<EventRow, 'hash'>): string {
  return eventHash(previousHash, {
    position: row.position,
    eventId: row.event_id,
    streamId: row.stream_id,
    revision: Number(row.revision),
    type: row.type,
    recordedAt: row.recorded_at,
    data: row.data,
    metadata: row.metadata,
  });
}

function matchesExpected(expected: ExpectedRevision, current: number | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  if (expected === 'stream_exists') return current !== null;
  return current === expected;
}

function checkText(what: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail the whole group later.
  if (value.includes('\u0000')) throw new TypeError(`${what} must not contain NUL characters`);
  return value;
}

/** Checks and serialises an append's events once, before it waits for its group commit. */
function prepareAppends(appends: readonly StreamAppend[]): PreparedAppend[] {
  if (!Array.isArray(appends) || appends.length === 0) throw new TypeError('append needs at least one stream');
  const seen = new Set<string>();
  return appends.map(({ streamId, events, expectedRevision }) => {
    checkText('streamId', streamId);
    const expected = expectedRevision ?? 'any';
    if (!Array.isArray(events) || events.length === 0) throw new TypeError('appendToStream needs at least one event');
    if (typeof expected === 'number') {
      if (!Number.isInteger(expected) || expected < 0 || expected > INT4_MAX) {
        throw new TypeError(`expectedRevision must be a non-negative integer, got ${expected}`);
      }
    } else if (expected !== 'any' && expected !== 'no_stream' && expected !== 'stream_exists') {
      throw new TypeError(`expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision, got ${String(expected)}`);
    }
    for (const e of events) checkText('eventId', e.eventId);
    const repeated = events.map((e) => e.eventId).filter((id) => seen.has(id) || !seen.add(id));
    if (repeated.length > 0) throw new DuplicateEventIdConflict(streamId, repeated);
    return {
      streamId,
      expected,
      events: events.map((e) => {
        const metadata = { ...e.metadata };
        canonicalJson(metadata);
        return { eventId: e.eventId, type: checkText('type', e.type), data: canonicalJson(e.data), metadata };
      }),
    };
  });
}

/** maxCount as a LIMIT: none when absent or negative (as on SQLite); a count must be an integer. */
function limitOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined || maxCount < 0) return null;
  if (!Number.isInteger(maxCount)) throw new TypeError(`maxCount must be an integer, got ${maxCount}`);
  return maxCount;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The state of the log as one group transaction sees it (under the append lock), with the changes of
 * the appends applied so far. An append works on a fork and merges it only once its rows are in.
 */
class GroupView {
  /** The server's clock when the group took the append lock (ms). */
  serverMs = 0;
  private readonly ids = new Map<string, StoredId>();
  private readonly revisions = new Map<string, number | null>();

  constructor(
    public head: Head,
    private readonly parent: GroupView | null = null,
  ) {}

  storedId(eventId: string): StoredId | undefined {
    return this.ids.get(eventId) ?? this.parent?.storedId(eventId);
  }

  revision(streamId: string): number | null {
    if (this.revisions.has(streamId)) return this.revisions.get(streamId) ?? null;
    return this.parent ? this.parent.revision(streamId) : null;
  }

  remember(eventId: string, stored: StoredId): void {
    this.ids.set(eventId, stored);
  }

  setRevision(streamId: string, revision: number | null): void {
    this.revisions.set(streamId, revision);
  }

  fork(): GroupView {
    return new GroupView(this.head, this);
  }

  /** Applies a fork's changes to its parent. */
  merge(): void {
    const parent = this.parent!;
    for (const [id, stored] of this.ids) parent.ids.set(id, stored);
    for (const [stream, revision] of this.revisions) parent.revisions.set(stream, revision);
    parent.head = this.head;
  }
}

/**
 * A named (prepared) statement: each pooled connection parses and plans it once, then only binds
 * and executes it. The name is the text's digest, so one name never stands for two texts.
 */
function prepared(text: string, values: unknown[]): QueryConfig {
  let name = PREPARED_NAMES.get(text);
  if (!name) {
    name = `cl_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    PREPARED_NAMES.set(text, name);
  }
  return { name, text, values };
}
const PREPARED_NAMES = new Map<string, string>();

/** An insert failed in a group run without savepoints: the transaction is aborted, the group runs again carefully. */
class InsertFailedUnguarded extends Error {
  constructor(readonly error: unknown) {
    super('an insert failed in a group without savepoints');
  }
}

interface GroupViewRow {
  head: { position: string; hash: string; recorded_at: string } | null;
  ids: { event_id: string; stream_id: string; revision: number; position: string; recorded_at: string }[];
  revisions: { stream_id: string; revision: number | null }[];
}

/** One stream part planned by an append: either a dedup answer or rows to insert. */
type PlannedPart =
  | { kind: 'dedup'; result: AppendResult }
  | { kind: 'write'; part: PreparedAppend; firstRevision: number };

export class PostgresEventStore extends EventStore {
  readonly kind = 'postgres';
  readonly capabilities: StoreCapabilities = { atomicMultiStream: true, globalChain: true, eventLookup: true };
  readonly records: PostgresRecords;
  /** The PostgreSQL schema holding the store's tables. */
  readonly schema: string;

  private readonly db: Pool;
  private readonly clientConfig: ClientConfig;
  private readonly pollIntervalMs: number;
  private readonly channel: string;
  private readonly lockKey: number;
  private readonly sql: ReturnType<typeof statements>;
  private readonly commits: GroupCommit<PreparedAppend[], AppendResult[]>;
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | null = null;
  private listener: Client | null = null;
  private listenerTimer: NodeJS.Timeout | null = null;
  private listenerBackoffMs = LISTEN_BACKOFF_MIN_MS;
  private readonly subscriptions = new Set<SubscriptionState>();
  private readonly counters: PostgresEventStoreStats = {
    groupCommits: 0,
    appends: 0,
    retriedGroups: 0,
    carefulGroups: 0,
    inDoubtCommits: 0,
    inDoubtFoundCommitted: 0,
    listenerReconnects: 0,
  };

  /** Use openPostgresEventStore: it also creates or migrates the schema and starts listening. */
  constructor(options: PostgresEventStoreOptions) {
    super();
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new TypeError('connectionString is required');
    }
    this.schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new TypeError('poolSize must be a positive integer');
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    if (!(this.pollIntervalMs > 0)) throw new TypeError('pollIntervalMs must be positive');
    this.channel = notifyChannel(this.schema);
    this.lockKey = schemaLockKey(this.schema);
    this.sql = statements(quoteIdent(this.schema));
    this.clientConfig = {
      connectionString: options.connectionString,
      application_name: options.applicationName ?? 'careledger',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      keepAlive: true,
      types: TYPES,
    };
    this.db = new Pool({ ...this.clientConfig, max: poolSize, idleTimeoutMillis: 10_000 });
    // An idle pooled connection that dies (server restart, pg_terminate_backend) is dropped by the
    // pool; without a listener the 'error' event would crash the process.
    this.db.on('error', () => undefined);
    this.records = new PostgresRecords(this.db, this.sql, () => this.assertOpen());
    this.commits = new GroupCommit(MAX_APPENDS_PER_GROUP, (group) => this.serialise(group));
  }

  /** @internal Creates or migrates the schema and starts the LISTEN connection. */
  async start(): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.db.connect();
    } catch (error) {
      throw toStoreError(error, `connecting to the event store`);
    }
    try {
      await migrate(client, this.schema);
    } catch (error) {
      client.release(true);
      // A refused (newer) schema keeps its own message; what the server says becomes StoreUnavailable.
      if (isConnectionError(error) || sqlState(error) !== undefined) throw toStoreError(error, 'migrating the event store schema');
      throw error;
    }
    client.release();
    try {
      await this.connectListener();
    } catch (error) {
      throw toStoreError(error, 'listening for new events');
    }
  }

  /**
   * The pool, for components that keep tables of their own in the store's database. Never write to
   * the events table through it: appends must go through `append` (lock, chain, dedup).
   */
  get pool(): Pool {
    return this.db;
  }

  stats(): PostgresEventStoreStats {
    return { ...this.counters };
  }

  /** Is the LISTEN connection that wakes subscriptions up? (Polling covers the gaps when not.) */
  get listening(): boolean {
    return this.listener !== null;
  }

  append(appends: StreamAppend[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StoreUnavailable('event store is closed'));
    let prepared: PreparedAppend[];
    try {
      prepared = prepareAppends(appends);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.commits.submit(prepared);
  }

  /**
   * Groups run one after the other in this process: they would only queue on the append lock in the
   * server otherwise, each holding a pooled connection that reads need.
   */
  private serialise(group: Pending<PreparedAppend[], AppendResult[]>[]): Promise<void> {
    const run = this.writeChain.then(() => this.commitGroup(group));
    // commitGroup settles every append itself; a bug there must not stall every later group.
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** Runs a group's transaction (again, when that is safe and needed) and settles every append. */
  private async commitGroup(group: Pending<PreparedAppend[], AppendResult[]>[]): Promise<void> {
    const requests = group.map((p) => p.request);
    let outcomes: Outcome[] | null = null;
    let lastError: unknown;
    /** The plans of attempts whose COMMIT was sent and not answered: any of them may have committed. */
    const inDoubtPlans: Outcome[][] = [];
    // The group runs without a savepoint per append (one round trip each); when an insert fails in
    // the database, the group is rolled back and run again with savepoints, so only that append fails.
    let careful = false;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
      const plan: Outcome[] = [];
      const progress = { commitSent: false };
      try {
        outcomes = await this.runGroup(requests, plan, progress, careful);
        break;
      } catch (error) {
        if (error instanceof InsertFailedUnguarded) {
          careful = true;
          attempt -= 1;
          this.counters.carefulGroups += 1;
          continue;
        }
        lastError = error;
        const lostConnection = isConnectionError(error);
        if (progress.commitSent && lostConnection) {
          this.counters.inDoubtCommits += 1;
          inDoubtPlans.push(plan);
        }
        if (!(lostConnection || isSerializationFailure(error)) || attempt === WRITE_ATTEMPTS) break;
        this.counters.retriedGroups += 1;
        await delay(RETRY_DELAYS_MS[attempt - 1]);
      }
    }

    if (outcomes === null) {
      const error =
        inDoubtPlans.length > 0
          ? new StoreUnavailable(
              'PostgreSQL: the connection was lost during COMMIT and the outcome could not be settled; ' +
                'retry the append with the same event ids to settle it',
              lastError,
            )
          : toStoreError(lastError, 'append');
      for (const p of group) p.reject(error);
      return;
    }

    this.counters.groupCommits += 1;
    this.counters.appends += group.length;
    let wrote = false;
    group.forEach((p, i) => {
      let outcome = outcomes![i];
      for (const plan of inDoubtPlans) {
        const planned = plan[i];
        if (planned?.ok && outcome.ok && sameWrite(planned.results, outcome.results)) {
          // A lost COMMIT had written this append: report it as written, as it was.
          this.counters.inDoubtFoundCommitted += 1;
          outcome = planned;
          break;
        }
      }
      if (outcome.ok) {
        if (outcome.results.some((r) => !r.deduplicated)) wrote = true;
        p.resolve(outcome.results);
      } else {
        p.reject(outcome.error);
      }
    });
    // Our own NOTIFY wakes this store's subscriptions too; wake them here only when LISTEN is down.
    if (wrote && !this.listening) this.wakeSubscriptions();
  }

  /**
   * One group transaction: BEGIN, the append lock, the head and what the log holds about the group's
   * event ids and streams, then every append under its own savepoint (one refused or failed append
   * does not undo the others), NOTIFY, COMMIT. `plan` receives each append's outcome as it is decided,
   * so a caller can compare it with a rerun when the COMMIT is lost.
   */
  private async runGroup(requests: PreparedAppend[][], plan: Outcome[], progress: { commitSent: boolean }, careful: boolean): Promise<Outcome[]> {
    const client = await this.db.connect();
    let broken: unknown = null;
    const onError = (error: unknown) => (broken = error);
    client.on('error', onError);
    try {
      // One round trip: BEGIN and the append lock. The head read below is its own statement, so it
      // takes its snapshot after the lock is granted (READ COMMITTED: a snapshot per statement).
      await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, ${this.lockKey})`);
      const view = await this.loadView(client, requests);
      let wrote = false;
      for (const [i, request] of requests.entries()) {
        plan[i] = await this.applyAppend(client, request, view, careful);
        if (plan[i].ok && (plan[i] as { results: AppendResult[] }).results.some((r) => !r.deduplicated)) wrote = true;
      }
      progress.commitSent = true;
      // One round trip: NOTIFY (when something was written) and COMMIT
      await client.query(
        wrote ? `SELECT pg_notify(${literal(this.channel)}, ${literal(view.head.position.toString())}); COMMIT` : 'COMMIT',
      );
      return plan;
    } catch (error) {
      if (broken === null && isConnectionError(error)) broken = error;
      if (broken === null && !progress.commitSent) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken === null ? undefined : broken instanceof Error ? broken : true);
    }
  }

  private async loadView(client: PoolClient, requests: PreparedAppend[][]): Promise<GroupView> {
    const eventIds = requests.flatMap((request) => request.flatMap((part) => part.events.map((e) => e.eventId)));
    const streamIds = [...new Set(requests.flatMap((request) => request.map((part) => part.streamId)))];
    // one round trip: the head, the server's clock, the group's ids and its streams' revisions
    const result = await client.query<{ head: GroupViewRow['head']; ms: bigint; ids: GroupViewRow['ids']; revisions: GroupViewRow['revisions'] }>(
      prepared(this.sql.groupView, [eventIds, streamIds]),
    );
    const { head: top, ms, ids, revisions } = result.rows[0];
    const view = new GroupView(
      top
        ? { position: BigInt(top.position), hash: top.hash, recordedAtMs: Date.parse(top.recorded_at) }
        : { position: 0n, hash: GENESIS.hash, recordedAtMs: Number.NEGATIVE_INFINITY },
    );
    view.serverMs = Number(ms);
    for (const row of ids) {
      view.remember(row.event_id, { streamId: row.stream_id, revision: row.revision, position: BigInt(row.position), recordedAt: row.recorded_at });
    }
    for (const row of revisions) view.setRevision(row.stream_id, row.revision);
    return view;
  }

  /** Decides one append (every part) against the view, then writes its rows under a savepoint. */
  private async applyAppend(client: PoolClient, request: PreparedAppend[], view: GroupView, careful: boolean): Promise<Outcome> {
    const fork = view.fork();
    const parts: PlannedPart[] = [];
    try {
      for (const part of request) parts.push(this.planPart(part, fork));
    } catch (error) {
      return { ok: false, error };
    }
    const writes = parts.filter((p): p is Extract<PlannedPart, { kind: 'write' }> => p.kind === 'write');
    if (writes.length === 0) return { ok: true, results: parts.map((p) => (p as { result: AppendResult }).result) };

    // The server's clock read under the append lock: once per group (loadView), or with each
    // append's savepoint when the group runs carefully.
    let serverMs = view.serverMs;
    if (careful) {
      const opened = (await client.query('SAVEPOINT append; SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS ms')) as unknown as QueryResult[];
      serverMs = Number((opened[1].rows[0] as { ms: bigint }).ms);
    }
    const recordedAtMs = Math.max(serverMs, fork.head.recordedAtMs + 1);
    const recordedAt = new Date(recordedAtMs).toISOString();

    let { position, hash } = fork.head;
    const columns = { positions: [] as string[], eventIds: [] as string[], streamIds: [] as string[], revisions: [] as number[], types: [] as string[], data: [] as string[], metadata: [] as string[], hashes: [] as string[] };
    const results: AppendResult[] = [];
    for (const planned of parts) {
      if (planned.kind === 'dedup') {
        results.push(planned.result);
        continue;
      }
      const positions: bigint[] = [];
      let revision = planned.firstRevision - 1;
      for (const event of planned.part.events) {
        position += 1n;
        revision += 1;
        const row = {
          position,
          event_id: event.eventId,
          stream_id: planned.part.streamId,
          revision,
          type: event.type,
          data: event.data,
          // the hash covers recordedAt on its own; the metadata text leaves it out (hashedMetadataOf)
          metadata: canonicalJson(withoutRecordedAt(event.metadata)),
          recorded_at: recordedAt,
        };
        hash = rowHash(hash, row);
        columns.positions.push(position.toString());
        columns.eventIds.push(row.event_id);
        columns.streamIds.push(row.stream_id);
        columns.revisions.push(revision);
        columns.types.push(row.type);
        columns.data.push(row.data);
        columns.metadata.push(row.metadata);
        columns.hashes.push(hash);
        positions.push(position);
        fork.remember(event.eventId, { streamId: row.stream_id, revision, position, recordedAt });
      }
      fork.setRevision(planned.part.streamId, revision);
      results.push({ nextExpectedRevision: revision, position, positions, recordedAt, deduplicated: false });
    }

    try {
      await client.query(prepared(this.sql.insert, [
        columns.positions,
        columns.eventIds,
        columns.streamIds,
        columns.revisions,
        columns.types,
        columns.data,
        columns.metadata,
        recordedAt,
        columns.hashes,
      ]));
      if (careful) await client.query('RELEASE SAVEPOINT append');
    } catch (error) {
      if (isConnectionError(error) || isSerializationFailure(error)) throw error;
      // without a savepoint the transaction is aborted: the group runs again, carefully
      if (!careful) throw new InsertFailedUnguarded(error);
      await client.query('ROLLBACK TO SAVEPOINT append; RELEASE SAVEPOINT append');
      return { ok: false, error: await this.insertFailure(client, request, error) };
    }
    fork.head = { position, hash, recordedAtMs };
    fork.merge();
    return { ok: true, results };
  }

  /** SQLite's per-part semantics: dedup, duplicate-id conflict, expected revision. */
  private planPart(part: PreparedAppend, view: GroupView): PlannedPart {
    const existing = part.events.map((e) => view.storedId(e.eventId));
    const found = existing.filter((stored): stored is StoredId => stored !== undefined);
    if (found.length > 0) {
      const sameAppend =
        found.length === existing.length && found.every((stored, i) => stored.streamId === part.streamId && stored.revision === found[0].revision + i);
      if (!sameAppend) {
        throw new DuplicateEventIdConflict(
          part.streamId,
          part.events.filter((_e, i) => existing[i] !== undefined).map((e) => e.eventId),
        );
      }
      const last = found[found.length - 1];
      return {
        kind: 'dedup',
        result: {
          nextExpectedRevision: last.revision,
          position: last.position,
          positions: found.map((stored) => stored.position),
          recordedAt: last.recordedAt,
          deduplicated: true,
        },
      };
    }
    const current = view.revision(part.streamId);
    if (!matchesExpected(part.expected, current)) throw new ConcurrencyConflict(part.streamId, part.expected, current ?? 'no_stream');
    const firstRevision = (current ?? -1) + 1;
    // Later parts of the same append see this one (the same stream twice in one call).
    view.setRevision(part.streamId, firstRevision + part.events.length - 1);
    return { kind: 'write', part, firstRevision };
  }

  /**
   * An INSERT refused by the database. Unique violations can only come from a writer that bypassed
   * the append lock; they still mean what they say. Anything else is not the caller's fault.
   */
  private async insertFailure(client: PoolClient, request: PreparedAppend[], error: unknown): Promise<Error> {
    if (sqlState(error) === '23505') {
      const { constraint, detail } = error as { constraint?: string; detail?: string };
      if (constraint === 'events_event_id_key') {
        const id = /\(event_id\)=\((.*)\) already exists/.exec(detail ?? '')?.[1];
        const part = request.find((p) => p.events.some((e) => e.eventId === id)) ?? request[0];
        return new DuplicateEventIdConflict(part.streamId, id ? [id] : part.events.map((e) => e.eventId));
      }
      if (constraint === 'events_stream_revision_key') {
        const stream = /\(stream_id, revision\)=\((.*), \d+\) already exists/.exec(detail ?? '')?.[1];
        const part = request.find((p) => p.streamId === stream) ?? request[0];
        const actual = await client.query<{ revision: number | null }>(this.sql.revisionOf, [part.streamId]).catch(() => null);
        return new ConcurrencyConflict(part.streamId, part.expected, actual?.rows[0]?.revision ?? 'no_stream');
      }
    }
    return toStoreError(error, `append to ${request.map((p) => p.streamId).join(', ')}`);
  }

  /** A read, retried on a fresh connection when a pooled one turns out dead (reads are idempotent). */
  private async read<R extends QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<R[]> {
    this.assertOpen();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.db.query<R>(prepared(text, values))).rows;
      } catch (error) {
        if (attempt >= READ_ATTEMPTS || !isConnectionError(error) || this.closed) throw toStoreError(error, what);
        await delay(RETRY_DELAYS_MS[attempt - 1]);
      }
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    checkText('streamId', streamId);
    const limit = limitOf(options.maxCount);
    if (limit === 0) return [];
    const from = options.fromRevision;
    if (options.direction === 'backwards') {
      const top = from === undefined || from === 'end' ? INT4_MAX : from === 'start' ? 0 : Math.min(from, INT4_MAX);
      return (await this.read<EventRow>('readStream', this.sql.backwards, [streamId, top, limit])).map(toStoredEvent);
    }
    if (from === 'end') return [];
    const bottom = from === undefined || from === 'start' ? 0 : from;
    if (bottom > INT4_MAX) return [];
    return (await this.read<EventRow>('readStream', this.sql.forwards, [streamId, bottom, limit])).map(toStoredEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    if (options.maxCount === 0) return [];
    const rows = await this.read<EventRow>('readAll', this.sql.all, [(options.after ?? 0n).toString(), limitOf(options.maxCount)]);
    return rows.map(toStoredEvent);
  }

  async readEvents(eventIds: readonly string[]): Promise<StoredEvent[]> {
    if (eventIds.length === 0) {
      this.assertOpen();
      return [];
    }
    return (await this.read<EventRow>('readEvents', this.sql.byIds, [[...eventIds]])).map(toStoredEvent);
  }

  async headPosition(): Promise<bigint> {
    const [row] = await this.read<{ position: bigint | null }>('headPosition', this.sql.maxPosition);
    return row?.position ?? 0n;
  }

  async head(): Promise<ChainPoint> {
    const [row] = await this.read<{ position: bigint; hash: string }>('head', this.sql.head);
    return row ? { position: row.position, hash: row.hash } : { ...GENESIS };
  }

  async hashAt(position: bigint): Promise<string | null> {
    const [row] = await this.read<{ hash: string }>('hashAt', this.sql.hashAt, [position.toString()]);
    return row?.hash ?? null;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    try {
      return await Promise.race([this.read('ping', 'SELECT 1').then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Recomputes the chain from the start or after a point verified before (whose hash is checked
   * first), `batchSize` events per query, yielding to the event loop between batches.
   */
  async verifyIntegrity(options: VerifyOptions & { batchSize?: number } = {}): Promise<IntegrityReport> {
    this.assertOpen();
    const batchSize = options.batchSize ?? VERIFY_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('batchSize must be a positive integer');
    const from = options.from ?? GENESIS;
    if (from.position > 0n && (await this.hashAt(from.position)) !== from.hash) {
      return { events: 0, ok: false, firstBrokenPosition: from.position, verifiedUpTo: { ...GENESIS } };
    }
    let previous = from.hash;
    let verified: ChainPoint = { position: from.position, hash: from.hash };
    let events = 0;
    for (;;) {
      const batch = await this.read<EventRow>('verifyIntegrity', this.sql.all, [verified.position.toString(), batchSize]);
      for (const row of batch) {
        events += 1;
        if (rowHash(previous, row) !== row.hash) return { events, ok: false, firstBrokenPosition: row.position, verifiedUpTo: verified };
        previous = row.hash;
        verified = { position: row.position, hash: row.hash };
      }
      if (batch.length > 0) options.onProgress?.({ events, position: verified.position });
      if (batch.length < batchSize) return { events, ok: true, firstBrokenPosition: null, verifiedUpTo: verified };
      await yieldToEventLoop();
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('batchSize must be a positive integer');
    const state: SubscriptionState = { cursor: options.after ?? 0n, closed: false, failure: null, signalled: false, wake: null };
    this.subscriptions.add(state);
    let iterator: AsyncGenerator<StoredEvent> | undefined;
    return {
      [Symbol.asyncIterator]: () => (iterator ??= this.deliver(state, batchSize)),
      close: async () => {
        state.closed = true;
        state.wake?.();
        this.subscriptions.delete(state);
      },
    };
  }

  /** Reads one batch, hands it out event by event, and only then reads (or waits for) the next. */
  private async *deliver(state: SubscriptionState, batchSize: number): AsyncGenerator<StoredEvent> {
    try {
      while (!state.closed && !this.closed) {
        if (state.failure) throw state.failure;
        state.signalled = false;
        const batch = await this.read<EventRow>('subscription read', this.sql.all, [state.cursor.toString(), batchSize]);
        for (const row of batch) {
          if (state.closed) return;
          state.cursor = row.position;
          yield toStoredEvent(row);
        }
        if (batch.length < batchSize && !state.closed) await this.nextAppendOrPoll(state);
      }
    } finally {
      state.closed = true;
      this.subscriptions.delete(state);
    }
  }

  /** Resolves on a notification, on this store's own commit, on the poll timer, on failure or close. */
  private nextAppendOrPoll(state: SubscriptionState): Promise<void> {
    return new Promise<void>((resolve) => {
      if (state.failure || state.closed || state.signalled) return resolve();
      const done = () => {
        clearTimeout(timer);
        state.wake = null;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      state.wake = done;
    });
  }

  private wakeSubscriptions(): void {
    for (const state of [...this.subscriptions]) {
      state.signalled = true;
      state.wake?.();
    }
  }

  private async connectListener(): Promise<void> {
    const client = new Client(this.clientConfig);
    const lost = (error: unknown) => this.listenerLost(client, error);
    client.on('error', lost);
    client.on('end', () => lost(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.wakeSubscriptions();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  private listenerLost(client: Client, error: unknown): void {
    if (client !== this.listener) return;
    this.listener = null;
    client.end().catch(() => undefined);
    if (this.closed) return;
    const failure = new StoreUnavailable(
      'PostgreSQL: lost the connection that announces new events; resubscribe from the last position you processed',
      error,
    );
    for (const state of this.subscriptions) {
      if (state.closed) continue;
      state.failure = failure;
      state.wake?.();
    }
    this.scheduleListener();
  }

  private scheduleListener(): void {
    if (this.closed || this.listenerTimer) return;
    const wait = this.listenerBackoffMs;
    this.listenerBackoffMs = Math.min(wait * 2, LISTEN_BACKOFF_MAX_MS);
    this.listenerTimer = setTimeout(() => {
      this.listenerTimer = null;
      if (this.closed) return;
      this.connectListener().then(
        () => {
          if (this.closed || !this.listener) return;
          this.listenerBackoffMs = LISTEN_BACKOFF_MIN_MS;
          this.counters.listenerReconnects += 1;
          // Notifications sent while it was down are lost: let every waiting subscription look.
          this.wakeSubscriptions();
        },
        () => this.scheduleListener(),
      );
    }, wait);
    this.listenerTimer.unref();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailable('event store is closed');
  }

  /** Ends subscriptions, commits the appends already queued, then ends the LISTEN connection and the pool. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.commits.flushNow();
      await this.writeChain;
      for (const state of [...this.subscriptions]) {
        state.closed = true;
        state.wake?.();
      }
      this.subscriptions.clear();
      if (this.listenerTimer) clearTimeout(this.listenerTimer);
      this.listenerTimer = null;
      const listener = this.listener;
      this.listener = null;
      if (listener) {
        listener.removeAllListeners('end');
        await listener.end().catch(() => undefined);
      }
      await this.db.end().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** Two results describe the same write: a rerun found the events where the lost commit put them. */
function sameWrite(planned: AppendResult[], rerun: AppendResult[]): boolean {
  return (
    planned.length === rerun.length &&
    planned.some((p) => !p.deduplicated) &&
    rerun.every((r) => r.deduplicated) &&
    planned.every(
      (p, i) =>
        p.recordedAt === rerun[i].recordedAt &&
        p.nextExpectedRevision === rerun[i].nextExpectedRevision &&
        p.positions.length === rerun[i].positions.length &&
        p.positions.every((position, k) => position === rerun[i].positions[k]),
    )
  );
}

function statements(s: string) {
  const events = `${s}.events`;
  const records = `${s}.records`;
  const now = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  return {
    head: `SELECT position, hash, recorded_at FROM ${events} ORDER BY position DESC LIMIT 1`,
    maxPosition: `SELECT max(position) AS position FROM ${events}`,
    hashAt: `SELECT hash FROM ${events} WHERE position = $1::int8`,
    idsIn: `SELECT event_id, stream_id, revision, position, recorded_at FROM ${events} WHERE event_id = ANY($1::text[])`,
    // positions as text inside JSON (int8 beyond 2^53 would lose digits as JSON numbers)
    groupView: `SELECT
        (SELECT json_build_object('position', h.position::text, 'hash', h.hash, 'recorded_at', h.recorded_at)
           FROM (SELECT position, hash, recorded_at FROM ${events} ORDER BY position DESC LIMIT 1) h) AS head,
        floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS ms,
        (SELECT coalesce(json_agg(json_build_object('event_id', i.event_id, 'stream_id', i.stream_id, 'revision', i.revision, 'position', i.position::text, 'recorded_at', i.recorded_at)), '[]'::json)
           FROM ${events} i WHERE i.event_id = ANY($1::text[])) AS ids,
        (SELECT coalesce(json_agg(json_build_object('stream_id', s.stream_id, 'revision', (SELECT max(e.revision) FROM ${events} e WHERE e.stream_id = s.stream_id))), '[]'::json)
           FROM unnest($2::text[]) AS s(stream_id)) AS revisions`,
    revisionsOf: `SELECT s.stream_id, (SELECT max(e.revision) FROM ${events} e WHERE e.stream_id = s.stream_id) AS revision
                  FROM unnest($1::text[]) AS s(stream_id)`,
    revisionOf: `SELECT max(revision) AS revision FROM ${events} WHERE stream_id = $1`,
    insert: `INSERT INTO ${events} (position, event_id, stream_id, revision, type, data, metadata, recorded_at, hash)
             SELECT p, e, s, r, t, d, m, $8::text, h
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::text[], $9::text[]) AS u(p, e, s, r, t, d, m, h)`,
    forwards: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE stream_id = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`,
    backwards: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE stream_id = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`,
    all: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE position > $1::int8 ORDER BY position LIMIT $2`,
    byIds: `SELECT ${EVENT_COLUMNS} FROM ${events} WHERE event_id = ANY($1::text[]) ORDER BY position`,
    recordGet: `SELECT key, version, value, updated_at FROM ${records} WHERE key = $1`,
    recordInsert: `INSERT INTO ${records} (key, version, value, updated_at) VALUES ($1, 1, $2, ${now})
                   ON CONFLICT (key) DO NOTHING RETURNING version`,
    recordUpdate: `UPDATE ${records} SET version = version + 1, value = $2, updated_at = ${now}
                   WHERE key = $1 AND version = $3 RETURNING version`,
    recordList: `SELECT key, version, value, updated_at FROM ${records}
                 WHERE key LIKE $1 ESCAPE '\\' AND key > $2 ORDER BY key LIMIT $3`,
  };
}

interface RecordRow {
  key: string;
  version: number;
  value: string;
  updated_at: string;
}

function toRecord<V>(row: RecordRow): StoredRecord<V> {
  return { key: row.key, version: Number(row.version), value: JSON.parse(row.value) as V, updatedAt: row.updated_at };
}

/** Compare-and-set records beside the log; updatedAt from the server's clock. */
class PostgresRecords extends StoreRecords {
  constructor(
    private readonly db: Pool,
    private readonly sql: ReturnType<typeof statements>,
    private readonly assertOpen: () => void,
  ) {
    super();
  }

  private async query<R extends QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    this.assertOpen();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.db.query<R>(text, values)).rows;
      } catch (error) {
        if (attempt >= READ_ATTEMPTS || !isConnectionError(error)) throw toStoreError(error, what);
        await delay(RETRY_DELAYS_MS[attempt - 1]);
      }
    }
  }

  /**
   * A write is retried only when it certainly did not reach the server (no connection, or a pooled
   * connection already known dead); a write lost on the way back is StoreUnavailable: read the record
   * to learn whether it landed.
   */
  private async write(what: string, text: string, values: unknown[]): Promise<RecordRow[] | 'conflict'> {
    this.assertOpen();
    for (let attempt = 1; ; attempt += 1) {
      let client: PoolClient;
      try {
        client = await this.db.connect();
      } catch (error) {
        if (attempt >= READ_ATTEMPTS || !isConnectionError(error)) throw toStoreError(error, what);
        await delay(RETRY_DELAYS_MS[attempt - 1]);
        continue;
      }
      let broken: unknown = null;
      const onError = (error: unknown) => (broken = error);
      client.on('error', onError);
      try {
        return (await client.query<RecordRow>(text, values)).rows;
      } catch (error) {
        if (isConnectionError(error)) broken = error;
        // Under a SERIALIZABLE default isolation a concurrent writer shows up as 40001: it won.
        if (isSerializationFailure(error)) return 'conflict';
        if (attempt >= READ_ATTEMPTS || !wasNeverSent(error)) throw toStoreError(error, what);
      } finally {
        client.off('error', onError);
        client.release(broken === null ? undefined : broken instanceof Error ? broken : true);
      }
      await delay(RETRY_DELAYS_MS[attempt - 1]);
    }
  }

  async get<V>(key: string): Promise<StoredRecord<V> | null> {
    const [row] = await this.query<RecordRow>('records.get', this.sql.recordGet, [checkText('key', key)]);
    return row ? toRecord<V>(row) : null;
  }

  async put(key: string, value: unknown, expectedVersion: number | null): Promise<number> {
    checkText('key', key);
    if (expectedVersion !== null && (!Number.isInteger(expectedVersion) || expectedVersion < 1)) {
      throw new TypeError(`expectedVersion must be null or a positive integer, got ${String(expectedVersion)}`);
    }
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('a record value must be JSON');
    const rows =
      expectedVersion === null
        ? await this.write('records.put', this.sql.recordInsert, [key, text])
        : await this.write('records.put', this.sql.recordUpdate, [key, text, expectedVersion]);
    if (rows !== 'conflict' && rows.length === 1) return Number(rows[0].version);
    const [current] = await this.query<RecordRow>('records.get', this.sql.recordGet, [key]);
    throw new ConcurrencyConflict(`record:${key}`, expectedVersion, current ? Number(current.version) : 'no_stream');
  }

  async list<V>(prefix: string, options: { after?: string; limit?: number } = {}): Promise<StoredRecord<V>[]> {
    checkText('prefix', prefix);
    if (options.limit === 0) {
      this.assertOpen();
      return [];
    }
    const pattern = `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
    const rows = await this.query<RecordRow>('records.list', this.sql.recordList, [pattern, options.after ?? '', options.limit ?? null]);
    return rows.map((row) => toRecord<V>(row));
  }
}

/**
 * Connects, creates or migrates the schema (refusing one newer than this code), and starts the
 * LISTEN connection. Rejects with StoreUnavailable when the server cannot be reached.
 */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const store = new PostgresEventStore(options);
  try {
    await store.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
