import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type AppendResult,
  type ChainPoint,
  type Clock,
  ConcurrencyConflict,
  DuplicateEventIdConflict,
  EventStore,
  type ExpectedRevision,
  IntegrityViolation,
  type IntegrityReport,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoreCapabilities,
  type StoredEvent,
  type EventMetadata,
  type StoredMetadata,
  type StoredRecord,
  StoreRecords,
  StoreUnavailable,
  type StreamAppend,
  type SubscribeOptions,
  type Subscription,
  systemClock,
  type VerifyOptions,
} from '../port';
import { canonicalJson } from '../hash';
import { GroupCommit } from '../group-commit';
import { type EventRow, GENESIS, rowHash } from './chain-walk';
import { hashKey, hashText, idKey, idText } from './codec';
import { VERIFY_WORKER_KIND, type VerifyMessage, type VerifyRequest } from './verify-worker';

export interface SqliteEventStoreOptions {
  /** File path (created when missing). Other CareLedger components may share the file. */
  path: string;
  clock?: Clock;
  /** FULL (default): an acknowledged append survives power loss. NORMAL: survives a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** How often an idle subscription looks for appends made by other connections. Default 100. */
  pollIntervalMs?: number;
  /** Open the file read-only (verification, export). */
  readonly?: boolean;
}

export interface ImportResult {
  imported: number;
  headPosition: bigint;
}

export interface SqliteEventStoreStats {
  /** Write transactions committed by this instance (each holds one or more appends). */
  groupCommits: number;
  /** Commits (one per `append` call) settled by this instance (written, deduplicated or refused). */
  appends: number;
}

/**
 * 1: the log. 2: adds `records` (leases, webhook state, signed checkpoints). 3: ids and hashes in
 * bytes, and appended events' metadata without the recordedAt their column already has.
 */
export const SQLITE_SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_store_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  event_id    BLOB NOT NULL UNIQUE,
  stream_id   TEXT NOT NULL,
  revision    INTEGER NOT NULL,
  type        TEXT NOT NULL,
  data        TEXT NOT NULL,
  metadata    TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  hash        BLOB NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE TRIGGER IF NOT EXISTS events_are_immutable_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_are_immutable_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: DELETE refused'); END;
