/**
 * Claims, for the service centers' queues and dashboards: one row per claim with its status, fee,
 * payment and replacement. A correction on a plan's stream recomputes that plan's rows from its
 * corrected facts (keeping each row's `seq`, the order of the queue).
 */
import type Database from 'better-sqlite3';
import { Catalogue, ClaimState, dateInZone, instantMs, planStream } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';
import type { ReadModelSchema, StreamSource } from './model';
import { planWorld } from './plan-world';
import { planIdOf } from './plans';

export const claimsSchema: ReadModelSchema = {
  name: 'claims',
  tables: ['claims'],
  schema: (p, i) => `
    CREATE TABLE IF NOT EXISTS ${p}claims (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      claim_id TEXT NOT NULL UNIQUE,
      plan_id TEXT NOT NULL,
      claim_ref TEXT NOT NULL,
      center_id TEXT NOT NULL,
      serial TEXT NOT NULL,
      kind TEXT NOT NULL,
      cause TEXT NOT NULL,
      express INTEGER NOT NULL,
      status TEXT NOT NULL,
      incident_at TEXT NOT NULL,
      opened_at TEXT NOT NULL,
      opened_ms INTEGER NOT NULL,
      opened_date TEXT NOT NULL,
      approved_at TEXT,
      ordinal INTEGER,
      fee_amount TEXT,
      fee_currency TEXT,
      paid_amount TEXT,
      paid_currency TEXT,
      paid_at TEXT,
      fulfilled_at TEXT,
      fulfilled_ms INTEGER,
      replacement_serial TEXT,
      closed_at TEXT
    );
    CREATE INDEX IF NOT EXISTS ${i}claims_plan ON ${p}claims(plan_id);
    CREATE UNIQUE INDEX IF NOT EXISTS ${i}claims_ref ON ${p}claims(center_id, claim_ref);`,
  queryIndexes: (p, i) => `
    CREATE INDEX IF NOT EXISTS ${i}claims_center ON ${p}claims(center_id, seq);
    CREATE INDEX IF NOT EXISTS ${i}claims_center_date ON ${p}claims(center_id, opened_date);
    CREATE INDEX IF NOT EXISTS ${i}claims_serial ON ${p}claims(serial, seq);`,
};

export interface ClaimRow {
  seq: number;
  claim_id: string;
  plan_id: string;
  claim_ref: string;
  center_id: string;
  serial: string;
  kind: string;
  cause: string;
  express: number;
  status: string;
  incident_at: string;
  opened_at: string;
  opened_ms: number;
  opened_date: string;
  approved_at: string | null;
  ordinal: number | null;
  fee_amount: string | null;
  fee_currency: string | null;
  paid_amount: string | null;
  paid_currency: string | null;
  paid_at: string | null;
  fulfilled_at: string | null;
  fulfilled_ms: number | null;
  replacement_serial: string | null;
  closed_at: string | null;
}

type Opened = {
  claimId: string; planId: string; claimRef: string; serviceCenterId: string; serial: string; kind: string; cause: string;
  express: boolean; incidentAt: string; openedAt: string; serviceRegion: string | null;
};

