/**
 * Plans, their units and their orders: which plan holds a unit, an order's first answer, and what
 * the sweep must look at. Every business time stored here (effective date, when the safe-use reward
 * settles) is the domain's, computed from the plan's facts: never re-derived here.
 */
import type Database from 'better-sqlite3';
import { Catalogue, PlanPurchased, rewardSettlesAtMs, termWindows } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';
import type { ApplyEffects, ReadModelSchema, StreamSource } from './model';
import { planWorld } from './plan-world';

export const plansSchema: ReadModelSchema = {
  name: 'plans',
  tables: ['plans', 'units', 'orders'],
  schema: (p, i) => `
    CREATE TABLE IF NOT EXISTS ${p}plans (
      plan_id TEXT PRIMARY KEY,
      model TEXT NOT NULL,
      region TEXT NOT NULL,
      term TEXT NOT NULL,
      channel TEXT NOT NULL,
      serial TEXT,
      order_id TEXT NOT NULL,
      purchased_at TEXT NOT NULL,
      effective_date TEXT,
      reward_due_ms INTEGER,
      reward_done INTEGER NOT NULL DEFAULT 0,
      year2_pending INTEGER NOT NULL DEFAULT 0,
      last_position INTEGER NOT NULL DEFAULT 0,
      reward_checked_position INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS ${p}units (
      serial TEXT PRIMARY KEY,
      plan_id TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${i}units_plan ON ${p}units(plan_id);
    CREATE TABLE IF NOT EXISTS ${p}orders (
      order_id TEXT PRIMARY KEY,
      plan_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      event_id TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${i}plans_serial ON ${p}plans(serial);`,
  // (plans_serial is read by the projection itself: an activation finds its unit's bundles)
  queryIndexes: (p, i) => `
    CREATE INDEX IF NOT EXISTS ${i}plans_reward ON ${p}plans(reward_done, reward_due_ms);
    CREATE INDEX IF NOT EXISTS ${i}plans_year2 ON ${p}plans(year2_pending);`,
};

interface PlanRow {
  plan_id: string;
  channel: string;
}

/** What the plan row derives from the domain: the effective date, the reward's settlement, year 2 pending. */
interface Derived {
  effectiveDate: string | null;
  rewardDueMs: number | null;
  year2Pending: number;
  rewardDone: number;
}

