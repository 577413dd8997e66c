/**
 * The plan chain as the facts describe it: effective date, terms and their windows, the units that
 * held it, claims with their status, service records and granted extensions. Built from facts
 * (already filtered by knownAt, and by business time when a view asks "as of").
 */
import { Catalogue, ModelInfo, PolicyVersion, Region, ReplacementQuota, ServiceQuota, TermKind } from './catalogue/catalogue';
import {
  BindingVia, CarePlusPurchased, ClaimApproved, ClaimCancelled, ClaimDenied, ClaimFulfilled, ClaimOpened, ClaimPaid,
  DeviceActivated, DeviceBoundToPlan, deviceStream, EventCorrected, PlanBound, PlanPurchased, PlanRenewed, planStream,
  ServiceRecorded, WarrantyExtensionGranted,
} from './events';
import { Fact, ofType } from './facts';
import { addDays, addMonths, dateInZone, instantMs, IsoDate, ZonedWindow, zoned } from './time';

/** Facts grouped by stream, for lookups. */
export class World {
  private readonly byStream = new Map<string, Fact[]>();

  constructor(
    readonly catalogue: Catalogue,
    readonly facts: readonly Fact[],
    /** The corrections among the loaded events and what they voided (X1), when the caller has them. */
    readonly known: { corrections: readonly Fact<EventCorrected>[]; voided: ReadonlyMap<string, string> } = { corrections: [], voided: new Map() },
  ) {
    for (const f of facts) {
      const list = this.byStream.get(f.streamId);
      if (list) list.push(f);
      else this.byStream.set(f.streamId, [f]);
    }
  }

  stream(streamId: string): Fact[] {
    return this.byStream.get(streamId) ?? [];
  }

  device(serial: string): Fact[] {
    return this.stream(deviceStream(serial));
  }

  plan(planId: string): Fact[] {
    return this.stream(planStream(planId));
  }

  /** A world restricted to a subset of facts (e.g. those that happened by a business time). */
  filter(predicate: (f: Fact) => boolean): World {
    return new World(this.catalogue, this.facts.filter(predicate), this.known);
  }
}

export interface Binding {
  planId: string;
  via: BindingVia;
  fact: Fact<DeviceBoundToPlan>;
}

/**
 * The unit's bindings that the plan stream confirms (a reservation whose plan write never happened,
 * or whose purchase was voided, does not count), oldest first.
 */
export function confirmedBindings(world: World, serial: string): Binding[] {
  const result: Binding[] = [];
  for (const f of ofType(world.device(serial), 'DeviceBoundToPlan')) {
    const { planId, via } = f.event.data;
    if (confirms(world, planId, serial, via, f.event.data.claimId)) result.push({ planId, via, fact: f });
  }
  return result;
}

export function currentBinding(world: World, serial: string): Binding | null {
  const all = confirmedBindings(world, serial);
  return all.length > 0 ? all[all.length - 1] : null;
}

function confirms(world: World, planId: string, serial: string, via: BindingVia, claimId: string | null): boolean {
  const facts = world.plan(planId);
  switch (via) {
    case 'purchase':
      return ofType(facts, 'PlanPurchased').some((f) => f.event.data.serial === serial);
    case 'binding':
      return ofType(facts, 'PlanBound').some((f) => f.event.data.serial === serial);
    case 'replacement':
      return ofType(facts, 'ClaimFulfilled').some(
        (f) => f.event.data.replacementSerial === serial && (claimId === null || f.event.data.claimId === claimId),
      );
  }
}

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

export type ClaimStatus = 'open' | 'approved' | 'paid' | 'fulfilled' | 'denied' | 'cancelled';

export interface ClaimState {
  claimId: string;
  data: ClaimOpened['data'];
  incidentMs: number;
  openedMs: number;
  opened: Fact<ClaimOpened>;
  approved: Fact<ClaimApproved> | null;
  denied: Fact<ClaimDenied> | null;
  cancelled: Fact<ClaimCancelled> | null;
  payments: Fact<ClaimPaid>[];
  fulfilled: Fact<ClaimFulfilled> | null;
  status: ClaimStatus;
  /** The term that contains the incident (R2), null when none does. */
  termIndex: number | null;
}

export interface UnitLink {
  serial: string;
  via: BindingVia;
  atMs: number;
  fact: Fact<PlanPurchased | PlanBound | ClaimFulfilled>;
}