CREATE TABLE IF NOT EXISTS records (
  key        TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`;

const MAX_COMMITS_PER_GROUP = 1000;
const VERIFY_BATCH = 5000;

interface Head {
  position: bigint;
  hash: string;
  recordedAtMs: number;
}

interface SubscriptionState {
  cursor: bigint;
  closed: boolean;
  wake: (() => void) | null;
}

interface PreparedAppend {
  streamId: string;
  expected: ExpectedRevision;
  events: Array<{ eventId: string; type: string; data: string; metadata: NewEvent['metadata'] }>;
}

function toStoredEvent(row: EventRow): StoredEvent {
  const metadata = JSON.parse(row.metadata) as StoredMetadata;
  // since schema 3 the hashed metadata leaves recordedAt to its own column; an older row says what it hashed
  const legacy = metadata.recordedAt !== undefined;
  if (!legacy) metadata.recordedAt = row.recorded_at;
  const event: StoredEvent = {
    eventId: idText(row.event_id),
    type: row.type,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: row.position,
    data: JSON.parse(row.data),
    metadata,
    hash: hashText(row.hash),
  };
  if (legacy) event.hashedMetadata = row.metadata;
  return event;
}

function matchesExpected(expected: ExpectedRevision, current: number | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  if (expected === 'stream_exists') return current !== null;
  return current === expected;
}

function isPortError(error: unknown): boolean {
  return error instanceof ConcurrencyConflict || error instanceof DuplicateEventIdConflict;
}

/** Checks and serialises an append's events once, before it waits for its group commit. */
export function prepareAppends(appends: readonly StreamAppend[]): PreparedAppend[] {
  if (appends.length === 0) throw new TypeError('append needs at least one stream');
  const seen = new Set<string>();
  return appends.map(({ streamId, events, expectedRevision }) => {
    const expected = expectedRevision ?? 'any';
    if (events.length === 0) throw new TypeError('appendToStream needs at least one event');
    if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
      throw new TypeError(`expectedRevision must be a non-negative integer, got ${expected}`);
    }
    const repeated = events.map((e) => e.eventId).filter((id) => seen.has(id) || !seen.add(id));
    if (repeated.length > 0) throw new DuplicateEventIdConflict(streamId, repeated);
    return {
      streamId,
      expected,
      events: events.map((e) => {
        // the store stamps recordedAt: one the caller passes (a copied stored event's) is dropped
        const { recordedAt: _recordedAt, ...metadata } = e.metadata as EventMetadata & { recordedAt?: string };
        canonicalJson(metadata);
        return { eventId: e.eventId, type: e.type, data: canonicalJson(e.data), metadata };
      }),
    };
  });
}

function prepareStatements(db: Database.Database) {
  return {
    head: db.prepare<[], { position: bigint; hash: Buffer | string; recorded_at: string }>(
      'SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1',
    ),
    hashAt: db.prepare<[bigint], { hash: Buffer | string }>('SELECT hash FROM events WHERE position = ?'),
    streamRevision: db.prepare<[string], { revision: bigint }>(
      'SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
    ),
    byEventId: db.prepare<[Buffer | string], EventRow>('SELECT * FROM events WHERE event_id = ?'),
    insert: db.prepare<[bigint, Buffer | string, string, number, string, string, string, string, Buffer]>(
      `INSERT INTO events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    forwards: db.prepare<[string, number, number], EventRow>(
      'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
    ),
    backwards: db.prepare<[string, number, number], EventRow>(
      'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
    ),
    all: db.prepare<[bigint, number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
    maxPosition: db.prepare<[], { position: bigint | null }>('SELECT max(position) AS position FROM events'),
    countBetween: db.prepare<[bigint, bigint, number], { events: bigint }>(
      'SELECT count(*) AS events FROM (SELECT 1 FROM events WHERE position > ? AND position <= ? LIMIT ?)',
    ),
    ping: db.prepare('SELECT 1'),
  };
}

export class SqliteEventStore extends EventStore {
  readonly kind = 'sqlite';
  readonly capabilities: StoreCapabilities = { atomicMultiStream: true, globalChain: true, eventLookup: true };
  readonly records: SqliteRecords;
  readonly path: string;

  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly pollIntervalMs: number;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly commits: GroupCommit<PreparedAppend[], AppendResult[]>;
  private closed = false;
  private readonly wakeups = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly counters: SqliteEventStoreStats = { groupCommits: 0, appends: 0 };

