/**
 * evolve(readModel, event) for every read model, in SQL. Applying an event twice changes nothing:
 * the runner skips positions at or below the checkpoint, and every write here is an idempotent
 * upsert. Corrections make the affected plan's rows be recomputed from its corrected facts.
 */
import type Database from 'better-sqlite3';
import {
  addDays, addMonths, buildChain, Catalogue, dateInZone, DAY_MS, instantMs, RecordedEvent, startOfDay,
  toFacts, World,
} from '@careledger/domain';
import { planWorld } from './plan-world';

type Data = Record<string, unknown>;

export interface ApplyEffects {
  /** Serials whose cached entitlement view is stale. */
  dirtySerials: Set<string>;
}

export class Projector {
  private readonly s: Record<string, Database.Statement>;

  private readonly trackDirty: boolean;

  constructor(
    private readonly db: Database.Database,
    private readonly catalogue: Catalogue,
    readonly prefix: string,
    options: { trackDirty?: boolean } = {},
  ) {
    this.trackDirty = options.trackDirty !== false;
    const p = prefix;
    const prep = (sql: string) => db.prepare(sql);
    this.s = {
      insertEvent: prep(`INSERT OR IGNORE INTO ${p}events (position, event_id, stream_id, revision, type, occurred_at, recorded_at, recorded_ms, actor, correlation_id, causation_id, data)
        VALUES (@position, @eventId, @streamId, @revision, @type, @occurredAt, @recordedAt, @recordedMs, @actor, @correlationId, @causationId, @data)`),
      link: prep(`INSERT OR IGNORE INTO ${p}links (key, position) VALUES (?, ?)`),
      insertPlan: prep(`INSERT OR IGNORE INTO ${p}plans (plan_id, model, region, term, channel, serial, order_id, purchased_at, effective_date, reward_due_ms)
        VALUES (@planId, @model, @region, @term, @channel, @serial, @orderId, @purchasedAt, @effectiveDate, @rewardDueMs)`),
      plan: prep(`SELECT * FROM ${p}plans WHERE plan_id = ?`),
      setEffective: prep(`UPDATE ${p}plans SET effective_date = ?, reward_due_ms = ?, serial = COALESCE(serial, ?) WHERE plan_id = ?`),
      bundlesOf: prep(`SELECT * FROM ${p}plans WHERE serial = ? AND channel = 'bundle'`),
      rewardDone: prep(`UPDATE ${p}plans SET reward_done = 1 WHERE plan_id = ?`),
      touchPlan: prep(`UPDATE ${p}plans SET last_position = ? WHERE plan_id = ?`),
      unit: prep(`INSERT INTO ${p}units (serial, plan_id) VALUES (?, ?) ON CONFLICT(serial) DO UPDATE SET plan_id = excluded.plan_id`),
      unitPlan: prep(`SELECT plan_id FROM ${p}units WHERE serial = ?`),
      unitsOf: prep(`SELECT serial FROM ${p}units WHERE plan_id = ?`),
      order: prep(`INSERT OR IGNORE INTO ${p}orders (order_id, plan_id, kind, event_id) VALUES (?, ?, ?, ?)`),
      center: prep(`INSERT INTO ${p}centers (center_id, name, region) VALUES (?, ?, ?) ON CONFLICT(center_id) DO UPDATE SET name = excluded.name, region = excluded.region`),
      centerOf: prep(`SELECT region FROM ${p}centers WHERE center_id = ?`),
      insertClaim: prep(`INSERT OR IGNORE INTO ${p}claims (claim_id, plan_id, claim_ref, center_id, serial, kind, cause, express, status, incident_at, opened_at, opened_ms, opened_date)
        VALUES (@claimId, @planId, @claimRef, @centerId, @serial, @kind, @cause, @express, 'open', @incidentAt, @openedAt, @openedMs, @openedDate)`),
      approve: prep(`UPDATE ${p}claims SET status = CASE WHEN status = 'open' THEN 'approved' ELSE status END, approved_at = ?, ordinal = ?, fee_amount = ?, fee_currency = ? WHERE claim_id = ?`),
      close: prep(`UPDATE ${p}claims SET status = ?, closed_at = ? WHERE claim_id = ? AND status NOT IN ('fulfilled')`),
      pay: prep(`UPDATE ${p}claims SET status = CASE WHEN status = 'approved' THEN 'paid' ELSE status END, paid_amount = ?, paid_currency = ?, paid_at = ? WHERE claim_id = ?`),
      fulfil: prep(`UPDATE ${p}claims SET status = 'fulfilled', fulfilled_at = ?, fulfilled_ms = ?, replacement_serial = ? WHERE claim_id = ?`),
      claimIdsOf: prep(`SELECT claim_id FROM ${p}claims WHERE plan_id = ?`),
      deleteClaim: prep(`DELETE FROM ${p}claims WHERE claim_id = ?`),
      resetClaim: prep(`UPDATE ${p}claims SET kind = @kind, cause = @cause, express = @express, status = 'open', incident_at = @incidentAt,
        opened_at = @openedAt, opened_ms = @openedMs, opened_date = @openedDate, approved_at = NULL, ordinal = NULL, fee_amount = NULL, fee_currency = NULL,
        paid_amount = NULL, paid_currency = NULL, paid_at = NULL, fulfilled_at = NULL, fulfilled_ms = NULL, replacement_serial = NULL,
        closed_at = NULL WHERE claim_id = @claimId`),
      streamEvents: prep(`SELECT * FROM ${p}events WHERE stream_id = ? ORDER BY revision`),
      eventById: prep(`SELECT stream_id FROM ${p}events WHERE event_id = ?`),
      invalidate: prep(`DELETE FROM ${p}entitlements WHERE serial = ?`),
      checkpoint: prep(`INSERT INTO ${p}checkpoint (name, position) VALUES ('main', ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position`),
    };
  }

