/**
 * The plan chain as its facts describe it: effective date (P6), terms and their windows (W1-W3),
 * the units that held it (I1, I2), claims with the term of their incident (R2), service records and
 * granted extensions. Derived from the plan's folded state and the original unit's activation;
 * every business time derived from a chain (windows, the renewal deadline, the reward's settlement,
 * the plan-year-2 window) is computed here and nowhere else.
 */
import {
  Catalogue, ModelInfo, PlanTerm, PolicyVersion, Region, ReplacementQuota, ServiceQuota, TermKind,
} from '../catalogue/catalogue';
import type { ClaimRecord } from '../claim/state';
import type { ClaimFulfilled } from '../claim/events';
import type { DeviceActivated } from '../device/events';
import type { Fact } from '../facts';
import { addDays, addMonths, dateInZone, instantMs, IsoDate, startOfDay, ZonedWindow, zoned } from '../time';
import type {
  CarePlusPurchased, Channel, PlanBound, PlanPurchased, PlanRenewed, ServiceRecorded, WarrantyExtensionGranted,
} from './events';
import type { PurchasedPlan } from './state';

export interface Term {
  index: number;
  kind: TermKind;
  fact: Fact<PlanPurchased | PlanRenewed | CarePlusPurchased>;
  window: ZonedWindow;
  /** Incidents before this instant are not covered by the term (W3; the purchase or binding). */
  coverageStartMs: number;
  quota: ReplacementQuota;
  service: ServiceQuota;
}

/** A claim with the term that contains its incident (R2), null when none does. */
export interface ClaimState extends ClaimRecord {
  termIndex: number | null;
}

export interface UnitLink {
  serial: string;
  via: 'purchase' | 'binding' | 'replacement';
  atMs: number;
  fact: Fact<PlanPurchased | PlanBound | ClaimFulfilled>;
}

export type EffectiveSource = 'activation' | 'delivery' | 'purchase' | 'binding';

export interface Chain {
  planId: string;
  purchase: Fact<PlanPurchased>;
  model: ModelInfo;
  region: Region;
  zone: string;
  policy: PolicyVersion;
  binding: Fact<PlanBound> | null;
  /** P6 effective date D, or null while the plan is pending. */
  effective: { date: IsoDate; source: EffectiveSource; facts: Fact[] } | null;
  /** Renewals and Care Refresh+ purchases, in order. */
  extensions: Fact<PlanRenewed | CarePlusPurchased>[];
  terms: Term[];
  units: UnitLink[];
  claims: ClaimState[];
  serviceRecords: Fact<ServiceRecorded>[];
  grants: Fact<WarrantyExtensionGranted>[];
  /** The original unit's activation (for C8, inherited by every replacement: I1). */
  activation: Fact<DeviceActivated> | null;
}

const TERM_MONTHS: Record<TermKind, number> = { '1y': 12, '2y': 24, renewal: 12, 'care-plus': 12 };

/** P1/W1-W3: how long a term of each kind runs. */
export function termMonths(kind: TermKind): number {
  return TERM_MONTHS[kind];
}

/** What a chain's term windows depend on: the purchase, a binding, the original unit's activation and the extensions. */
export interface TermInput {
  purchase: { term: PlanTerm; model: string; region: Region; channel: Channel; purchasedAt: string; serial: string | null; deliveredAt: string | null };
  boundAt: string | null;
  activationMs: number | null;
  extensions: ('renewal' | 'care-plus')[];
}

export interface TermWindows {
  effective: { date: IsoDate; source: EffectiveSource } | null;
  windows: { kind: TermKind; window: ZonedWindow }[];
  zone: string;
  policy: PolicyVersion;
  model: ModelInfo;
}

/**
 * P6, W1-W3 on plain data: the effective date and every term's window. The chain of a stored plan
 * and the answer to a command that would change it (a purchase, binding, renewal) both come from here.
 */
export function termWindows(catalogue: Catalogue, input: TermInput): TermWindows {
  const p = input.purchase;
  const model = catalogue.findModel(p.model) ?? catalogue.model(p.model);
  const zone = catalogue.zone(p.region);
  const purchaseMs = instantMs(p.purchasedAt);
  const policy = catalogue.policyVersionOn(dateInZone(purchaseMs, zone));
  const effective = effectiveDate(model, p, purchaseMs, zone, input.boundAt, input.activationMs);
  const windows: TermWindows['windows'] = [];
  if (effective) {
    let from = effective.date;
    for (const kind of [p.term as TermKind, ...input.extensions]) {
      const window = zoned({ from, until: addMonths(from, TERM_MONTHS[kind]) }, zone);
      windows.push({ kind, window });
      from = window.until;
    }
  }
  return { effective, windows, zone, policy, model };
}

