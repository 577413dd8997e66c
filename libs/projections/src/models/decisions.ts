/**
 * The decision log, a read model over the log: one row per decision, accepted (its primary event
 * carries the decision) or refused (a CommandRefused fact), plus the decisions and idempotency
 * answers carried in from an old data directory. Also where a node without a store-side lookup by
 * event id (EventStoreDB) finds an Idempotency-Key's first answer.
 */
import type Database from 'better-sqlite3';
import type { StoredEvent } from '@careledger/event-store';
import {
  AcceptedDecisionMeta, COMMAND_REFUSED, COMMAND_REPEATED, CommandRefusedData, CommandRepeatedData, decisionEventIds, isAcceptedDecision, subjectOfEvent,
  LEGACY_DECISION_IMPORTED, LEGACY_IDEMPOTENCY_IMPORTED, LegacyAnswer, LegacyDecisionData, LegacyIdempotencyData, RecordedDecision,
} from '@careledger/ledger';
import type { ReadModelSchema } from './model';

export const decisionsSchema: ReadModelSchema = {
  name: 'decisions',
  tables: ['decisions', 'legacy_idempotency'],
  schema: (p) => `
    CREATE TABLE IF NOT EXISTS ${p}decisions (
      position INTEGER PRIMARY KEY,
      decision_id TEXT NOT NULL UNIQUE,
      recorded_at TEXT NOT NULL,
      recorded_ms INTEGER NOT NULL,
      command TEXT NOT NULL,
      actor TEXT NOT NULL,
      token_id TEXT,
      correlation_id TEXT NOT NULL,
      outcome TEXT NOT NULL,
      code TEXT,
      rule TEXT,
      detail TEXT,
      serial TEXT,
      plan_id TEXT,
      claim_id TEXT,
      event_ids TEXT NOT NULL,
      primary_stream TEXT,
      revision INTEGER NOT NULL,
      last_position INTEGER NOT NULL,
      idempotency_key TEXT,
      request_hash TEXT,
      answer TEXT,
      request TEXT
    );
    CREATE TABLE IF NOT EXISTS ${p}legacy_idempotency (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      status INTEGER NOT NULL,
      body TEXT NOT NULL
    );`,
  queryIndexes: (p, i) => `
    CREATE INDEX IF NOT EXISTS ${i}decisions_serial ON ${p}decisions(serial, position);
    CREATE INDEX IF NOT EXISTS ${i}decisions_plan ON ${p}decisions(plan_id, position);
    CREATE INDEX IF NOT EXISTS ${i}decisions_claim ON ${p}decisions(claim_id, position);
    CREATE INDEX IF NOT EXISTS ${i}decisions_code ON ${p}decisions(code, position);
    CREATE INDEX IF NOT EXISTS ${i}decisions_actor ON ${p}decisions(actor, position);
    CREATE INDEX IF NOT EXISTS ${i}decisions_recorded ON ${p}decisions(recorded_ms, position);`,
};

export interface DecisionRow {
  position: number;
  decision_id: string;
  recorded_at: string;
  recorded_ms: number;
  command: string;
  actor: string;
  token_id: string | null;
  correlation_id: string;
  outcome: 'accepted' | 'refused';
  code: string | null;
  rule: string | null;
  detail: string | null;
  serial: string | null;
  plan_id: string | null;
  claim_id: string | null;
  event_ids: string;
  primary_stream: string | null;
  revision: number;
  last_position: number;
  idempotency_key: string | null;
  request_hash: string | null;
  answer: string | null;
  request: string | null;
}

type Insert = [
  number, string, string, number, string, string, string | null, string, string, string | null, string | null, string | null,
  string | null, string | null, string | null, string, string | null, number, number, string | null, string | null, string | null, string | null,
];

export class DecisionsProjection {
  private readonly insert: Database.Statement<Insert>;
  private readonly follow: Database.Statement<[number, string, number, string]>;
  private readonly legacy: Database.Statement<[string, string, number, string]>;