export class ClaimsProjection {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly catalogue: Catalogue,
    p: string,
    private readonly read: StreamSource,
  ) {
    this.s = {
      insert: db.prepare<[string, string, string, string, string, string, string, number, string, string, number, string]>(
        `INSERT OR IGNORE INTO ${p}claims (claim_id, plan_id, claim_ref, center_id, serial, kind, cause, express, status, incident_at, opened_at, opened_ms, opened_date)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
      ),
      reset: db.prepare<[string, string, number, string, string, number, string, string]>(
        `UPDATE ${p}claims SET kind = ?, cause = ?, express = ?, status = 'open', incident_at = ?, opened_at = ?, opened_ms = ?, opened_date = ?,
         approved_at = NULL, ordinal = NULL, fee_amount = NULL, fee_currency = NULL, paid_amount = NULL, paid_currency = NULL, paid_at = NULL,
         fulfilled_at = NULL, fulfilled_ms = NULL, replacement_serial = NULL, closed_at = NULL WHERE claim_id = ?`,
      ),
      approve: db.prepare<[string, number, string, string, string]>(
        `UPDATE ${p}claims SET status = CASE WHEN status = 'open' THEN 'approved' ELSE status END, approved_at = ?, ordinal = ?, fee_amount = ?, fee_currency = ? WHERE claim_id = ?`,
      ),
      close: db.prepare<[string, string, string]>(`UPDATE ${p}claims SET status = ?, closed_at = ? WHERE claim_id = ? AND status NOT IN ('fulfilled')`),
      pay: db.prepare<[string, string, string, string]>(
        `UPDATE ${p}claims SET status = CASE WHEN status = 'approved' THEN 'paid' ELSE status END, paid_amount = ?, paid_currency = ?, paid_at = ? WHERE claim_id = ?`,
      ),
      fulfil: db.prepare<[string, number, string, string]>(
        `UPDATE ${p}claims SET status = 'fulfilled', fulfilled_at = ?, fulfilled_ms = ?, replacement_serial = ? WHERE claim_id = ?`,
      ),
      idsOf: db.prepare<[string], { claim_id: string }>(`SELECT claim_id FROM ${p}claims WHERE plan_id = ?`),
      remove: db.prepare<[string]>(`DELETE FROM ${p}claims WHERE claim_id = ?`),
      center: db.prepare<[string], { region: string }>(`SELECT region FROM ${p}centers WHERE center_id = ?`),
      plan: db.prepare<[string], { region: string }>(`SELECT region FROM ${p}plans WHERE plan_id = ?`),
    };
  }

  apply(e: StoredEvent): void {
    const d = e.data as Record<string, unknown>;
    switch (e.type) {
      case 'ClaimOpened':
        this.open(d as unknown as Opened);
        break;
      case 'ClaimApproved': {
        const fee = d.fee as { amount: string; currency: string };
        this.s.approve.run(d.at as string, d.ordinal as number, fee.amount, fee.currency, d.claimId as string);
        break;
      }
      case 'ClaimDenied':
      case 'ClaimCancelled':
        this.s.close.run(e.type === 'ClaimDenied' ? 'denied' : 'cancelled', d.at as string, d.claimId as string);
        break;
      case 'ClaimPaid':
        this.s.pay.run(d.amount as string, d.currency as string, d.at as string, d.claimId as string);
        break;
      case 'ClaimFulfilled':
        this.s.fulfil.run(d.at as string, instantMs(d.at as string), d.replacementSerial as string, d.claimId as string);
        break;
      case 'EventCorrected': {
        const planId = planIdOf(e.streamId);
        if (planId) this.recompute(planId);
        break;
      }
    }
  }

  private open(d: Opened): void {
    const openedMs = instantMs(d.openedAt);
    this.s.insert.run(d.claimId, d.planId, d.claimRef, d.serviceCenterId, d.serial, d.kind, d.cause, d.express ? 1 : 0, d.incidentAt, d.openedAt, openedMs, this.openedDate(d, openedMs));
  }

  /** Dashboard periods are business dates in the center's zone (else the plan's). */
  private openedDate(d: Opened, openedMs: number): string {
    const region = d.serviceRegion ?? this.s.center.get(d.serviceCenterId)?.region ?? this.s.plan.get(d.planId)?.region ?? 'US';
    return dateInZone(openedMs, this.catalogue.zone(region));
  }

  /** Recomputes a plan's claim rows from its corrected facts, keeping each row (and its seq). */
  private recompute(planId: string): void {
    const chain = planWorld(this.catalogue, planId, this.read).chain(planId);
    const claims = chain?.claims ?? [];
    const keep = new Set(claims.map((c) => c.claimId));
    for (const row of this.s.idsOf.all(planId)) if (!keep.has(row.claim_id)) this.s.remove.run(row.claim_id);
    for (const c of claims) {
      const d = c.data as unknown as Opened;
      this.open(d);
      const openedMs = instantMs(d.openedAt);
      this.s.reset.run(d.kind, d.cause, d.express ? 1 : 0, d.incidentAt, d.openedAt, openedMs, this.openedDate(d, openedMs), c.claimId);
      if (c.approved) {
        const a = c.approved.event.data;
        this.s.approve.run(a.at, a.ordinal, a.fee.amount, a.fee.currency, c.claimId);
      }
      for (const pay of c.payments) this.s.pay.run(pay.event.data.amount, pay.event.data.currency, pay.event.data.at, c.claimId);
      if (c.denied) this.s.close.run('denied', c.denied.event.data.at, c.claimId);
      if (c.cancelled) this.s.close.run('cancelled', c.cancelled.event.data.at, c.claimId);
      if (c.fulfilled) {
        const f = c.fulfilled.event.data;
        this.s.fulfil.run(f.at, instantMs(f.at), f.replacementSerial, c.claimId);
      }
    }
  }
}

export interface ClaimView {
  claimId: string;
  claimRef: string;
  planId: string;
  serial: string;
  kind: string;
  cause: string;
  incidentAt: string;
  openedAt: string;
  serviceCenterId: string;
  serviceRegion: string | null;
  express: boolean;
  flightRecordsSynced: boolean;
  status: string;
  ordinal: number | null;
  fee: { amount: string; currency: string } | null;
  approvedAt: string | null;
  payments: { at: string; amount: string; currency: string }[];
  deniedAt: string | null;
  cancelledAt: string | null;
  reason: string | null;
  fulfilledAt: string | null;
  replacementSerial: string | null;
  revision: number;
  eventIds: string[];
}

export interface ClaimSummary {
  claimId: string;
  claimRef: string;
  planId: string;
  serial: string;
  kind: string;
  cause: string;
  express: boolean;
  status: string;
  incidentAt: string;
  openedAt: string;
  ordinal: number | null;
  fee: { amount: string; currency: string } | null;
  paid: { amount: string; currency: string; at: string } | null;
  fulfilledAt: string | null;
  replacementSerial: string | null;
}

export interface Dashboard {
  centerId: string;
  from: string | null;
  to: string | null;
  claims: { open: number; approved: number; awaitingPayment: number; fulfilled: number; denied: number; cancelled: number };
  replacementsIssued: number;
  flyawayShare: number;
  express: number;
  feesCollected: { currency: string; amount: string }[];
  medianHoursOpenToFulfilment: number | null;
}

export class ClaimsQueries {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly catalogue: Catalogue,
    private readonly p: string,
    private readonly read: StreamSource,
    private readonly revision: (streamId: string) => number,
  ) {
    this.s = {
      row: db.prepare<[string], ClaimRow>(`SELECT * FROM ${p}claims WHERE claim_id = ?`),
      bySerial: db.prepare<[string], ClaimRow>(`SELECT * FROM ${p}claims WHERE serial = ? ORDER BY seq`),
    };
  }

  /** Where a claim lives: its plan and service center. */
  location(claimId: string): { planId: string; centerId: string } | null {
    const row = this.s.row.get(claimId);
    return row ? { planId: row.plan_id, centerId: row.center_id } : null;
  }

  /** A claim as its plan's corrected facts tell it. */
  claim(claimId: string): ClaimView | null {
    const row = this.s.row.get(claimId);
    if (!row) return null;
    const chain = planWorld(this.catalogue, row.plan_id, this.read).chain(row.plan_id);
    const claim = chain?.claims.find((c) => c.claimId === claimId);
    if (!chain || !claim) return null;
    return claimView(claim, this.revision(planStream(row.plan_id)));
  }

  /** The claims filed for a unit (any center), oldest first. */
  claimsOfUnit(serial: string): ClaimRow[] {
    return this.s.bySerial.all(serial);
  }

  centerClaims(centerId: string, status: string | undefined, after: number | undefined, limit: number): ClaimRow[] {
    const where = ['center_id = ?'];
    const args: (string | number)[] = [centerId];
    if (status) {
      where.push(status === 'awaitingPayment' ? `status = 'approved'` : 'status = ?');
      if (status !== 'awaitingPayment') args.push(status);
    }
    if (after !== undefined) {
      where.push('seq > ?');
      args.push(after);
    }
    return this.db.prepare<(string | number)[], ClaimRow>(`SELECT * FROM ${this.p}claims WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, limit);
  }

  dashboard(centerId: string, from: string | undefined, to: string | undefined): Dashboard {
    const where = ['center_id = ?'];
    const args: string[] = [centerId];
    if (from) {
      where.push('opened_date >= ?');
      args.push(from);
    }
    if (to) {
      where.push('opened_date <= ?');
      args.push(to);
    }
    const rows = this.db.prepare<string[], ClaimRow>(`SELECT * FROM ${this.p}claims WHERE ${where.join(' AND ')}`).all(...args);
    const count = (pred: (r: ClaimRow) => boolean) => rows.filter(pred).length;
    const fees = new Map<string, bigint>();
    for (const r of rows) {
      if (!r.paid_amount || !r.paid_currency || r.status === 'cancelled') continue;
      fees.set(r.paid_currency, (fees.get(r.paid_currency) ?? 0n) + toMinor(r.paid_amount));
    }
    const hours = rows
      .filter((r) => r.fulfilled_ms !== null)
      .map((r) => (r.fulfilled_ms! - r.opened_ms) / 3_600_000)
      .sort((a, b) => a - b);
    const median = hours.length === 0 ? null : hours.length % 2 ? hours[(hours.length - 1) / 2] : (hours[hours.length / 2 - 1] + hours[hours.length / 2]) / 2;
    return {
      centerId,
      from: from ?? null,
      to: to ?? null,
      claims: {
        open: count((r) => r.status === 'open'),
        approved: count((r) => r.status === 'approved' || r.status === 'paid'),
        awaitingPayment: count((r) => r.status === 'approved'),
        fulfilled: count((r) => r.status === 'fulfilled'),
        denied: count((r) => r.status === 'denied'),
        cancelled: count((r) => r.status === 'cancelled'),
      },
      replacementsIssued: count((r) => r.status === 'fulfilled'),
      flyawayShare: rows.length === 0 ? 0 : Math.round((count((r) => r.kind === 'flyaway') / rows.length) * 10_000) / 10_000,
      express: count((r) => r.express === 1),
      feesCollected: [...fees.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, minor]) => ({ currency, amount: fromMinor(minor) })),
      medianHoursOpenToFulfilment: median === null ? null : Math.round(median * 100) / 100,
    };
  }
}