/** P6: the effective date D by channel (bundle: activation, or delivery + N days for some models). */
function effectiveDate(
  model: ModelInfo,
  p: TermInput['purchase'],
  purchaseMs: number,
  zone: string,
  boundAt: string | null,
  activationMs: number | null,
): TermWindows['effective'] {
  switch (p.channel) {
    case 'online':
      return { date: dateInZone(purchaseMs, zone), source: 'purchase' };
    case 'card': {
      if (p.serial) return { date: dateInZone(purchaseMs, zone), source: 'purchase' };
      if (!boundAt) return null;
      return { date: dateInZone(instantMs(boundAt), zone), source: 'binding' };
    }
    case 'bundle': {
      const activationDate = activationMs !== null ? dateInZone(activationMs, zone) : null;
      const autoStart =
        model.bundleAutoStartDays !== null && p.deliveredAt
          ? addDays(dateInZone(instantMs(p.deliveredAt), zone), model.bundleAutoStartDays)
          : null;
      if (activationDate && (!autoStart || activationDate <= autoStart)) return { date: activationDate, source: 'activation' };
      if (autoStart) return { date: autoStart, source: 'delivery' };
      return null;
    }
  }
}

/** The serial bound to a plan first: the purchase's, or a card plan's binding's. */
export function originalSerial(plan: PurchasedPlan): string | null {
  return plan.purchase.event.data.serial ?? plan.binding?.event.data.serial ?? null;
}

/** The chain of a purchased plan, given the first activation of its original unit. */
export function chainOf(catalogue: Catalogue, plan: PurchasedPlan, activation: Fact<DeviceActivated> | null): Chain {
  const purchase = plan.purchase;
  const p = purchase.event.data;
  const binding = plan.binding;
  const kinds = plan.extensions.map((f): 'renewal' | 'care-plus' => (f.event.type === 'PlanRenewed' ? 'renewal' : 'care-plus'));
  const computed = termWindows(catalogue, {
    purchase: p,
    boundAt: binding?.event.data.boundAt ?? null,
    activationMs: activation?.at ?? null,
    extensions: kinds,
  });
  const { zone, policy, model } = computed;
  const effective = computed.effective
    ? {
        ...computed.effective,
        facts: computed.effective.source === 'activation' ? [activation!] : computed.effective.source === 'binding' ? [binding!] : [],
      }
    : null;

  const purchaseMs = instantMs(p.purchasedAt);
  const firstStart = p.channel === 'card' && binding ? instantMs(binding.event.data.boundAt) : purchaseMs;
  const terms: Term[] = computed.windows.map(({ kind, window }, index) => {
    const fact = index === 0 ? purchase : plan.extensions[index - 1];
    const quotaKey = kind === '2y' ? '2y' : kind === 'care-plus' ? 'care-plus' : '1y';
    return {
      index,
      kind,
      fact,
      window,
      coverageStartMs: index === 0 ? firstStart : instantMs(fact.event.data.purchasedAt),
      quota: policy.plans[quotaKey],
      service: model.quotas[quotaKey] ?? { discountedRepairs: 0, factoryMaintenance: 0 },
    };
  });

  const units: UnitLink[] = [];
  if (p.serial) units.push({ serial: p.serial, via: 'purchase', atMs: purchaseMs, fact: purchase });
  else if (binding) units.push({ serial: binding.event.data.serial, via: 'binding', atMs: instantMs(binding.event.data.boundAt), fact: binding });
  for (const f of plan.fulfilments) {
    units.push({ serial: f.event.data.replacementSerial, via: 'replacement', atMs: instantMs(f.event.data.at), fact: f });
  }

  return {
    planId: plan.planId,
    purchase,
    model,
    region: p.region,
    zone,
    policy,
    binding,
    effective,
    extensions: plan.extensions,
    terms,
    units,
    claims: plan.claims.map((c) => ({ ...c, termIndex: termIndexAt(terms, c.incidentMs) })),
    serviceRecords: plan.serviceRecords,
    grants: plan.grants,
    activation,
  };
}

/** Every serial that ever held the chain (for loading their device streams). */
export function chainSerials(plan: PurchasedPlan): string[] {
  const serials = new Set<string>();
  const original = originalSerial(plan);
  if (original) serials.add(original);
  if (plan.binding) serials.add(plan.binding.event.data.serial);
  for (const f of plan.fulfilments) serials.add(f.event.data.replacementSerial);
  return [...serials];
}

