/**
 * Data directories written before decisions were facts kept a decision log and idempotency records
 * in tables of the store's SQLite file, outside the hash chain. On open they are carried into the
 * log once, as facts of the stream `decision-legacy` (deterministic ids, so a crash halfway repeats
 * nothing), and the tables are renamed out of the way (kept, for forensics).
 */
import type Database from 'better-sqlite3';
import { ConcurrencyConflict, NewEvent, SqliteEventStore } from '@careledger/event-store';
import { LEGACY_STREAM } from './decisions';
import { stableId } from './ids';

export const LEGACY_DECISION_IMPORTED = 'LegacyDecisionImported';
export const LEGACY_IDEMPOTENCY_IMPORTED = 'LegacyIdempotencyImported';

export interface LegacyDecisionData {
  legacyId: number;
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

export interface LegacyIdempotencyData {
  /** As the old node scoped it: `idem:<actor>:<key>`, or a business key such as `order:<id>`. */
  key: string;
  fingerprint: string;
  status: number;
  body: string;
  contentType: string;
  createdAt: string;
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Carries the old tables into the log; returns how many records it carried (zero when there were none). */
export async function importLegacyRecords(store: SqliteEventStore, now: Date): Promise<{ decisions: number; idempotency: number }> {
  const db = store.database;
  const hasDecisions = tableExists(db, 'decisions');
  const hasIdempotency = tableExists(db, 'idempotency');
  if (!hasDecisions && !hasIdempotency) return { decisions: 0, idempotency: 0 };
  const metadata = { occurredAt: now.toISOString(), actor: 'system:upgrade', correlationId: 'legacy-import', causationId: null };
  const events: NewEvent[] = [];
  let decisions = 0;
  let idempotency = 0;
  if (hasDecisions) {
    const rows = db.prepare('SELECT * FROM decisions ORDER BY id').all() as Record<string, unknown>[];
    for (const r of rows) {
      const data: LegacyDecisionData = {
        legacyId: Number(r.id),
        recordedAt: String(r.recorded_at),
        command: String(r.command),
        actor: String(r.actor),
        correlationId: String(r.correlation_id),
        outcome: r.outcome === 'refused' ? 'refused' : 'accepted',
        code: (r.code as string | null) ?? null,
        rule: (r.rule as string | null) ?? null,
        detail: (r.detail as string | null) ?? null,
        serial: (r.serial as string | null) ?? null,
        planId: (r.plan_id as string | null) ?? null,
        claimId: (r.claim_id as string | null) ?? null,
        eventIds: JSON.parse(String(r.event_ids ?? '[]')) as string[],
        position: r.position === null || r.position === undefined ? null : String(r.position),
        request: r.request ? JSON.parse(String(r.request)) : null,
      };
      events.push({ eventId: stableId(`legacy-decision|${data.legacyId}`), type: LEGACY_DECISION_IMPORTED, data, metadata });
      decisions++;
    }
  }
  if (hasIdempotency) {
    const rows = db.prepare('SELECT * FROM idempotency ORDER BY key').all() as Record<string, unknown>[];
    for (const r of rows) {
      const data: LegacyIdempotencyData = {
        key: String(r.key),
        fingerprint: String(r.fingerprint),
        status: Number(r.status),
        body: String(r.body),
        contentType: String(r.content_type),
        createdAt: String(r.created_at),
      };
      events.push({ eventId: stableId(`legacy-idempotency|${data.key}`), type: LEGACY_IDEMPOTENCY_IMPORTED, data, metadata });
      idempotency++;
    }
  }
  if (events.length > 0) {
    try {
      await store.append([{ streamId: LEGACY_STREAM, expectedRevision: 'no_stream', events }]);
    } catch (error) {
      // carried before, and the process stopped before the tables were renamed
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
  }
  db.transaction(() => {
    if (hasDecisions) db.exec('ALTER TABLE decisions RENAME TO legacy_decisions_imported');
    if (hasIdempotency) db.exec('ALTER TABLE idempotency RENAME TO legacy_idempotency_imported');
  }).immediate();
  return { decisions, idempotency };
}
