/**
 * The read side: entitlements now (cached per unit until its next date boundary) and as of any
 * (at, knownAt) through the domain fold, history, timeline, audit, claims and dashboards.
 */
import type Database from 'better-sqlite3';
import {
  buildChain, Catalogue, ClaimState, EntitlementView, foldEntitlements, gatherUnit, instantInZone, instantMs, planStream, RecordedEvent,
  startOfDay, timeline, toFacts, World, zoneOf,
} from '@careledger/domain';
import { planWorld } from './plan-world';
import { EventRow, rowToEvent } from './projector';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditFilter {
  serial?: string;
  planId?: string;
  claimId?: string;
  type?: string;
  actor?: string;
  recordedFrom?: number;
  recordedTo?: number;
  cursor?: string;
  limit: number;
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

const SAFETY_MS = 6 * 3_600_000;

export function encodeCursor(value: number): string {
  return Buffer.from(JSON.stringify({ p: value })).toString('base64url');
}

/** Decodes a cursor; throws RangeError for one this server did not issue. */
export function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof value.p === 'number' && Number.isSafeInteger(value.p) && value.p >= 0) return value.p;
  } catch {
    // fall through
  }
  throw new RangeError('invalid cursor');
}

export class ReadModels {
  private readonly s: Record<string, Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    readonly catalogue: Catalogue,
    private readonly prefix = 'rm_',
    /** Where the checkpoint is known without a query (the runner feeding these tables). */
    private readonly checkpointOf: (() => bigint) | null = null,
  ) {
    const p = prefix;
    const prep = (sql: string) => db.prepare(sql);
    this.s = {
      stream: prep(`SELECT * FROM ${p}events WHERE stream_id = ? ORDER BY revision`),
      streamRevision: prep(`SELECT MAX(revision) AS revision FROM ${p}events WHERE stream_id = ?`),
      eventById: prep(`SELECT * FROM ${p}events WHERE event_id = ?`),
      cached: prep(`SELECT view, valid_until_ms FROM ${p}entitlements WHERE serial = ?`),
      cache: prep(`INSERT INTO ${p}entitlements (serial, view, source_position, valid_until_ms) VALUES (?, ?, ?, ?)
        ON CONFLICT(serial) DO UPDATE SET view = excluded.view, source_position = excluded.source_position, valid_until_ms = excluded.valid_until_ms`),
      order: prep(`SELECT order_id AS orderId, plan_id AS planId, kind, event_id AS eventId FROM ${p}orders WHERE order_id = ?`),
      claimRow: prep(`SELECT * FROM ${p}claims WHERE claim_id = ?`),
      claimByRef: prep(`SELECT claim_id FROM ${p}claims WHERE center_id = ? AND claim_ref = ?`),
      center: prep(`SELECT center_id AS centerId, name, region FROM ${p}centers WHERE center_id = ?`),
      checkpoint: prep(`SELECT position FROM ${p}checkpoint WHERE name = 'main'`),
      dueRewards: prep(`SELECT plan_id FROM ${p}plans WHERE reward_done = 0 AND reward_due_ms IS NOT NULL AND reward_due_ms <= ?
        AND last_position > reward_checked_position ORDER BY reward_due_ms LIMIT ?`),
      rewardChecked: prep(`UPDATE ${p}plans SET reward_checked_position = last_position WHERE plan_id = ?`),
      pendingYear2: prep(`SELECT p.plan_id FROM ${p}plans p WHERE p.term = '2y' AND p.effective_date IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${p}links l JOIN ${p}events e ON e.position = l.position
          WHERE l.key = 'p:' || p.plan_id AND e.type = 'WarrantyExtensionGranted') LIMIT ?`),
    };
  }

  checkpoint(): bigint {
    if (this.checkpointOf) return this.checkpointOf();
    const row = this.s.checkpoint.get() as { position: number } | undefined;
    return BigInt(row?.position ?? 0);
  }

  read(streamId: string): RecordedEvent[] {
    return (this.s.stream.all(streamId) as EventRow[]).map(rowToEvent);
  }

  revision(streamId: string): number {
    const row = this.s.streamRevision.get(streamId) as { revision: number | null };
    return row.revision ?? -1;
  }

  event(eventId: string): HistoryEntry | null {
    const row = this.s.eventById.get(eventId) as EventRow | undefined;
    return row ? toHistoryEntry(rowToEvent(row)) : null;
  }

  async unitEvents(serial: string): Promise<RecordedEvent[]> {
    const gathered = await gatherUnit(this.catalogue, serial, (s) => this.read(s));
    return gathered.events;
  }

  /**
   * Entitlements of a unit, or null when the ledger has no record of it. Without `at`/`knownAt` the
   * answer comes from the per-unit cache, valid until the next date the view names (a window
   * bound, the renewal deadline); with them, from the fold. `explain` keeps the explanation.
   */
  async entitlements(serial: string, q: { at?: string; knownAt?: string; now: Date; explain?: boolean }): Promise<{ json: string; view?: EntitlementView } | null> {
    const checkpoint = this.checkpoint().toString();
    const nowIso = q.now.toISOString();
    const explain = q.explain !== false;
    if (!q.at && !q.knownAt) {
      const cached = this.s.cached.get(serial) as { view: string; valid_until_ms: number } | undefined;
      if (cached && q.now.getTime() < cached.valid_until_ms) {
        return { json: withHeader(cached.view, renderAt(cached.view, q.now), nowIso, checkpoint, explain) };
      }
    }
    const events = await this.unitEvents(serial);
    if (events.length === 0) return null;
    const view = foldEntitlements(this.catalogue, events, { serial, at: q.at, knownAt: q.knownAt, now: nowIso });
    const { at, knownAt, ...rest } = view;
    const body = JSON.stringify({ zone: zoneOf(new World(this.catalogue, toFacts(events).facts), serial), ...rest });
    if (!q.at && !q.knownAt) {
      this.s.cache.run(serial, body, Number(checkpoint), validUntil(view, events, q.now.getTime(), this.catalogue));
    }
    return { json: withHeader(body, at, knownAt, checkpoint, explain), view };
  }

  /** Every event of the unit and its chain in global order, or null when the ledger has none. */
  async history(serial: string, knownAt?: string): Promise<HistoryEntry[] | null> {
    const limit = knownAt ? instantMs(knownAt) : Number.POSITIVE_INFINITY;
    const events = await this.unitEvents(serial);
    if (events.length === 0) return null;
    return events
      .filter((e) => Date.parse(e.metadata.recordedAt) <= limit)
      .sort((a, b) => (a.position < b.position ? -1 : 1))
      .map(toHistoryEntry);
  }

  async timeline(serial: string, knownAt: string) {
    const events = await this.unitEvents(serial);
    if (events.length === 0) return null;
    return timeline(this.catalogue, events, serial, knownAt).map((entry) => {
      const { view, ...rest } = entry;
      return { ...rest, view };
    });
  }

  auditEvents(f: AuditFilter): Page<HistoryEntry> {
    const where: string[] = [];
    const args: unknown[] = [];
    const linked = (key: string) => {
      where.push(`e.position IN (SELECT position FROM ${this.prefix}links WHERE key = ?)`);
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
    if (f.cursor) {
      where.push('e.position > ?');
      args.push(decodeCursor(f.cursor));
    }
    const sql = `SELECT e.* FROM ${this.prefix}events e ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.position LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, f.limit + 1) as EventRow[];
    const more = rows.length > f.limit;
    const items = rows.slice(0, f.limit).map((r) => toHistoryEntry(rowToEvent(r)));
    return { items, nextCursor: more ? encodeCursor(rows[f.limit - 1].position) : null };
  }

  order(orderId: string): { orderId: string; planId: string; kind: string; eventId: string } | undefined {
    return this.s.order.get(orderId) as { orderId: string; planId: string; kind: string; eventId: string } | undefined;
  }

  claimIdByRef(centerId: string, claimRef: string): string | undefined {
    return (this.s.claimByRef.get(centerId, claimRef) as { claim_id: string } | undefined)?.claim_id;
  }

  claimRow(claimId: string): ClaimRow | undefined {
    return this.s.claimRow.get(claimId) as ClaimRow | undefined;
  }

  serviceCenter(centerId: string): { centerId: string; name: string; region: string } | undefined {
    return this.s.center.get(centerId) as { centerId: string; name: string; region: string } | undefined;
  }

  /** A claim as its plan's corrected facts tell it. */
  claim(claimId: string): ClaimView | null {
    const row = this.claimRow(claimId);
    if (!row) return null;
    const world = this.planWorld(row.plan_id);
    const chain = buildChain(world, row.plan_id);
    const claim = chain?.claims.find((c) => c.claimId === claimId);
    if (!chain || !claim) return null;
    return claimView(claim, this.revision(planStream(row.plan_id)));
  }

  /** A plan, its chain, units and claims, as of now. */
  plan(planId: string, now: Date): Record<string, unknown> | null {
    const world = this.planWorld(planId);
    const chain = buildChain(world, planId);
    if (!chain) return null;
    const nowMs = now.getTime();
    const p = chain.purchase.event.data;
    const first = chain.terms[0];
    const last = chain.terms[chain.terms.length - 1];
    const status = !first || nowMs < first.window.fromMs ? 'pending' : nowMs < last.window.untilMs ? 'active' : 'expired';
    const holder = chain.units.length > 0 ? chain.units[chain.units.length - 1] : null;
    return {
      planId,
      term: p.term,
      model: chain.model.name,
      region: chain.region,
      channel: p.channel,
      orderId: p.orderId,
      purchasedAt: p.purchasedAt,
      price: p.price,
      policyVersion: chain.policy.id,
      status,
      effectiveDate: chain.effective?.date ?? null,
      currentUnit: holder?.serial ?? null,
      units: chain.units.map((u) => ({ serial: u.serial, via: u.via, at: new Date(u.atMs).toISOString(), eventId: u.fact.eventId })),
      chain: chain.terms.map((t) => ({
        kind: t.kind,
        from: t.window.from,
        until: t.window.until,
        purchasedAt: 'purchasedAt' in t.fact.event.data ? t.fact.event.data.purchasedAt : null,
        orderId: t.fact.event.data.orderId,
        eventId: t.fact.eventId,
      })),
      claims: chain.claims.map((c) => ({ claimId: c.claimId, claimRef: c.data.claimRef, serial: c.data.serial, kind: c.data.kind, status: c.status })),
      revision: this.revision(planStream(planId)),
    };
  }

  private planWorld(planId: string): World {
    return planWorld(this.catalogue, planId, (s) => this.read(s));
  }

  centerClaims(centerId: string, status: string | undefined, cursor: string | undefined, limit: number): Page<Record<string, unknown>> {
    const where = ['center_id = ?'];
    const args: unknown[] = [centerId];
    if (status) {
      where.push(status === 'awaitingPayment' ? `status = 'approved'` : 'status = ?');
      if (status !== 'awaitingPayment') args.push(status);
    }
    if (cursor) {
      where.push('seq > ?');
      args.push(decodeCursor(cursor));
    }
    const rows = this.db
      .prepare(`SELECT * FROM ${this.prefix}claims WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`)
      .all(...args, limit + 1) as ClaimRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(claimSummary);
    return { items, nextCursor: more ? encodeCursor(rows[limit - 1].seq) : null };
  }

  dashboard(centerId: string, from: string | undefined, to: string | undefined) {
    const where = ['center_id = ?'];
    const args: unknown[] = [centerId];
    if (from) {
      where.push('opened_date >= ?');
      args.push(from);
    }
    if (to) {
      where.push('opened_date <= ?');
      args.push(to);
    }
    const rows = this.db.prepare(`SELECT * FROM ${this.prefix}claims WHERE ${where.join(' AND ')}`).all(...args) as ClaimRow[];
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
      checkpoint: this.checkpoint().toString(),
    };
  }

  /** Plans whose safe-use reward may be due (the sweep re-decides each). */
  dueRewardPlans(nowMs: number, limit: number): string[] {
    return (this.s.dueRewards.all(nowMs, limit) as { plan_id: string }[]).map((r) => r.plan_id);
  }

  /** The sweep looked at this plan's reward: skip it until the plan's facts change. */
  markRewardChecked(planId: string): void {
    this.s.rewardChecked.run(planId);
  }

  /** 2-Year plans with a known effective date and no extension recorded yet. */
  pendingYear2Plans(limit: number): string[] {
    return (this.s.pendingYear2.all(limit) as { plan_id: string }[]).map((r) => r.plan_id);
  }
}

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

function claimView(c: ClaimState, revision: number): ClaimView {
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

function claimSummary(r: ClaimRow): Record<string, unknown> {
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
    fee: r.fee_amount ? { amount: r.fee_amount, currency: r.fee_currency } : null,
    paid: r.paid_amount ? { amount: r.paid_amount, currency: r.paid_currency, at: r.paid_at } : null,
    fulfilledAt: r.fulfilled_at,
    replacementSerial: r.replacement_serial,
  };
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

/**
 * Puts at/knownAt/checkpoint in front of a stored view body (which starts with its zone and ends
 * with its explanation, cut off unless asked for).
 */
function withHeader(body: string, at: string, knownAt: string, checkpoint: string, explain: boolean): string {
  const start = body.indexOf(',', 9) + 1; // after {"zone":"...",
  const end = explain ? body.length : body.lastIndexOf(',"explanation":');
  return `{"at":${JSON.stringify(at)},"knownAt":${JSON.stringify(knownAt)},"checkpoint":${JSON.stringify(checkpoint)},${body.slice(start, end)}${explain ? '' : '}'}`;
}

function renderAt(body: string, now: Date): string {
  const zone = /^\{"zone":"([^"]*)"/.exec(body)?.[1] ?? 'UTC';
  return instantInZone(now.getTime(), zone);
}

/** The next instant at which the current view may change: the earliest date it names after now. */
function validUntil(view: EntitlementView, events: RecordedEvent[], nowMs: number, catalogue: Catalogue): number {
  const zone = view.region ? catalogue.zone(view.region) : 'UTC';
  const dates = new Set<string>();
  const addWindow = (w: { from: string; until: string } | null) => {
    if (w) {
      dates.add(w.from);
      dates.add(w.until);
    }
  };
  for (const t of view.chain) addWindow(t);
  addWindow(view.replacement.window);
  addWindow(view.warranty.official);
  if (view.warranty.coveredUntil) dates.add(view.warranty.coveredUntil);
  for (const x of view.warranty.extensions) addWindow(x);
  addWindow(view.safeUseReward.window);
  let next = nowMs + SAFETY_MS;
  for (const d of dates) {
    const ms = startOfDay(d, zone);
    if (ms > nowMs && ms < next) next = ms;
  }
  if (view.renewal.deadline) {
    const ms = Date.parse(view.renewal.deadline);
    if (ms > nowMs && ms < next) next = ms;
  }
  for (const e of events) {
    const ms = Date.parse(e.metadata.occurredAt);
    if (Number.isFinite(ms) && ms > nowMs && ms < next) next = ms;
  }
  return next;
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