export function termIndexAt(terms: readonly Term[], ms: number): number | null {
  const t = terms.find((term) => ms >= term.window.fromMs && ms < term.window.untilMs);
  return t ? t.index : null;
}

export function termAt(chain: Chain, ms: number): Term | null {
  const i = termIndexAt(chain.terms, ms);
  return i === null ? null : chain.terms[i];
}

/** The chain's end: the last term's `until` instant. */
export function chainEndMs(chain: Chain): number | null {
  return chain.terms.length > 0 ? chain.terms[chain.terms.length - 1].window.untilMs : null;
}

/** N2: renewals are possible before 0:00 of the (grace + 1)-th day after the chain ends, in the region's zone. */
export function renewalDeadlineMs(chain: Chain, graceDays: number): number | null {
  const last = chain.terms[chain.terms.length - 1];
  return last ? startOfDay(addDays(last.window.until, graceDays), chain.zone) : null;
}

/** W2: the extended warranty of a 2-Year plan's second year. */
export function planYear2Window(chain: Chain): { from: IsoDate; until: IsoDate } | null {
  const first = chain.terms[0];
  return first && first.kind === '2y' ? secondYearOf(first.window) : null;
}

/** W2: the second year of a 2-Year term's window. */
export function secondYearOf(window: { from: IsoDate; until: IsoDate }): { from: IsoDate; until: IsoDate } {
  return { from: addMonths(window.from, 12), until: window.until };
}

/**
 * W4/W5: when the safe-use reward's condition is settled: the first term's replacement window has
 * ended plus the catalogue's settlement days (calendar days in the region's zone, so a DST change
 * in between moves it by the hour, never by a day).
 */
export function rewardSettlesAtMs(chain: { terms: readonly { window: { until: IsoDate } }[]; zone: string }, settlementDays: number): number | null {
  const first = chain.terms[0];
  return first ? startOfDay(addDays(first.window.until, settlementDays), chain.zone) : null;
}

/**
 * Approved and not denied or cancelled: the claim holds quota (R7). A fulfilled claim (the unit was
 * issued) keeps holding it even if a correction later voids or moves its approval: X2 flags that,
 * it never gives the replacement back silently.
 */
export function holdsQuota(c: ClaimRecord): boolean {
  return (c.approved !== null && c.denied === null && c.cancelled === null) || c.fulfilled !== null;
}

/** The fact by which a claim holds quota: its approval, or its fulfilment when no approval is known. */
export function reservingFact(c: ClaimRecord): Fact | null {
  return c.approved ?? c.fulfilled;
}

export function reservedIn(chain: Chain, termIndex: number, except?: string): ClaimState[] {
  return chain.claims.filter((c) => c.termIndex === termIndex && holdsQuota(c) && c.claimId !== except);
}

export interface QuotaBalance {
  total: number;
  flyawayTotal: number;
  used: number;
  flyawayUsed: number;
  remaining: number;
  flyawayRemaining: number;
  claims: ClaimState[];
}

/** R1, R7, W6: a term's replacements and flyaways reserved and left. */
export function quotaBalance(chain: Chain, term: Term, except?: string): QuotaBalance {
  const claims = reservedIn(chain, term.index, except);
  const used = claims.length;
  const flyawayUsed = claims.filter((c) => c.data.kind === 'flyaway').length;
  const remaining = Math.max(0, term.quota.replacements - used);
  const flyawayRemaining = Math.min(remaining, Math.max(0, term.quota.flyaway - flyawayUsed));
  return { total: term.quota.replacements, flyawayTotal: term.quota.flyaway, used, flyawayUsed, remaining, flyawayRemaining, claims };
}

/** The unit holding the chain at a business instant (the last one bound at or before it). */
export function unitAt(chain: Chain, ms: number): UnitLink | null {
  let current: UnitLink | null = null;
  for (const u of chain.units) if (u.atMs <= ms) current = u;
  return current;
}

export function currentUnit(chain: Chain): UnitLink | null {
  return chain.units.length > 0 ? chain.units[chain.units.length - 1] : null;
}

/** C8: the official warranty from the (original) unit's activation, 12 or 24 months by region and model. */
export function officialWarranty(catalogue: Catalogue, model: ModelInfo, region: string, activation: Fact<DeviceActivated> | null): ZonedWindow | null {
  if (!activation || activation.at === null) return null;
  const zone = catalogue.zone(region);
  const from = dateInZone(activation.at, zone);
  const months = catalogue.officialWarrantyMonths(model, region);
  return zoned({ from, until: addMonths(from, months) }, zone);
}
