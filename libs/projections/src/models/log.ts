/**
 * The log as the node has read it: a copy of every event (the audit index) with link keys by serial,
 * plan, claim and service center, so history, audit filters and folds read a unit's streams
 * without going to the store. Evolve: insert the event and its links (idempotent).
 */
import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';
import type { ReadModelSchema } from './model';

export const logSchema: ReadModelSchema = {
  name: 'log',
  tables: ['events', 'links'],
  schema: (p, i) => `
    CREATE TABLE IF NOT EXISTS ${p}events (
      position INTEGER PRIMARY KEY,
      event_id TEXT NOT NULL,
      stream_id TEXT NOT NULL,
      revision INTEGER NOT NULL,
      type TEXT NOT NULL,
      occurred_at TEXT,
      recorded_at TEXT NOT NULL,
      recorded_ms INTEGER NOT NULL,
      actor TEXT,
      correlation_id TEXT,
      causation_id TEXT,
      data TEXT NOT NULL,
      hash TEXT
    );
    CREATE INDEX IF NOT EXISTS ${i}events_stream ON ${p}events(stream_id, revision);
    CREATE TABLE IF NOT EXISTS ${p}links (
      key TEXT NOT NULL,
      position INTEGER NOT NULL
    );`,
  // Read by queries only, so a rebuild sorts them once at the end instead of inserting at random
  // keys per event. Appends are idempotent by position (the runner applies each position once,
  // in the transaction that moves its checkpoint), not by these indexes.
  queryIndexes: (p, i) => `
    CREATE UNIQUE INDEX IF NOT EXISTS ${i}events_id ON ${p}events(event_id);
    CREATE UNIQUE INDEX IF NOT EXISTS ${i}links_key ON ${p}links(key, position);
    CREATE INDEX IF NOT EXISTS ${i}events_type ON ${p}events(type, position);
    CREATE INDEX IF NOT EXISTS ${i}events_actor ON ${p}events(actor, position);
    CREATE INDEX IF NOT EXISTS ${i}events_recorded ON ${p}events(recorded_ms, position);`,
};

export interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  occurred_at: string | null;
  recorded_at: string;
  recorded_ms: number;
  actor: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  data: string;
  hash: string | null;
}

export function rowToEvent(r: EventRow): RecordedEvent & { hash: string | null } {
  return {
    eventId: r.event_id,
    type: r.type,
    streamId: r.stream_id,
    revision: r.revision,
    position: BigInt(r.position),
    data: JSON.parse(r.data),
    metadata: {
      occurredAt: r.occurred_at ?? r.recorded_at,
      recordedAt: r.recorded_at,
      actor: r.actor ?? '',
      correlationId: r.correlation_id ?? '',
      causationId: r.causation_id,
    },
    hash: r.hash,
  };
}

export interface HistoryEntry {
  eventId: string;
  type: string;
  streamId: string;
  revision: number;
  position: string;
  occurredAt: string;
  recordedAt: string;
  actor: string;
  correlationId: string;
  causationId: string | null;
  data: unknown;
}

export function toHistoryEntry(e: RecordedEvent): HistoryEntry {
  return {
    eventId: e.eventId,
    type: e.type,
    streamId: e.streamId,
    revision: e.revision,
    position: e.position.toString(),
    occurredAt: e.metadata.occurredAt,
    recordedAt: e.metadata.recordedAt,
    actor: e.metadata.actor,
    correlationId: e.metadata.correlationId,
    causationId: e.metadata.causationId ?? null,
    data: e.data,
  };
}

const CATEGORY_KEYS: [string, string][] = [['device-', 's:'], ['plan-', 'p:'], ['service-center-', 'sc:']];

/** The link keys of an event: its stream's subject and every serial, plan, claim and center its data names. */
export function linkKeys(e: { streamId: string; data: unknown }): Set<string> {
  const keys = new Set<string>();
  for (const [prefix, key] of CATEGORY_KEYS) if (e.streamId.startsWith(prefix)) keys.add(`${key}${e.streamId.slice(prefix.length)}`);
  const d = (e.data ?? {}) as Record<string, unknown>;
  const fields = typeof d.subject === 'object' && d.subject !== null ? { ...d, ...(d.subject as Record<string, unknown>) } : d;
  for (const field of ['serial', 'replacementSerial']) if (typeof fields[field] === 'string') keys.add(`s:${fields[field]}`);
  if (typeof fields.planId === 'string') keys.add(`p:${fields.planId}`);
  if (typeof fields.claimId === 'string') keys.add(`c:${fields.claimId}`);
  if (typeof fields.serviceCenterId === 'string') keys.add(`sc:${fields.serviceCenterId}`);
  return keys;
}