export class PlansProjection {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly catalogue: Catalogue,
    p: string,
    private readonly read: StreamSource,
  ) {
    this.s = {
      insertPlan: db.prepare<[string, string, string, string, string, string | null, string, string, string | null, number | null, number]>(
        `INSERT OR IGNORE INTO ${p}plans (plan_id, model, region, term, channel, serial, order_id, purchased_at, effective_date, reward_due_ms, year2_pending)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      derive: db.prepare<[string | null, number | null, number, number, string | null, string]>(
        `UPDATE ${p}plans SET effective_date = ?, reward_due_ms = ?, year2_pending = ?, reward_done = ?, serial = COALESCE(serial, ?) WHERE plan_id = ?`,
      ),
      bundlesOf: db.prepare<[string], PlanRow>(`SELECT plan_id, channel FROM ${p}plans WHERE serial = ? AND channel = 'bundle'`),
      touch: db.prepare<[number, string]>(`UPDATE ${p}plans SET last_position = ? WHERE plan_id = ?`),
      unit: db.prepare<[string, string]>(`INSERT INTO ${p}units (serial, plan_id) VALUES (?, ?) ON CONFLICT(serial) DO UPDATE SET plan_id = excluded.plan_id`),
      unitPlan: db.prepare<[string], { plan_id: string }>(`SELECT plan_id FROM ${p}units WHERE serial = ?`),
      unitsOf: db.prepare<[string], { serial: string }>(`SELECT serial FROM ${p}units WHERE plan_id = ?`),
      order: db.prepare<[string, string, string, string]>(`INSERT OR IGNORE INTO ${p}orders (order_id, plan_id, kind, event_id) VALUES (?, ?, ?, ?)`),
    };
  }

  apply(e: StoredEvent, effects: ApplyEffects, track: boolean): void {
    const d = e.data as Record<string, unknown>;
    switch (e.type) {
      case 'PlanPurchased':
        this.onPurchase(e as StoredEvent<'PlanPurchased', PlanPurchased['data']>);
        break;
      case 'PlanBound':
        this.s.unit.run(d.serial as string, d.planId as string);
        this.refresh(d.planId as string);
        break;
      case 'PlanRenewed':
      case 'CarePlusPurchased':
        this.s.order.run(d.orderId as string, d.planId as string, e.type === 'PlanRenewed' ? 'renewal' : 'care-plus', e.eventId);
        break;
      case 'ClaimFulfilled':
        this.s.unit.run(d.replacementSerial as string, planIdOf(e.streamId)!);
        break;
      case 'DeviceBoundToPlan':
        if (track) this.dirtyPlan(d.planId as string, effects);
        break;
      case 'DeviceActivated':
        for (const plan of this.s.bundlesOf.all(d.serial as string)) {
          this.refresh(plan.plan_id);
          if (track) this.dirtyPlan(plan.plan_id, effects);
        }
        break;
      case 'WarrantyExtensionGranted':
      case 'EventCorrected': {
        const planId = planIdOf(e.streamId);
        if (planId) this.refresh(planId);
        else if (e.type === 'EventCorrected' && e.streamId.startsWith('device-')) {
          const plan = this.s.unitPlan.get(e.streamId.slice('device-'.length));
          if (plan) this.refresh(plan.plan_id);
        }
        break;
      }
    }
    const planId = planIdOf(e.streamId);
    if (planId) {
      this.s.touch.run(Number(e.position), planId);
      if (track) this.dirtyPlan(planId, effects);
    }
    if (track && e.streamId.startsWith('device-')) {
      const serial = e.streamId.slice('device-'.length);
      effects.dirtySerials.add(serial);
      const plan = this.s.unitPlan.get(serial);
      if (plan) this.dirtyPlan(plan.plan_id, effects);
    }
  }

  /** Every unit of the plan has a stale cached view. */
  private dirtyPlan(planId: string, effects: ApplyEffects): void {
    for (const row of this.s.unitsOf.all(planId)) effects.dirtySerials.add(row.serial);
  }

  private onPurchase(e: StoredEvent<'PlanPurchased', PlanPurchased['data']>): void {
    const d = e.data;
    // online and card plans are dated by their own facts; a bundle waits for its unit (refresh)
    const derived = d.channel === 'bundle' ? null : this.deriveFromPurchase(d);
    this.s.insertPlan.run(
      d.planId, d.model, d.region, d.term, d.channel, d.serial ?? null, d.orderId, d.purchasedAt,
      derived?.effectiveDate ?? null, derived?.rewardDueMs ?? null, derived?.year2Pending ?? 0,
    );
    this.s.order.run(d.orderId, d.planId, 'purchase', e.eventId);
    if (d.serial) this.s.unit.run(d.serial, d.planId);
    if (d.channel === 'bundle') this.refresh(d.planId);
  }

  private deriveFromPurchase(d: PlanPurchased['data']): Derived {
    const computed = termWindows(this.catalogue, { purchase: d, boundAt: null, activationMs: null, extensions: [] });
    const first = computed.windows[0];
    return {
      effectiveDate: computed.effective?.date ?? null,
      rewardDueMs: first ? rewardSettlesAtMs({ terms: [first], zone: computed.zone }, this.catalogue.rules.rewardSettlementDays) : null,
      year2Pending: first?.kind === '2y' ? 1 : 0,
      rewardDone: 0,
    };
  }

  /** Recomputes the plan row from the plan's (corrected) facts, through the domain. */
  private refresh(planId: string): void {
    const chain = planWorld(this.catalogue, planId, this.read).chain(planId);
    if (!chain) return;
    const kinds = new Set(chain.grants.map((g) => g.event.data.kind));
    this.s.derive.run(
      chain.effective?.date ?? null,
      rewardSettlesAtMs(chain, this.catalogue.rules.rewardSettlementDays),
      chain.terms[0]?.kind === '2y' && !kinds.has('plan-year-2') ? 1 : 0,
      kinds.has('safe-use-reward') ? 1 : 0,
      chain.units[0]?.serial ?? null,
      planId,
    );
  }
}

export function planIdOf(streamId: string): string | null {
  return streamId.startsWith('plan-') ? streamId.slice('plan-'.length) : null;
}

export interface OrderRow {
  orderId: string;
  planId: string;
  kind: string;
  eventId: string;
}

export class PlansQueries {
  private readonly s;

  constructor(db: Database.Database, p: string) {
    this.s = {
      order: db.prepare<[string], OrderRow>(`SELECT order_id AS orderId, plan_id AS planId, kind, event_id AS eventId FROM ${p}orders WHERE order_id = ?`),
      unitPlan: db.prepare<[string], { plan_id: string }>(`SELECT plan_id FROM ${p}units WHERE serial = ?`),
      dueRewards: db.prepare<[number, number], { plan_id: string }>(`SELECT plan_id FROM ${p}plans WHERE reward_done = 0 AND reward_due_ms IS NOT NULL AND reward_due_ms <= ?
        AND last_position > reward_checked_position ORDER BY reward_due_ms LIMIT ?`),
      rewardChecked: db.prepare<[string]>(`UPDATE ${p}plans SET reward_checked_position = last_position WHERE plan_id = ?`),
      rewardDue: db.prepare<[number, string]>(`UPDATE ${p}plans SET reward_due_ms = ? WHERE plan_id = ?`),
      pendingYear2: db.prepare<[number], { plan_id: string }>(`SELECT plan_id FROM ${p}plans WHERE year2_pending = 1 AND effective_date IS NOT NULL LIMIT ?`),
    };
  }

  order(orderId: string): OrderRow | undefined {
    return this.s.order.get(orderId);
  }

  planOfUnit(serial: string): string | null {
    return this.s.unitPlan.get(serial)?.plan_id ?? null;
  }

  /** Plans whose safe-use reward may have settled by `nowMs` and that changed since the sweep last looked. */
  dueRewardPlans(nowMs: number, limit: number): string[] {
    return this.s.dueRewards.all(nowMs, limit).map((r) => r.plan_id);
  }

  /** The sweep decided on this plan's reward as its facts stand: skip it until they change. */
  markRewardChecked(planId: string): void {
    this.s.rewardChecked.run(planId);
  }

  /** The domain said the reward settles later than stored: look again then. */
  rescheduleReward(planId: string, settlesAtMs: number): void {
    this.s.rewardDue.run(settlesAtMs, planId);
  }

  /** 2-Year plans with a known effective date and no plan-year-2 extension recorded yet. */
  pendingYear2Plans(limit: number): string[] {
    return this.s.pendingYear2.all(limit).map((r) => r.plan_id);
  }
}


export interface PlanView {
  planId: string;
  term: string;
  model: string;
  region: string;
  channel: string;
  orderId: string;
  purchasedAt: string;
  price: { amount: string; currency: string } | null;
  policyVersion: string;
  status: 'pending' | 'active' | 'expired';
  effectiveDate: string | null;
  currentUnit: string | null;
  units: { serial: string; via: string; at: string; eventId: string }[];
  chain: { kind: string; from: string; until: string; purchasedAt: string | null; orderId: string; eventId: string }[];
  claims: { claimId: string; claimRef: string; serial: string; kind: string; status: string }[];
  revision: number;
}

/** A plan, its chain, units and claims, as of now (its corrected facts folded by the domain). */
export function planView(catalogue: Catalogue, planId: string, now: Date, read: StreamSource, revision: number): PlanView | null {
  const chain = planWorld(catalogue, planId, read).chain(planId);
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
      purchasedAt: t.fact.event.data.purchasedAt ?? null,
      orderId: t.fact.event.data.orderId,
      eventId: t.fact.eventId,
    })),
    claims: chain.claims.map((c) => ({ claimId: c.claimId, claimRef: c.data.claimRef, serial: c.data.serial, kind: c.data.kind, status: c.status })),
    revision,
  };
}