  apply(e: RecordedEvent, effects: ApplyEffects): void {
    const position = Number(e.position);
    this.s.insertEvent.run({
      position,
      eventId: e.eventId,
      streamId: e.streamId,
      revision: e.revision,
      type: e.type,
      occurredAt: e.metadata.occurredAt ?? null,
      recordedAt: e.metadata.recordedAt,
      recordedMs: Date.parse(e.metadata.recordedAt),
      actor: e.metadata.actor ?? null,
      correlationId: e.metadata.correlationId ?? null,
      causationId: e.metadata.causationId ?? null,
      data: JSON.stringify(e.data),
    });
    const d = e.data as Data;
    const keys = new Set<string>();
    const [category, ...rest] = e.streamId.split('-');
    const id = rest.join('-');
    if (category === 'device') keys.add(`s:${id}`);
    if (category === 'plan') keys.add(`p:${id}`);
    if (e.streamId.startsWith('service-center-')) keys.add(`sc:${e.streamId.slice('service-center-'.length)}`);
    for (const field of ['serial', 'replacementSerial']) if (typeof d[field] === 'string') keys.add(`s:${d[field]}`);
    if (typeof d.planId === 'string') keys.add(`p:${d.planId}`);
    if (typeof d.claimId === 'string') keys.add(`c:${d.claimId}`);
    if (typeof d.serviceCenterId === 'string') keys.add(`sc:${d.serviceCenterId}`);
    for (const k of keys) this.s.link.run(k, position);

    switch (e.type) {
      case 'DeviceActivated':
        this.onActivation(d, effects);
        break;
      case 'DeviceBoundToPlan':
        this.dirtyPlan(d.planId as string, effects);
        break;
      case 'PlanPurchased':
        this.onPurchase(e, d, effects);
        break;
      case 'PlanBound':
        this.s.unit.run(d.serial, d.planId);
        this.refreshPlan(d.planId as string);
        this.dirtyPlan(d.planId as string, effects);
        break;
      case 'PlanRenewed':
      case 'CarePlusPurchased':
        this.s.order.run(d.orderId, d.planId, e.type === 'PlanRenewed' ? 'renewal' : 'care-plus', e.eventId);
        this.dirtyPlan(d.planId as string, effects);
        break;
      case 'ClaimOpened':
        this.onClaimOpened(d);
        this.dirtyPlan(d.planId as string, effects);
        break;
      case 'ClaimApproved': {
        const fee = d.fee as { amount: string; currency: string };
        this.s.approve.run(d.at, d.ordinal, fee.amount, fee.currency, d.claimId);
        this.dirtyPlan(id, effects);
        break;
      }
      case 'ClaimDenied':
      case 'ClaimCancelled':
        this.s.close.run(e.type === 'ClaimDenied' ? 'denied' : 'cancelled', d.at, d.claimId);
        this.dirtyPlan(id, effects);
        break;
      case 'ClaimPaid':
        this.s.pay.run(d.amount, d.currency, d.at, d.claimId);
        this.dirtyPlan(id, effects);
        break;
      case 'ClaimFulfilled':
        this.s.fulfil.run(d.at, instantMs(d.at as string), d.replacementSerial, d.claimId);
        this.s.unit.run(d.replacementSerial, id);
        this.dirtyPlan(id, effects);
        break;
      case 'ServiceRecorded':
      case 'WarrantyExtensionGranted':
        if (e.type === 'WarrantyExtensionGranted' && d.kind === 'safe-use-reward' && category === 'plan') this.s.rewardDone.run(id);
        if (category === 'plan') this.dirtyPlan(id, effects);
        else effects.dirtySerials.add(id);
        break;
      case 'ServiceCenterRegistered':
        this.s.center.run(d.centerId, d.name, d.region);
        break;
      case 'EventCorrected':
        this.onCorrection(e, effects);
        break;
      default:
        if (category === 'device') effects.dirtySerials.add(id);
    }
    if (category === 'plan') this.s.touchPlan.run(position, id);
    if (category === 'device' && this.trackDirty) {
      effects.dirtySerials.add(id);
      const plan = this.s.unitPlan.get(id) as { plan_id: string } | undefined;
      if (plan) this.dirtyPlan(plan.plan_id, effects);
    }
  }