export interface Chain {
  planId: string;
  purchase: Fact<PlanPurchased>;
  model: ModelInfo;
  region: Region;
  zone: string;
  policy: PolicyVersion;
  binding: Fact<PlanBound> | null;
  /** P6 effective date D, or null while the plan is pending. */
  effective: { date: IsoDate; source: 'activation' | 'delivery' | 'purchase' | 'binding'; facts: Fact[] } | null;
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

export function termMonths(kind: TermKind): number {
  return TERM_MONTHS[kind];
}

export function buildChain(world: World, planId: string): Chain | null {
  const facts = world.plan(planId);
  const purchase = ofType(facts, 'PlanPurchased')[0];
  if (!purchase) return null;
  const catalogue = world.catalogue;
  const p = purchase.event.data;
  const model = catalogue.findModel(p.model) ?? catalogue.model(p.model);
  const zone = catalogue.zone(p.region);
  const purchaseMs = instantMs(p.purchasedAt);
  const policy = catalogue.policyVersionOn(dateInZone(purchaseMs, zone));
  const binding = ofType(facts, 'PlanBound')[0] ?? null;
  const originalSerial = p.serial ?? binding?.event.data.serial ?? null;
  const activation = originalSerial ? firstActivation(world, originalSerial) : null;

  const effective = effectiveDate(catalogue, model, p, purchaseMs, zone, binding, activation);
  const extensions = facts.filter(
    (f): f is Fact<PlanRenewed | CarePlusPurchased> =>
      f.event.type === 'PlanRenewed' || f.event.type === 'CarePlusPurchased',
  );

  const terms: Term[] = [];
  if (effective) {
    const firstKind: TermKind = p.term;
    const firstStart = p.channel === 'card' && binding ? instantMs(binding.event.data.boundAt) : purchaseMs;
    terms.push(makeTerm(catalogue, model, policy, 0, firstKind, purchase, effective.date, zone, firstStart));
    for (const ext of extensions) {
      const kind: TermKind = ext.event.type === 'PlanRenewed' ? 'renewal' : 'care-plus';
      const from = terms[terms.length - 1].window.until;
      terms.push(makeTerm(catalogue, model, policy, terms.length, kind, ext, from, zone, instantMs(ext.event.data.purchasedAt)));
    }
  }

  const units: UnitLink[] = [];
  if (p.serial) units.push({ serial: p.serial, via: 'purchase', atMs: purchaseMs, fact: purchase });
  else if (binding) {
    units.push({ serial: binding.event.data.serial, via: 'binding', atMs: instantMs(binding.event.data.boundAt), fact: binding });
  }
  const fulfilments = ofType(facts, 'ClaimFulfilled');
  for (const f of fulfilments) {
    units.push({ serial: f.event.data.replacementSerial, via: 'replacement', atMs: instantMs(f.event.data.at), fact: f });
  }

  const claims = buildClaims(facts, terms);
  return {
    planId,
    purchase,
    model,
    region: p.region,
    zone,
    policy,
    binding,
    effective,
    extensions,
    terms,
    units,
    claims,
    serviceRecords: ofType(facts, 'ServiceRecorded'),
    grants: ofType(facts, 'WarrantyExtensionGranted'),
    activation,
  };
}

function firstActivation(world: World, serial: string): Fact<DeviceActivated> | null {
  return ofType(world.device(serial), 'DeviceActivated')[0] ?? null;
}

function effectiveDate(
  catalogue: Catalogue,
  model: ModelInfo,
  p: PlanPurchased['data'],
  purchaseMs: number,
  zone: string,
  binding: Fact<PlanBound> | null,
  activation: Fact<DeviceActivated> | null,
): Chain['effective'] {
  switch (p.channel) {
    case 'online':
      return { date: dateInZone(purchaseMs, zone), source: 'purchase', facts: [] };
    case 'card': {
      if (p.serial) return { date: dateInZone(purchaseMs, zone), source: 'purchase', facts: [] };
      if (!binding) return null;
      return { date: dateInZone(instantMs(binding.event.data.boundAt), zone), source: 'binding', facts: [binding] };
    }
    case 'bundle': {
      const activationDate =
        activation && activation.at !== null ? dateInZone(activation.at, zone) : null;
      const autoStart =
        model.bundleAutoStartDays !== null && p.deliveredAt
          ? addDays(dateInZone(instantMs(p.deliveredAt), zone), model.bundleAutoStartDays)
          : null;
      if (activationDate && (!autoStart || activationDate <= autoStart)) {
        return { date: activationDate, source: 'activation', facts: [activation!] };
      }
      if (autoStart) return { date: autoStart, source: 'delivery', facts: [] };
      return null;
    }
  }
}

function makeTerm(
  catalogue: Catalogue,
  model: ModelInfo,
  policy: PolicyVersion,
  index: number,
  kind: TermKind,
  fact: Term['fact'],
  from: IsoDate,
  zone: string,
  coverageStartMs: number,
): Term {
  const window = zoned({ from, until: addMonths(from, TERM_MONTHS[kind]) }, zone);
  const quotaKey = kind === '2y' ? '2y' : kind === 'care-plus' ? 'care-plus' : '1y';
  const service = model.quotas[quotaKey] ?? { discountedRepairs: 0, factoryMaintenance: 0 };
  void catalogue;
  return { index, kind, fact, window, coverageStartMs, quota: policy.plans[quotaKey], service };
}

function buildClaims(facts: readonly Fact[], terms: Term[]): ClaimState[] {
  const claims = new Map<string, ClaimState>();
  for (const f of facts) {
    const e = f.event;
    if (e.type === 'ClaimOpened') {
      const incidentMs = instantMs(e.data.incidentAt);
      claims.set(e.data.claimId, {
        claimId: e.data.claimId,
        data: e.data,
        incidentMs,
        openedMs: instantMs(e.data.openedAt),
        opened: f as Fact<ClaimOpened>,
        approved: null,
        denied: null,
        cancelled: null,
        payments: [],
        fulfilled: null,
        status: 'open',
        termIndex: termIndexAt(terms, incidentMs),
      });
      continue;
    }
    if (!('claimId' in e.data) || e.type === 'DeviceBoundToPlan') continue;
    const claim = claims.get(e.data.claimId);
    if (!claim) continue;
    switch (e.type) {
      case 'ClaimApproved':
        claim.approved = f as Fact<ClaimApproved>;
        break;
      case 'ClaimDenied':
        claim.denied = f as Fact<ClaimDenied>;
        break;
      case 'ClaimCancelled':
        claim.cancelled = f as Fact<ClaimCancelled>;
        break;
      case 'ClaimPaid':
        claim.payments.push(f as Fact<ClaimPaid>);
        break;
      case 'ClaimFulfilled':
        claim.fulfilled = f as Fact<ClaimFulfilled>;
        break;
    }
  }
  for (const c of claims.values()) c.status = claimStatus(c);
  return [...claims.values()];
}

function claimStatus(c: ClaimState): ClaimStatus {
  if (c.fulfilled) return 'fulfilled';
  if (c.cancelled) return 'cancelled';
  if (c.denied) return 'denied';
  if (c.approved && c.payments.length > 0) return 'paid';
  if (c.approved) return 'approved';
  return 'open';
}

export function termIndexAt(terms: readonly Term[], ms: number): number | null {
  const t = terms.find((term) => ms >= term.window.fromMs && ms < term.window.untilMs);
  return t ? t.index : null;
}

export function termAt(chain: Chain, ms: number): Term | null {
  const i = termIndexAt(chain.terms, ms);
  return i === null ? null : chain.terms[i];
}

/**
 * Approved and not denied or cancelled: the claim holds quota (R7). A fulfilled claim (the unit was
 * issued) keeps holding it even if a correction later voids or moves its approval: X2 flags that,
 * it never gives the replacement back silently.
 */
export function holdsQuota(c: ClaimState): boolean {
  return (c.approved !== null && c.denied === null && c.cancelled === null) || c.fulfilled !== null;
}

/** The fact by which a claim holds quota: its approval, or its fulfilment when no approval is known. */
export function reservingFact(c: ClaimState): Fact<ClaimApproved | ClaimFulfilled> | null {
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

/** Every serial that ever held the chain (for loading their device streams). */
export function chainSerials(world: World, planId: string): string[] {
  const serials = new Set<string>();
  for (const f of world.plan(planId)) {
    const e = f.event;
    if (e.type === 'PlanPurchased' && e.data.serial) serials.add(e.data.serial);
    if (e.type === 'PlanBound') serials.add(e.data.serial);
    if (e.type === 'ClaimFulfilled') serials.add(e.data.replacementSerial);
  }
  return [...serials];
}

/** The chain's end: the last term's `until` instant. */
export function chainEndMs(chain: Chain): number | null {
  return chain.terms.length > 0 ? chain.terms[chain.terms.length - 1].window.untilMs : null;
}

export function officialWarranty(world: World, model: ModelInfo, region: string, activation: Fact<DeviceActivated> | null): ZonedWindow | null {
  if (!activation || activation.at === null) return null;
  const zone = world.catalogue.zone(region);
  const from = dateInZone(activation.at, zone);
  const months = world.catalogue.officialWarrantyMonths(model, region);
  return zoned({ from, until: addMonths(from, months) }, zone);
}