export function claimView(c: ClaimState, revision: number): ClaimView {
  const d = c.data;
  return {
    claimId: c.claimId,
    claimRef: d.claimRef,
    planId: d.planId,
    serial: d.serial,
    kind: d.kind,
    cause: d.cause,
    incidentAt: d.incidentAt,
    openedAt: d.openedAt,
    serviceCenterId: d.serviceCenterId,
    serviceRegion: d.serviceRegion,
    express: d.express,
    flightRecordsSynced: d.flightRecordsSynced,
    status: c.status,
    ordinal: c.approved?.event.data.ordinal ?? null,
    fee: c.approved?.event.data.fee ?? null,
    approvedAt: c.approved?.event.data.at ?? null,
    payments: c.payments.map((p) => ({ at: p.event.data.at, amount: p.event.data.amount, currency: p.event.data.currency })),
    deniedAt: c.denied?.event.data.at ?? null,
    cancelledAt: c.cancelled?.event.data.at ?? null,
    reason: c.denied?.event.data.reason ?? c.cancelled?.event.data.reason ?? null,
    fulfilledAt: c.fulfilled?.event.data.at ?? null,
    replacementSerial: c.fulfilled?.event.data.replacementSerial ?? null,
    revision,
    eventIds: [c.opened, c.approved, ...c.payments, c.denied, c.cancelled, c.fulfilled].filter((f) => f !== null).map((f) => f!.eventId),
  };
}

export function claimSummary(r: ClaimRow): ClaimSummary {
  return {
    claimId: r.claim_id,
    claimRef: r.claim_ref,
    planId: r.plan_id,
    serial: r.serial,
    kind: r.kind,
    cause: r.cause,
    express: r.express === 1,
    status: r.status,
    incidentAt: r.incident_at,
    openedAt: r.opened_at,
    ordinal: r.ordinal,
    fee: r.fee_amount ? { amount: r.fee_amount, currency: r.fee_currency! } : null,
    paid: r.paid_amount ? { amount: r.paid_amount, currency: r.paid_currency!, at: r.paid_at! } : null,
    fulfilledAt: r.fulfilled_at,
    replacementSerial: r.replacement_serial,
  };
}

function toMinor(amount: string): bigint {
  const [whole, frac = ''] = amount.split('.');
  return BigInt(whole) * 10_000n + BigInt((frac + '0000').slice(0, 4));
}

function fromMinor(minor: bigint): string {
  const whole = minor / 10_000n;
  const frac = (minor % 10_000n).toString().padStart(4, '0').slice(0, 2);
  return `${whole}.${frac}`;
}