  setCheckpoint(position: bigint): void {
    this.s.checkpoint.run(Number(position));
  }

  invalidate(serial: string): void {
    this.s.invalidate.run(serial);
  }

  private dirtyPlan(planId: string, effects: ApplyEffects): void {
    if (!this.trackDirty) return;
    for (const row of this.s.unitsOf.all(planId) as { serial: string }[]) effects.dirtySerials.add(row.serial);
  }

  private onPurchase(e: RecordedEvent, d: Data, effects: ApplyEffects): void {
    const region = d.region as string;
    const zone = this.catalogue.zone(region);
    let effectiveDate: string | null = null;
    if (d.channel === 'online' || (d.channel === 'card' && d.serial)) effectiveDate = dateInZone(instantMs(d.purchasedAt as string), zone);
    this.s.insertPlan.run({
      planId: d.planId,
      model: d.model,
      region,
      term: d.term,
      channel: d.channel,
      serial: (d.serial as string | null) ?? null,
      orderId: d.orderId,
      purchasedAt: d.purchasedAt,
      effectiveDate,
      rewardDueMs: effectiveDate ? this.rewardDue(effectiveDate, d.term as string, zone) : null,
    });
    this.s.order.run(d.orderId, d.planId, 'purchase', e.eventId);
    if (d.serial) this.s.unit.run(d.serial, d.planId);
    if (d.channel === 'bundle' && d.serial) this.refreshPlan(d.planId as string);
    this.dirtyPlan(d.planId as string, effects);
  }

  private onActivation(d: Data, effects: ApplyEffects): void {
    for (const plan of this.s.bundlesOf.all(d.serial) as { plan_id: string }[]) {
      this.refreshPlan(plan.plan_id);
      this.dirtyPlan(plan.plan_id, effects);
    }
  }

  private onClaimOpened(d: Data): void {
    this.s.insertClaim.run(this.claimRow(d));
  }