  constructor(options: SqliteEventStoreOptions) {
    super();
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new Error(`synchronous must be FULL or NORMAL`);

    if (!options.readonly) createOwnerOnly(options.path);
    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000, readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    try {
      this.db.defaultSafeIntegers(true);
      if (!options.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma(`synchronous = ${synchronous}`);
        // commands read their streams at random keys: a 64 MiB page cache (SQLite's default is 2 MiB)
        // keeps a working set of streams in memory instead of a read syscall per page
        this.db.pragma('cache_size = -65536');
        this.migrate();
      } else {
        this.checkSchema();
      }
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.statements = prepareStatements(this.db);
    this.records = new SqliteRecords(this.db, this.clock, () => this.assertOpen());
    this.commits = new GroupCommit(MAX_COMMITS_PER_GROUP, (group) => this.commitGroup(group));
  }

  private migrate(): void {
    const run = this.db.transaction(() => {
      this.db.exec(SCHEMA);
      this.db
        .prepare("INSERT OR IGNORE INTO event_store_meta (key, value) VALUES ('schema_version', ?)")
        .run(String(SQLITE_SCHEMA_VERSION));
      const version = this.schemaVersion();
      if (version > SQLITE_SCHEMA_VERSION) {
        throw new Error(`event store schema ${version} is newer than this code (${SQLITE_SCHEMA_VERSION})`);
      }
      // 1 -> 2 only added the records table (above); 2 -> 3 stores ids and hashes as bytes
      if (version < 3) this.migrateToBinaryIdsAndHashes();
      if (version < SQLITE_SCHEMA_VERSION) {
        this.db.prepare("UPDATE event_store_meta SET value = ? WHERE key = 'schema_version'").run(String(SQLITE_SCHEMA_VERSION));
      }
    });
    run.immediate();
  }

  /**
   * Schema 3: ids (UUIDs) and hashes as bytes. Rewrites the two columns in place, with the triggers
   * that refuse UPDATE lifted for the length of this transaction only; the text that was hashed
   * (data, metadata) is untouched, so every hash still verifies.
   */
  private migrateToBinaryIdsAndHashes(): void {
    this.db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update');
    this.db.function('careledger_id_key', (id: unknown) => (typeof id === 'string' ? idKey(id) : id));
    this.db.exec(`UPDATE events SET event_id = careledger_id_key(event_id), hash = unhex(hash) WHERE typeof(hash) = 'text'`);
    this.db.exec(`CREATE TRIGGER IF NOT EXISTS events_are_immutable_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are immutable: UPDATE refused'); END;`);
  }

  private schemaVersion(): number {
    const row = this.db.prepare("SELECT value FROM event_store_meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    return Number(row?.value ?? 0);
  }

  private checkSchema(): void {
    const version = this.schemaVersion();
    if (version < 1 || version > SQLITE_SCHEMA_VERSION) throw new Error(`${this.path} is not a CareLedger event store this code can read (schema ${version})`);
  }

  /** The underlying connection, for components that keep their own tables in the store's file. */
  get database(): Database.Database {
    return this.db;
  }

  stats(): SqliteEventStoreStats {
    return { ...this.counters };
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
   * Group commit: every queued `append` in one transaction, each under its own savepoint, so one
   * refused append does not undo the others and one fsync covers them all.
   */
  private commitGroup(group: { request: PreparedAppend[]; resolve(r: AppendResult[]): void; reject(e: unknown): void }[]): void {
    const outcomes: Array<() => void> = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const req of group) req.reject(new StoreUnavailable(`could not start a write transaction on ${this.path}`, error));
      return;
    }
    try {
      let head = this.readHead();
      for (const req of group) {
        this.db.exec('SAVEPOINT append');
        try {
          const recordedAtMs = Math.max(this.clock.now().getTime(), head.recordedAtMs + 1);
          if (!Number.isFinite(recordedAtMs)) throw new Error('the clock returned an invalid date');
          const results: AppendResult[] = [];
          for (const part of req.request) {
            const { result, head: next } = this.applyAppend(part, head, recordedAtMs);
            results.push(result);
            head = next;
          }
          this.db.exec('RELEASE append');
          outcomes.push(() => req.resolve(results));
        } catch (error) {
          this.db.exec('ROLLBACK TO append');
          this.db.exec('RELEASE append');
          head = this.readHead();
          const reason = isPortError(error) ? error : new StoreUnavailable(`append to ${req.request.map((a) => a.streamId).join(', ')} failed`, error);
          outcomes.push(() => req.reject(reason));
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const req of group) req.reject(new StoreUnavailable(`write transaction on ${this.path} failed`, error));
      return;
    }
    this.counters.groupCommits += 1;
    this.counters.appends += group.length;
    for (const settle of outcomes) settle();
    this.notify();
  }

  private readHead(): Head {
    const row = this.statements.head.get();
    if (!row) return { position: 0n, hash: GENESIS.hash, recordedAtMs: Number.NEGATIVE_INFINITY };
    return { position: row.position, hash: hashText(row.hash), recordedAtMs: Date.parse(row.recorded_at) };
  }

  private currentRevision(streamId: string): number | null {
    const row = this.statements.streamRevision.get(streamId);
    return row ? Number(row.revision) : null;
  }

  private applyAppend(req: PreparedAppend, head: Head, recordedAtMs: number): { result: AppendResult; head: Head } {
    const existing = req.events.map((e) => this.statements.byEventId.get(idKey(e.eventId)));
    const found = existing.filter((row): row is EventRow => row !== undefined);
    if (found.length > 0) {
      const sameAppend =
        found.length === existing.length &&
        found.every((row, i) => row.stream_id === req.streamId && Number(row.revision) === Number(found[0].revision) + i);
      if (!sameAppend) throw new DuplicateEventIdConflict(req.streamId, found.map((row) => idText(row.event_id)));
      const last = found[found.length - 1];
      return {
        head,
        result: {
          nextExpectedRevision: Number(last.revision),
          position: last.position,
          positions: found.map((row) => row.position),
          recordedAt: last.recorded_at,
          deduplicated: true,
        },
      };
    }

    const current = this.currentRevision(req.streamId);
    if (!matchesExpected(req.expected, current)) {
      throw new ConcurrencyConflict(req.streamId, req.expected, current ?? 'no_stream');
    }

    const recordedAt = new Date(recordedAtMs).toISOString();
    let position = head.position;
    let hash = head.hash;
    let revision = current ?? -1;
    const positions: bigint[] = [];
    for (const event of req.events) {
      position += 1n;
      revision += 1;
      const row = {
        position,
        event_id: event.eventId,
        stream_id: req.streamId,
        revision: BigInt(revision),
        type: event.type,
        data: event.data,
        metadata: canonicalJson(event.metadata),
        recorded_at: recordedAt,
      };
      hash = rowHash(hash, row);
      this.statements.insert.run(
        position, idKey(row.event_id), row.stream_id, revision, row.type, row.data, row.metadata, recordedAt, hashKey(hash),
      );
      positions.push(position);
    }
    return {
      head: { position, hash, recordedAtMs },
      result: { nextExpectedRevision: revision, position, positions, recordedAt, deduplicated: false },
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const from = options.fromRevision;
    if (options.direction === 'backwards') {
      const top = from === undefined || from === 'end' ? Number.MAX_SAFE_INTEGER : from === 'start' ? 0 : from;
      return this.statements.backwards.all(streamId, top, limit).map(toStoredEvent);
    }
    if (from === 'end') return [];
    const bottom = from === undefined || from === 'start' ? 0 : from;
    return this.statements.forwards.all(streamId, bottom, limit).map(toStoredEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    if (options.maxCount === 0) return [];
    return this.statements.all.all(options.after ?? 0n, options.maxCount ?? -1).map(toStoredEvent);
  }

  async readEvents(eventIds: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    const rows = eventIds.map((id) => this.statements.byEventId.get(idKey(id))).filter((row): row is EventRow => row !== undefined);
    return rows.sort((a, b) => (a.position < b.position ? -1 : 1)).map(toStoredEvent);
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.statements.maxPosition.get()?.position ?? 0n;
  }

  /** How many events lie in (after, upTo], counted by the primary key (at most `limit`, default 10 million). */
  override async eventsBetween(after: bigint, upTo: bigint, options: { limit?: number } = {}): Promise<{ events: number; capped: boolean }> {
    this.assertOpen();
    const limit = options.limit ?? 10_000_000;
    if (upTo <= after) return { events: 0, capped: false };
    const events = Number(this.statements.countBetween.get(after, upTo, limit)?.events ?? 0n);
    return { events, capped: events >= limit };
  }

  async head(): Promise<ChainPoint> {
    this.assertOpen();
    const { position, hash } = this.readHead();
    return { position, hash };
  }

  async hashAt(position: bigint): Promise<string | null> {
    this.assertOpen();
    const row = this.statements.hashAt.get(position);
    return row ? hashText(row.hash) : null;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      this.statements.ping.get();
      return true;
    } catch {
      return false;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError('batchSize must be a positive integer');
    const state: SubscriptionState = { cursor: options.after ?? 0n, closed: false, wake: null };
    let iterator: AsyncGenerator<StoredEvent> | undefined;
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => (iterator ??= this.deliver(state, batchSize)),
      close: async () => {
        state.closed = true;
        state.wake?.();
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Reads one batch, hands it out event by event, and only then reads (or waits for) the next. */
  private async *deliver(state: SubscriptionState, batchSize: number): AsyncGenerator<StoredEvent> {
    while (!state.closed && !this.closed) {
      const batch = this.statements.all.all(state.cursor, batchSize);
      for (const row of batch) {
        if (state.closed) return;
        state.cursor = row.position;
        yield toStoredEvent(row);
      }
      if (batch.length < batchSize && !state.closed) await this.nextAppendOrPoll(state);
    }
  }

  /** Resolves on this store's next commit, on the poll timer (other connections), or on close. */
  private nextAppendOrPoll(state: SubscriptionState): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeups.delete(done);
        state.wake = null;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.wakeups.add(done);
      state.wake = done;
    });
  }

  private notify(): void {
    for (const wake of [...this.wakeups]) wake();
  }

  /**
   * Recomputes the chain in a worker thread with its own read-only connection (the event loop
   * stays free), from the start or after a point verified before.
   */
  async verifyIntegrity(options: VerifyOptions & { batchSize?: number } = {}): Promise<IntegrityReport> {
    this.assertOpen();
    const from = options.from ?? GENESIS;
    const request: VerifyRequest = {
      kind: VERIFY_WORKER_KIND,
      path: this.path,
      from: { position: from.position.toString(), hash: from.hash },
      batchSize: options.batchSize ?? VERIFY_BATCH,
    };
    const worker = spawnVerifyWorker(request);
    return new Promise<IntegrityReport>((resolve, reject) => {
      let settled = false;
      worker.on('message', (message: VerifyMessage) => {
        if (message.type === 'progress') options.onProgress?.({ events: message.events, position: BigInt(message.position) });
        else if (message.type === 'done') {
          settled = true;
          resolve({
            events: message.events,
            ok: message.ok,
            firstBrokenPosition: message.firstBrokenPosition === null ? null : BigInt(message.firstBrokenPosition),
            verifiedUpTo: { position: BigInt(message.verifiedUpTo.position), hash: message.verifiedUpTo.hash },
          });
        } else {
          settled = true;
          reject(new StoreUnavailable(`verifying ${this.path} failed: ${message.message}`));
        }
      });
      worker.on('error', (error) => {
        if (!settled) reject(new StoreUnavailable(`verifying ${this.path} failed`, error));
        settled = true;
      });
      worker.on('exit', (code) => {
        if (!settled) reject(new StoreUnavailable(`the verifier of ${this.path} exited with ${code}`));
      });
    });
  }

  /**
   * Restores exported events (readAll output, e.g. from NDJSON) into an empty store, keeping their
   * positions, revisions, recordedAt and metadata. Hashes are recomputed and, when the input carries
   * them, must match. Large exports may be imported in consecutive calls: each call must continue
   * exactly where the store ends.
   */
  async importEvents(events: StoredEvent[]): Promise<ImportResult> {
    this.assertOpen();
    this.commits.flushNow();
    const run = this.db.transaction(() => {
      const head = this.readHead();
      let previousPosition = head.position;
      let hash = head.hash;
      const revisions = new Map<string, number | null>();
      for (const event of events) {
        const position = BigInt(event.position);
        if (position <= previousPosition) {
          throw new IntegrityViolation(`import: position ${position} does not follow ${previousPosition}`, position);
        }
        if (!revisions.has(event.streamId)) revisions.set(event.streamId, this.currentRevision(event.streamId));
        const expectedRevision = (revisions.get(event.streamId) ?? -1) + 1;
        if (event.revision !== expectedRevision) {
          throw new IntegrityViolation(
            `import: ${event.streamId} revision ${event.revision} at position ${position}, expected ${expectedRevision}`,
            position,
          );
        }
        const recordedAt = event.metadata?.recordedAt;
        if (typeof recordedAt !== 'string' || Number.isNaN(Date.parse(recordedAt))) {
          throw new IntegrityViolation(`import: event at position ${position} has no valid metadata.recordedAt`, position);
        }
        if (this.statements.byEventId.get(idKey(event.eventId))) throw new DuplicateEventIdConflict(event.streamId, [event.eventId]);
        const base = {
          position,
          event_id: event.eventId,
          stream_id: event.streamId,
          revision: BigInt(event.revision),
          type: event.type,
          data: canonicalJson(event.data),
          recorded_at: recordedAt,
        };
        // the metadata as it was hashed: as the export says, else without recordedAt (the rule since
        // schema 3), else with it (an export of an older store that did not say)
        const { recordedAt: _recordedAt, ...withoutRecordedAt } = event.metadata;
        const variants = event.hashedMetadata !== undefined ? [event.hashedMetadata] : [canonicalJson(withoutRecordedAt), canonicalJson(event.metadata)];
        let chosen: { metadata: string; hash: string } | null = null;
        for (const metadata of variants) {
          const candidate = rowHash(hash, { ...base, metadata });
          if (event.hash === undefined || candidate === event.hash) {
            chosen = { metadata, hash: candidate };
            break;
          }
        }
        if (!chosen) throw new IntegrityViolation(`import: hash mismatch at position ${position}`, position);
        hash = chosen.hash;
        this.statements.insert.run(
          position, idKey(base.event_id), base.stream_id, event.revision, base.type, base.data, chosen.metadata, recordedAt, hashKey(hash),
        );
        revisions.set(event.streamId, event.revision);
        previousPosition = position;
      }
      return { imported: events.length, headPosition: previousPosition };
    });
    const result = run.immediate();
    this.notify();
    return result;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailable('event store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commits.flushNow();
    this.closed = true;
    for (const subscription of [...this.subscriptions]) await subscription.close();
    this.notify();
    this.db.close();
  }
}

/** Runs the verifier: the compiled .js in production, the .ts source through the test hook under jest. */
function spawnVerifyWorker(request: VerifyRequest): Worker {
  const typescript = __filename.endsWith('.ts');
  const file = join(__dirname, `verify-worker.${typescript ? 'ts' : 'js'}`);
  const execArgv = typescript ? ['-r', join(__dirname, '..', '..', '..', 'testing', 'register.js')] : [];
  return new Worker(file, { workerData: request, execArgv });
}

class SqliteRecords extends StoreRecords {
  private readonly s: {
    get: Database.Statement<[string], { key: string; version: bigint; value: string; updated_at: string }>;
    insert: Database.Statement<[string, string, string]>;
    update: Database.Statement<[string, string, string, number]>;
  };

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly assertOpen: () => void,
  ) {
    super();
    this.s = {
      get: db.prepare('SELECT key, version, value, updated_at FROM records WHERE key = ?'),
      insert: db.prepare('INSERT INTO records (key, version, value, updated_at) VALUES (?, 1, ?, ?)'),
      update: db.prepare('UPDATE records SET version = version + 1, value = ?, updated_at = ? WHERE key = ? AND version = ?'),
    };
  }

  async get<V>(key: string): Promise<StoredRecord<V> | null> {
    this.assertOpen();
    const row = this.s.get.get(key);
    return row ? { key: row.key, version: Number(row.version), value: JSON.parse(row.value) as V, updatedAt: row.updated_at } : null;
  }

  async put(key: string, value: unknown, expectedVersion: number | null): Promise<number> {
    this.assertOpen();
    const text = JSON.stringify(value);
    const now = this.clock.now().toISOString();
    const write = this.db.transaction(() => {
      const current = this.s.get.get(key);
      const actual = current ? Number(current.version) : null;
      if (actual !== expectedVersion) throw new ConcurrencyConflict(`record:${key}`, expectedVersion, actual ?? 'no_stream');
      if (actual === null) this.s.insert.run(key, text, now);
      else this.s.update.run(text, now, key, actual);
      return (actual ?? 0) + 1;
    });
    return write.immediate();
  }

  async list<V>(prefix: string, options: { after?: string; limit?: number } = {}): Promise<StoredRecord<V>[]> {
    this.assertOpen();
    const rows = this.db
      .prepare<[string, string, string, number], { key: string; version: bigint; value: string; updated_at: string }>(
        `SELECT key, version, value, updated_at FROM records WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?`,
      )
      .all(prefix, `${prefix}\uffff`, options.after ?? '', options.limit ?? -1);
    return rows.map((row) => ({ key: row.key, version: Number(row.version), value: JSON.parse(row.value) as V, updatedAt: row.updated_at }));
  }
}

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

/**
 * A new store file is created readable and writable by its owner only (0600), whatever the umask;
 * SQLite gives the -wal and -shm files it creates beside it the database file's mode. An existing
 * file keeps the mode its operator gave it.
 */
export function createOwnerOnly(path: string): void {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  chmodSync(path, 0o600);
}