  constructor(db: Database.Database, p: string) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO ${p}decisions (position, decision_id, recorded_at, recorded_ms, command, actor, token_id, correlation_id,
      outcome, code, rule, detail, serial, plan_id, claim_id, event_ids, primary_stream, revision, last_position, idempotency_key, request_hash, answer, request)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // a command's later events: the decision's last position, and the primary stream's revision after it
    this.follow = db.prepare(`UPDATE ${p}decisions SET last_position = MAX(last_position, ?),
      revision = CASE WHEN primary_stream = ? THEN MAX(revision, ?) ELSE revision END WHERE decision_id = ?`);
    this.legacy = db.prepare(`INSERT OR IGNORE INTO ${p}legacy_idempotency (key, fingerprint, status, body) VALUES (?, ?, ?, ?)`);
  }

  apply(e: StoredEvent): void {
    const m = e.metadata;
    const position = Number(e.position);
    const recordedMs = Date.parse(m.recordedAt);
    const decision = m.decision;
    if (e.type === COMMAND_REFUSED) {
      const d = e.data as CommandRefusedData;
      this.insert.run(
        position, d.decisionId, m.recordedAt, recordedMs, d.command, m.actor, d.tokenId, m.correlationId, 'refused', d.code, d.rule, d.detail,
        d.subject.serial, d.subject.planId, d.subject.claimId, '[]', null, -1, position, d.key, d.requestHash, null, JSON.stringify(d.request),
      );
    } else if (e.type === COMMAND_REPEATED) {
      const d = e.data as CommandRepeatedData;
      this.insert.run(
        position, d.decisionId, m.recordedAt, recordedMs, d.command, m.actor, d.tokenId, m.correlationId, 'accepted', null, null, 'repeat of an earlier command',
        d.subject.serial, d.subject.planId, d.subject.claimId, JSON.stringify(d.eventIds), null, d.revision, Number(d.position), d.key, d.requestHash,
        JSON.stringify(d.answer), null,
      );
    } else if (e.type === LEGACY_DECISION_IMPORTED) {
      const d = e.data as LegacyDecisionData;
      this.insert.run(
        position, e.eventId, d.recordedAt, Date.parse(d.recordedAt), d.command, d.actor, null, d.correlationId, d.outcome, d.code, d.rule, d.detail,
        d.serial, d.planId, d.claimId, JSON.stringify(d.eventIds), null, -1, d.position === null ? position : Number(d.position), null, null, null,
        d.request === null ? null : JSON.stringify(d.request),
      );
    } else if (e.type === LEGACY_IDEMPOTENCY_IMPORTED) {
      const d = e.data as LegacyIdempotencyData;
      this.legacy.run(d.key, d.fingerprint, d.status, d.body);
    } else if (isAcceptedDecision(decision)) {
      const d = decision as AcceptedDecisionMeta;
      const subject = subjectOfEvent(e);
      this.insert.run(
        position, e.eventId, m.recordedAt, recordedMs, d.command, m.actor, d.tokenId ?? null, m.correlationId, 'accepted', null, null, null,
        subject.serial, subject.planId, subject.claimId, JSON.stringify(decisionEventIds(e)), e.streamId, e.revision, position, d.key ?? null,
        d.requestHash ?? null, d.answer === undefined ? null : JSON.stringify(d.answer), null,
      );
    } else if (decision && typeof decision.id === 'string') {
      this.follow.run(position, e.streamId, e.revision, decision.id);
    }
  }
}

export interface DecisionFilter {
  serial?: string;
  planId?: string;
  claimId?: string;
  command?: string;
  actor?: string;
  code?: string;
  outcome?: 'accepted' | 'refused';
  recordedFrom?: number;
  recordedTo?: number;
  after?: number;
  limit: number;
}

