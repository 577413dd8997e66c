/**
 * Durable records that are not domain events and cannot be rebuilt from them: the decision log
 * (every accepted and refused command, API.md "audit") and idempotency records. They live in the
 * node's SQLite file (the event-store file itself on the embedded store).
 */
import Database from 'better-sqlite3';

export interface DecisionRecord {
  recordedAt: string;
  command: string;
  actor: string;
  correlationId: string;
  outcome: 'accepted' | 'refused';
  code: string | null;
  rule: string | null;
  detail: string | null;
  serial: string | null;
  planId: string | null;
  claimId: string | null;
  eventIds: string[];
  position: string | null;
  request: unknown;
}

export interface StoredDecision extends DecisionRecord {
  id: number;
}

export interface DecisionQuery {
  serial?: string;
  planId?: string;
  claimId?: string;
  type?: string;
  actor?: string;
  code?: string;
  outcome?: 'accepted' | 'refused';
  recordedFrom?: number;
  recordedTo?: number;
  after?: number;
  limit: number;
}

export interface IdempotencyRecord {
  key: string;
  fingerprint: string;
  status: number;
  body: string;
  contentType: string;
  createdAt: string;
}

export class LocalStore {
  readonly db: Database.Database;
  private readonly insertDecision: Database.Statement;
  private readonly getIdem: Database.Statement;
  private readonly putIdem: Database.Statement;
  /** Writes waiting for the next group commit (one fsync for all of them). */
  private pending: { write: () => void; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Idempotency records written but not committed yet, so that lookups see them meanwhile. */
  private readonly pendingIdem = new Map<string, IdempotencyRecord>();
  private flushScheduled = false;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL, recorded_ms INTEGER NOT NULL,
        command TEXT NOT NULL, actor TEXT NOT NULL, correlation_id TEXT NOT NULL,
        outcome TEXT NOT NULL, code TEXT, rule TEXT, detail TEXT,
        serial TEXT, plan_id TEXT, claim_id TEXT, event_ids TEXT NOT NULL, position TEXT, request TEXT
      );
      CREATE INDEX IF NOT EXISTS decisions_serial ON decisions(serial, id);
      CREATE INDEX IF NOT EXISTS decisions_plan ON decisions(plan_id, id);
      CREATE INDEX IF NOT EXISTS decisions_claim ON decisions(claim_id, id);
      CREATE INDEX IF NOT EXISTS decisions_code ON decisions(code, id);
      CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
        body TEXT NOT NULL, content_type TEXT NOT NULL, created_at TEXT NOT NULL
      );
    `);
    this.insertDecision = this.db.prepare(`INSERT INTO decisions
      (recorded_at, recorded_ms, command, actor, correlation_id, outcome, code, rule, detail, serial, plan_id, claim_id, event_ids, position, request)
      VALUES (@recordedAt, @recordedMs, @command, @actor, @correlationId, @outcome, @code, @rule, @detail, @serial, @planId, @claimId, @eventIds, @position, @request)`);
    this.getIdem = this.db.prepare('SELECT key, fingerprint, status, body, content_type AS contentType, created_at AS createdAt FROM idempotency WHERE key = ?');
    this.putIdem = this.db.prepare('INSERT OR IGNORE INTO idempotency (key, fingerprint, status, body, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /**
   * Resolves once the record is committed. Records arriving in the same turn of the event loop
   * share one transaction (group commit), so a busy node pays one fsync per batch, not per command.
   */
  recordDecision(d: DecisionRecord): Promise<void> {
    const row = {
      ...d,
      recordedMs: Date.parse(d.recordedAt),
      eventIds: JSON.stringify(d.eventIds),
      request: d.request === undefined ? null : JSON.stringify(d.request),
    };
    return this.enqueue(() => this.insertDecision.run(row));
  }

  private enqueue(write: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const { write } of batch) write();
      })();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    } finally {
      this.pendingIdem.clear();
    }
    for (const p of batch) p.resolve();
  }

  decisions(q: DecisionQuery): StoredDecision[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (column: string, value: unknown) => {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        args.push(value);
      }
    };
    eq('serial', q.serial);
    eq('plan_id', q.planId);
    eq('claim_id', q.claimId);
    eq('command', q.type);
    eq('actor', q.actor);
    eq('code', q.code);
    eq('outcome', q.outcome);
    if (q.recordedFrom !== undefined) {
      where.push('recorded_ms >= ?');
      args.push(q.recordedFrom);
    }
    if (q.recordedTo !== undefined) {
      where.push('recorded_ms <= ?');
      args.push(q.recordedTo);
    }
    if (q.after !== undefined) {
      where.push('id > ?');
      args.push(q.after);
    }
    const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      recordedAt: r.recorded_at as string,
      command: r.command as string,
      actor: r.actor as string,
      correlationId: r.correlation_id as string,
      outcome: r.outcome as 'accepted' | 'refused',
      code: r.code as string | null,
      rule: r.rule as string | null,
      detail: r.detail as string | null,
      serial: r.serial as string | null,
      planId: r.plan_id as string | null,
      claimId: r.claim_id as string | null,
      eventIds: JSON.parse(r.event_ids as string) as string[],
      position: r.position as string | null,
      request: r.request ? JSON.parse(r.request as string) : null,
    }));
  }

  idempotency(key: string): IdempotencyRecord | undefined {
    return (this.getIdem.get(key) as IdempotencyRecord | undefined) ?? this.pendingIdem.get(key);
  }

  /**
   * Stores the first answer for a key; a concurrent second writer keeps the first. Resolves once
   * committed (group commit, like decisions); lookups see the record at once.
   */
  rememberIdempotency(r: IdempotencyRecord): Promise<void> {
    if (!this.pendingIdem.has(r.key)) this.pendingIdem.set(r.key, r);
    return this.enqueue(() => this.putIdem.run(r.key, r.fingerprint, r.status, r.body, r.contentType, r.createdAt));
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