export class LogProjection {
  private readonly insert: Database.Statement<[number, string, string, number, string, string | null, string, number, string | null, string | null, string | null, string, string | null]>;
  private readonly link: Database.Statement<[string, number]>;

  constructor(db: Database.Database, p: string) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO ${p}events (position, event_id, stream_id, revision, type, occurred_at, recorded_at, recorded_ms, actor, correlation_id, causation_id, data, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.link = db.prepare(`INSERT OR IGNORE INTO ${p}links (key, position) VALUES (?, ?)`);
  }

  apply(e: StoredEvent): void {
    const position = Number(e.position);
    const m = e.metadata;
    this.insert.run(
      position, e.eventId, e.streamId, e.revision, e.type, m.occurredAt ?? null, m.recordedAt, Date.parse(m.recordedAt),
      m.actor ?? null, m.correlationId ?? null, m.causationId ?? null, JSON.stringify(e.data), e.hash ?? null,
    );
    for (const key of linkKeys(e)) this.link.run(key, position);
  }
}

export interface AuditFilter {
  serial?: string;
  planId?: string;
  claimId?: string;
  type?: string;
  actor?: string;
  recordedFrom?: number;
  recordedTo?: number;
  /** Exclusive: events after this position. */
  after?: number;
  limit: number;
}

export class LogQueries {
  private readonly stream: Database.Statement<[string], EventRow>;
  private readonly streamRevision: Database.Statement<[string], { revision: number | null }>;
  private readonly byId: Database.Statement<[string], EventRow>;

  constructor(
    private readonly db: Database.Database,
    private readonly p: string,
  ) {
    this.stream = db.prepare(`SELECT * FROM ${p}events WHERE stream_id = ? ORDER BY revision`);
    this.streamRevision = db.prepare(`SELECT MAX(revision) AS revision FROM ${p}events WHERE stream_id = ?`);
    this.byId = db.prepare(`SELECT * FROM ${p}events WHERE event_id = ?`);
  }

  read(streamId: string): RecordedEvent[] {
    return this.stream.all(streamId).map(rowToEvent);
  }

  revision(streamId: string): number {
    return this.streamRevision.get(streamId)?.revision ?? -1;
  }

  event(eventId: string): HistoryEntry | null {
    const row = this.byId.get(eventId);
    return row ? toHistoryEntry(rowToEvent(row)) : null;
  }

  /** How many events of each of `types` lie in (after, upTo] (an index range per type: no row is read). */
  countByType(types: readonly string[], after: number, upTo: number): Map<string, number> {
    const rows = this.db
      .prepare<(string | number)[], { type: string; n: number }>(
        `SELECT type, count(*) AS n FROM ${this.p}events WHERE type IN (${types.map(() => '?').join(', ')}) AND position > ? AND position <= ? GROUP BY type`,
      )
      .all(...types, after, upTo);
    return new Map(rows.map((r) => [r.type, r.n]));
  }

  /** The events of `type` recorded by `actor` in (after, upTo], counted by the value of their data's `field`. */
  countByField(type: string, actor: string, field: string, after: number, upTo: number): Map<string, number> {
    const rows = this.db
      .prepare<[string, string, string, number, number], { value: string | null; n: number }>(
        `SELECT json_extract(data, ?) AS value, count(*) AS n FROM ${this.p}events WHERE type = ? AND actor = ? AND position > ? AND position <= ? GROUP BY value`,
      )
      .all(`$.${field}`, type, actor, after, upTo);
    return new Map(rows.map((r) => [String(r.value), r.n]));
  }

  /** Events in global order matching the filters, at most `limit` (one more tells whether more exist). */
  events(f: AuditFilter): EventRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const linked = (key: string) => {
      where.push(`e.position IN (SELECT position FROM ${this.p}links WHERE key = ?)`);
      args.push(key);
    };
    if (f.serial !== undefined) linked(`s:${f.serial}`);
    if (f.planId !== undefined) linked(`p:${f.planId}`);
    if (f.claimId !== undefined) linked(`c:${f.claimId}`);
    if (f.type !== undefined) {
      where.push('e.type = ?');
      args.push(f.type);
    }
    if (f.actor !== undefined) {
      where.push('e.actor = ?');
      args.push(f.actor);
    }
    if (f.recordedFrom !== undefined) {
      where.push('e.recorded_ms >= ?');
      args.push(f.recordedFrom);
    }
    if (f.recordedTo !== undefined) {
      where.push('e.recorded_ms <= ?');
      args.push(f.recordedTo);
    }
    if (f.after !== undefined) {
      where.push('e.position > ?');
      args.push(f.after);
    }
    const sql = `SELECT e.* FROM ${this.p}events e ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.position LIMIT ?`;
    return this.db.prepare<(string | number)[], EventRow>(sql).all(...args, f.limit);
  }
}