/** A decision as the audit API lists it. */
export interface DecisionItem {
  decisionId: string;
  type: string;
  command: string;
  recordedAt: string;
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
  position: string;
  request: unknown;
}

export function decisionItem(r: DecisionRow): DecisionItem {
  return {
    decisionId: r.decision_id,
    type: r.command,
    command: r.command,
    recordedAt: r.recorded_at,
    actor: r.actor,
    correlationId: r.correlation_id,
    outcome: r.outcome,
    code: r.code,
    rule: r.rule,
    detail: r.detail,
    serial: r.serial,
    planId: r.plan_id,
    claimId: r.claim_id,
    eventIds: JSON.parse(r.event_ids) as string[],
    position: String(r.last_position),
    request: r.request === null ? null : JSON.parse(r.request),
  };
}

export class DecisionQueries {
  private readonly byId: Database.Statement<[string], DecisionRow>;
  private readonly legacyByKey: Database.Statement<[string], LegacyAnswer>;

  constructor(
    private readonly db: Database.Database,
    private readonly p: string,
  ) {
    this.byId = db.prepare(`SELECT * FROM ${p}decisions WHERE decision_id = ?`);
    this.legacyByKey = db.prepare(`SELECT fingerprint, status, body FROM ${p}legacy_idempotency WHERE key = ?`);
  }

  /** Refused commands in (after, upTo], counted by code and rule. */
  refusalCounts(after: number, upTo: number): { code: string; rule: string; n: number }[] {
    return this.db
      .prepare<[number, number], { code: string | null; rule: string | null; n: number }>(
        `SELECT code, rule, count(*) AS n FROM ${this.p}decisions WHERE position > ? AND position <= ? AND outcome = 'refused' GROUP BY code, rule`,
      )
      .all(after, upTo)
      .map((r) => ({ code: r.code ?? '', rule: r.rule ?? '', n: r.n }));
  }

  list(f: DecisionFilter): DecisionRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const eq = (column: string, value: string | undefined) => {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        args.push(value);
      }
    };
    eq('serial', f.serial);
    eq('plan_id', f.planId);
    eq('claim_id', f.claimId);
    eq('command', f.command);
    eq('actor', f.actor);
    eq('code', f.code);
    eq('outcome', f.outcome);
    if (f.recordedFrom !== undefined) {
      where.push('recorded_ms >= ?');
      args.push(f.recordedFrom);
    }
    if (f.recordedTo !== undefined) {
      where.push('recorded_ms <= ?');
      args.push(f.recordedTo);
    }
    if (f.after !== undefined) {
      where.push('position > ?');
      args.push(f.after);
    }
    const sql = `SELECT * FROM ${this.p}decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY position LIMIT ?`;
    return this.db.prepare<(string | number)[], DecisionRow>(sql).all(...args, f.limit);
  }

  find(decisionId: string): RecordedDecision | null {
    const r = this.byId.get(decisionId);
    if (!r) return null;
    return {
      decisionId: r.decision_id,
      command: r.command,
      outcome: r.outcome,
      tokenId: r.token_id,
      key: r.idempotency_key,
      requestHash: r.request_hash,
      actor: r.actor,
      correlationId: r.correlation_id,
      recordedAt: r.recorded_at,
      subject: { serial: r.serial, planId: r.plan_id, claimId: r.claim_id },
      eventIds: JSON.parse(r.event_ids) as string[],
      revision: r.revision,
      position: BigInt(r.last_position),
      answer: r.answer === null ? null : (JSON.parse(r.answer) as Record<string, unknown>),
      refusal: r.outcome === 'refused' ? { code: r.code ?? '', rule: r.rule ?? '', detail: r.detail ?? '' } : null,
      request: r.request === null ? null : JSON.parse(r.request),
    };
  }

  /** An old node's idempotency answer, scoped then by actor. */
  legacy(actor: string, key: string): LegacyAnswer | null {
    return this.legacyByKey.get(`idem:${actor}:${key}`) ?? null;
  }
}