  private claimRow(d: Data) {
    const plan = this.s.plan.get(d.planId) as { region: string } | undefined;
    const center = this.s.centerOf.get(d.serviceCenterId) as { region: string } | undefined;
    const region = (d.serviceRegion as string | null) ?? center?.region ?? plan?.region ?? 'US';
    const openedMs = instantMs(d.openedAt as string);
    return {
      claimId: d.claimId,
      planId: d.planId,
      claimRef: d.claimRef,
      centerId: d.serviceCenterId,
      serial: d.serial,
      kind: d.kind,
      cause: d.cause,
      express: d.express ? 1 : 0,
      incidentAt: d.incidentAt,
      openedAt: d.openedAt,
      openedMs,
      openedDate: dateInZone(openedMs, this.catalogue.zone(region)),
    };
  }

  /** The start of the day the reward sweep may grant the plan's safe-use reward. */
  private rewardDue(effectiveDate: string, term: string, zone: string): number {
    const firstUntil = addMonths(effectiveDate, term === '2y' ? 24 : 12);
    return startOfDay(addDays(firstUntil, 0), zone) + this.catalogue.rules.rewardSettlementDays * DAY_MS;
  }

  /** Recomputes the plan row (effective date, reward due) from the plan's corrected facts. */
  private refreshPlan(planId: string): void {
    const world = this.worldOf(planId);
    const chain = buildChain(world, planId);
    if (!chain) return;
    const date = chain.effective?.date ?? null;
    const rewardDue = date ? this.rewardDue(date, chain.purchase.event.data.term, chain.zone) : null;
    const serial = chain.units[0]?.serial ?? null;
    this.s.setEffective.run(date, rewardDue, serial, planId);
  }

  /** Facts of a plan and its units, as recorded so far in this read store. */
  private worldOf(planId: string): World {
    return planWorld(this.catalogue, planId, (s) => this.read(s));
  }

  read(streamId: string): RecordedEvent[] {
    return (this.s.streamEvents.all(streamId) as EventRow[]).map(rowToEvent);
  }

  /** A correction can change anything derived from its stream: recompute that plan's rows. */
  private onCorrection(e: RecordedEvent, effects: ApplyEffects): void {
    const [category, ...rest] = e.streamId.split('-');
    const id = rest.join('-');
    if (category === 'plan') {
      this.recomputeClaims(id);
      this.refreshPlan(id);
      this.dirtyPlan(id, effects);
    } else if (category === 'device') {
      effects.dirtySerials.add(id);
      const plan = this.s.unitPlan.get(id) as { plan_id: string } | undefined;
      if (plan) {
        this.refreshPlan(plan.plan_id);
        this.dirtyPlan(plan.plan_id, effects);
      }
    } else if (e.streamId.startsWith('service-center-')) {
      const centerId = e.streamId.slice('service-center-'.length);
      const facts = toFacts(this.read(e.streamId)).facts;
      const last = facts.filter((f) => f.event.type === 'ServiceCenterRegistered').pop();
      if (last) {
        const d = last.event.data as Data;
        this.s.center.run(centerId, d.name, d.region);
      }
    }
  }

  /**
   * Recomputes a plan's claim rows from its corrected facts, keeping each claim's row (and its
   * `seq`, the order of the claim queue) so that re-applying a correction changes nothing.
   */
  private recomputeClaims(planId: string): void {
    const world = this.worldOf(planId);
    const chain = buildChain(world, planId);
    const claims = chain?.claims ?? [];
    const keep = new Set(claims.map((c) => c.claimId));
    for (const row of this.s.claimIdsOf.all(planId) as { claim_id: string }[]) {
      if (!keep.has(row.claim_id)) this.s.deleteClaim.run(row.claim_id);
    }
    for (const c of claims) {
      const row = this.claimRow(c.data as unknown as Data);
      this.s.insertClaim.run(row);
      const { planId: _p, claimRef: _r, centerId: _c, serial: _s, ...reset } = row;
      this.s.resetClaim.run(reset);
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

export interface EventRow {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  occurred_at: string | null;
  recorded_at: string;
  actor: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  data: string;
}

export function rowToEvent(r: EventRow): RecordedEvent {
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
  };
}
