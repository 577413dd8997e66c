/**
 * The entitlement fold: from a unit's events, a business time `at` and a `knownAt` cut-off on
 * recordedAt, to the entitlements view of API.md, with the rules and events behind each field.
 * Pure: same events and times, same view.
 */
import { Catalogue, Money, Region } from './catalogue/catalogue';
import { claimInputOf, claimRefusal, feeFor } from './claim/rules';
import { unitStreams } from './decide';
import { confirmedBindings } from './device/rules';
import { activationOf, bindingsOf } from './device/state';
import { EventCorrected, ExtensionKind } from './events';
import { Fact, FactSet, RecordedEvent, toFacts } from './facts';
import {
  Chain, ClaimState, currentUnit, holdsQuota, officialWarranty, quotaBalance, renewalDeadlineMs, reservingFact, termAt,
} from './plan/chain';
import { rewardState } from './plan/reward';
import { carePlusRefusal, renewalRefusal } from './plan/rules';
import { coveredUntilOf, WarrantyInterval, warrantyIntervals } from './plan/warranty';
import { addDays, businessPoint, dateInZone, instantInZone, instantMs, IsoDate, startOfDay, zoned } from './time';
import { World } from './world';

export type Coverage = 'active' | 'pending' | 'expired' | 'none' | 'transferred';

export interface WindowView {
  from: IsoDate;
  until: IsoDate;
}

export interface ExtensionView extends WindowView {
  kind: ExtensionKind;
  status: 'granted' | 'pending';
}

export interface ExplanationEntry {
  field: string;
  rules: string[];
  eventIds: string[];
}

export interface ConflictView {
  rule: string;
  eventIds: string[];
  detail: string;
}

export interface EntitlementView {
  serial: string;
  model: string | null;
  region: Region | null;
  at: string;
  knownAt: string;
  coverage: Coverage;
  planId: string | null;
  policyVersion: string | null;
  chain: { kind: string; from: IsoDate; until: IsoDate }[];
  inheritedFrom: string[];
  transferredTo: string | null;
  replacement: {
    window: WindowView | null;
    remaining: number;
    used: number;
    flyawayRemaining: number;
    nextFee: { damage: Money | null; flyaway: Money | null };
  };
  warranty: { official: WindowView | null; coveredUntil: IsoDate | null; extensions: ExtensionView[] };
  safeUseReward: { status: 'not-applicable' | 'pending' | 'granted' | 'forfeited'; window: WindowView | null };
  discountedRepairs: { remaining: number };
  factoryMaintenance: { remaining: number };
  renewal: { eligible: boolean; deadline: string | null; blockedBy: string | null };
  carePlus: { eligible: boolean; blockedBy: string | null };
  conflicts: ConflictView[];
  explanation: ExplanationEntry[];
}

export interface EntitlementQuery {
  serial: string;
  /** An instant with offset, or a date (0:00 in the plan region's zone). Defaults to `now`. */
  at?: string | null;
  /** Cut-off on recordedAt (instant). Defaults to `now`. */
  knownAt?: string | null;
  /** The caller's clock, for the defaults. */
  now: string;
}

/** The zone a date in a query refers to: the unit's plan region, else its sale region, else UTC. */
export function zoneOf(world: World, serial: string): string {
  const binding = bindingsOf(world.device(serial)).at(-1);
  if (binding) {
    const plan = world.plan(binding.event.data.planId);
    if (plan.status === 'purchased') return world.catalogue.zone(plan.purchase.event.data.region);
  }
  const activation = activationOf(world.device(serial));
  return activation ? world.catalogue.zone(activation.event.data.region) : 'UTC';
}

export function foldEntitlements(catalogue: Catalogue, events: readonly RecordedEvent[], query: EntitlementQuery): EntitlementView {
  const knownAtMs = instantMs(query.knownAt ?? query.now);
  const set = toFacts(events, knownAtMs);
  const world = new World(catalogue, set.facts);
  const zone = zoneOf(world, query.serial);
  const atMs = query.at ? businessPoint(query.at, zone) : instantMs(query.now);
  return viewAt(world, set, query.serial, atMs, knownAtMs);
}

/** Folds kept per knownAt cut-off, and filtered worlds per cut-off (small: a unit is asked a few ways). */
const KNOWN_FOLDS = 4;
const VISIBLE_WORLDS = 8;

interface KnownFold {
  set: FactSet;
  world: World;
  zone: string;
  /** The worlds of the facts visible at some `at`, by which facts they hold. */
  visible: Map<string, World>;
}

/**
 * One unit's events, folded once and reused for views at any `at` and `knownAt`: what
 * foldEntitlements does, with its work kept. A knownAt cut-off is keyed by how many of the events
 * it admits (two cut-offs that admit the same events give the same facts), and the world visible
 * at an `at` by which facts it holds. The answers are exactly foldEntitlements' (a test compares
 * them); the events must not change while the fold is in use (a cache drops it when they do).
 */
export class UnitFold {
  private readonly recorded: number[];
  private readonly folds = new Map<number, KnownFold>();

  constructor(
    readonly catalogue: Catalogue,
    readonly serial: string,
    readonly events: readonly RecordedEvent[],
  ) {
    this.recorded = events.map((e) => Date.parse(e.metadata.recordedAt)).sort((a, b) => a - b);
  }

  get size(): number {
    return this.events.length;
  }

  /** The zone the unit's dates are in, with every fact known (zoneOf). */
  get zone(): string {
    return this.foldKnownAt(Number.POSITIVE_INFINITY).zone;
  }

  view(query: EntitlementQuery): EntitlementView {
    if (query.serial !== this.serial) throw new Error(`a fold of ${this.serial} asked for ${query.serial}`);
    const knownAtMs = instantMs(query.knownAt ?? query.now);
    const fold = this.foldKnownAt(knownAtMs);
    const atMs = query.at ? businessPoint(query.at, fold.zone) : instantMs(query.now);
    return viewAt(fold.world, fold.set, query.serial, atMs, knownAtMs, (known, predicate) => this.visible(fold, known, predicate));
  }

  private foldKnownAt(knownAtMs: number): KnownFold {
    const admitted = upperBound(this.recorded, knownAtMs);
    let fold = this.folds.get(admitted);
    if (fold) {
      this.folds.delete(admitted);
      this.folds.set(admitted, fold);
      return fold;
    }
    const set = toFacts(this.events, knownAtMs);
    const world = new World(this.catalogue, set.facts);
    fold = { set, world, zone: zoneOf(world, this.serial), visible: new Map() };
    this.folds.set(admitted, fold);
    if (this.folds.size > KNOWN_FOLDS) this.folds.delete(this.folds.keys().next().value!);
    return fold;
  }

  private visible(fold: KnownFold, known: World, predicate: (f: Fact) => boolean): World {
    let key = '';
    known.facts.forEach((f, i) => {
      if (predicate(f)) key += `${i},`;
    });
    let world = fold.visible.get(key);
    if (!world) {
      world = known.filter(predicate);
      fold.visible.set(key, world);
      if (fold.visible.size > VISIBLE_WORLDS) fold.visible.delete(fold.visible.keys().next().value!);
    }
    return world;
  }
}

/** How many of the sorted values are <= x. */
function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The per-event timeline (API `timeline`): the view after each event, as the ledger knew it then. */
export function timeline(
  catalogue: Catalogue,
  events: readonly RecordedEvent[],
  serial: string,
  knownAt: string,
): { eventId: string; type: string; position: string; occurredAt: string; recordedAt: string; view: EntitlementView }[] {
  const knownAtMs = instantMs(knownAt);
  const sorted = [...events]
    .filter((e) => Date.parse(e.metadata.recordedAt) <= knownAtMs)
    .sort((a, b) => (a.position < b.position ? -1 : 1));
  return sorted.map((e) => {
    const set = toFacts(sorted, Date.parse(e.metadata.recordedAt));
    const world = new World(catalogue, set.facts);
    const fact = set.facts.find((f) => f.eventId === e.eventId);
    const atMs = fact?.at ?? Date.parse(e.metadata.recordedAt);
    return {
      eventId: e.eventId,
      type: e.type,
      position: e.position.toString(),
      occurredAt: e.metadata.occurredAt,
      recordedAt: e.metadata.recordedAt,
      view: viewAt(world, set, serial, atMs, Date.parse(e.metadata.recordedAt)),
    };
  });
}

/**
 * Facts that shape the plan (purchases, bindings, activation, renewals, granted extensions) count
 * for the whole calendar day they happened on, because windows are whole days (T1): a plan bought
 * at 10:00 on D is in force "on D", also when `at` is 0:00 of D. Everything else (pairings, claims,
 * approvals, fulfilments, service records) counts from its exact instant.
 */
const DAY_GRANULAR = new Set(['PlanPurchased', 'PlanBound', 'PlanRenewed', 'CarePlusPurchased', 'DeviceActivated', 'WarrantyExtensionGranted']);

function happenedBy(f: Fact, atMs: number, dayEndMs: number): boolean {
  if (f.at === null || f.at <= atMs) return true;
  if (f.at >= dayEndMs) return false;
  if (f.event.type === 'DeviceBoundToPlan') return f.event.data.via !== 'replacement';
  return DAY_GRANULAR.has(f.event.type);
}

function viewAt(
  known: World,
  set: FactSet,
  serial: string,
  atMs: number,
  knownAtMs: number,
  visible: (known: World, predicate: (f: Fact) => boolean) => World = (k, predicate) => k.filter(predicate),
): EntitlementView {
  const viewZone = zoneOf(known, serial);
  const dayEndMs = startOfDay(addDays(dateInZone(atMs, viewZone), 1), viewZone);
  const world = visible(known, (f) => happenedBy(f, atMs, dayEndMs));
  const catalogue = world.catalogue;
  const bindings = confirmedBindings(world, serial);
  const binding = bindings.length > 0 ? bindings[bindings.length - 1] : null;
  const chain = binding ? world.chain(binding.planId) : null;
  const explanation = new Explanation();
  // the corrections that touched this unit's facts (its streams, its chain's and the chain's units')
  const streams = new Set(unitStreams(known, serial));
  const corrections = set.corrections.filter((c) => streams.has(c.streamId));
  if (corrections.length > 0) {
    explanation.add('corrections', ['X1'], corrections.map((c) => c.eventId));
  }
  if (!chain) return unboundView(world, serial, atMs, knownAtMs, explanation);

  const zone = chain.zone;
  const index = lastIndexOf(chain.units.map((u) => u.serial), serial);
  const holder = currentUnit(chain)!;
  const transferred = holder.serial !== serial;
  const inheritedFrom = chain.units.slice(0, index).map((u) => u.serial);
  const transferredTo = transferred ? chain.units[index + 1]?.serial ?? null : null;
  const first = chain.terms[0];
  const last = chain.terms[chain.terms.length - 1];
  const coverage: Coverage = transferred
    ? 'transferred'
    : !first || atMs < first.window.fromMs
      ? 'pending'
      : atMs < last.window.untilMs
        ? 'active'
        : 'expired';
  const planFacts = [chain.purchase, ...(chain.binding ? [chain.binding] : []), ...(chain.effective?.facts ?? [])];
  explanation.add('coverage', coverageRules(coverage, first?.kind), [...planFacts, ...chain.units.slice(1).map((u) => u.fact)]);
  explanation.add('policyVersion', ['C7'], [chain.purchase]);
  explanation.add('chain', ['P2', 'P6', 'T1', 'T2', 'W3'], [...planFacts, ...chain.extensions]);
  if (inheritedFrom.length > 0 || transferredTo) {
    explanation.add(transferredTo ? 'transferredTo' : 'inheritedFrom', ['I1', 'I2'], chain.units.slice(1).map((u) => u.fact));
  }

  const term = transferred ? null : termAt(chain, atMs);
  let replacement: EntitlementView['replacement'] = {
    window: null,
    remaining: 0,
    used: 0,
    flyawayRemaining: 0,
    nextFee: { damage: null, flyaway: null },
  };
  if (term) {
    const balance = quotaBalance(chain, term);
    replacement = {
      window: { from: term.window.from, until: term.window.until },
      remaining: balance.remaining,
      used: balance.used,
      flyawayRemaining: balance.flyawayRemaining,
      nextFee: {
        damage: balance.remaining > 0 ? feeFor(world, chain, 'damage', balance.used + 1) : null,
        flyaway: chain.model.flyaway && balance.flyawayRemaining > 0 ? feeFor(world, chain, 'flyaway', balance.used + 1) : null,
      },
    };
    const termFacts = term.index === 0 ? planFacts : [term.fact];
    explanation.add('replacement.window', ['T1', 'T2', term.kind === '2y' ? 'W2' : term.index === 0 ? 'W1' : 'W3'], termFacts);
    const claimFacts = chain.claims
      .filter((c) => c.termIndex === term.index && reservingFact(c))
      .flatMap((c) => [reservingFact(c)!, ...(c.denied ? [c.denied] : []), ...(c.cancelled ? [c.cancelled] : [])]);
    explanation.add('replacement.remaining', ['R1', 'R7', 'W6', 'C7'], [term.fact, ...claimFacts]);
    explanation.add('replacement.flyawayRemaining', ['R1', 'C2'], balance.claims.filter((c) => c.data.kind === 'flyaway').map((c) => reservingFact(c)!));
    explanation.add('replacement.nextFee', ['C6', 'R7'], balance.claims.map((c) => reservingFact(c)!));
  }

  const official = officialWarranty(catalogue, chain.model, chain.region, chain.activation);
  const reward = rewardState(catalogue, chain);
  const intervals = transferred ? [] : warrantyIntervals(chain, reward);
  const extensions = intervals.filter((i): i is WarrantyInterval & { kind: ExtensionKind } => i.kind !== 'official' && i.kind !== 'plan');
  const allIntervals = official ? [{ kind: 'official' as const, window: official, status: 'granted' as const, facts: chain.activation ? [chain.activation] : [] }, ...intervals] : intervals;
  const coveredUntil = coveredUntilOf(allIntervals, atMs);
  if (official) explanation.add('warranty.official', ['C8'], chain.activation ? [chain.activation] : []);
  explanation.add('warranty.coveredUntil', ['C8', 'W1', 'W2', 'W3', 'W4', 'W5'], allIntervals.flatMap((i) => i.facts));
  if (extensions.length > 0) explanation.add('warranty.extensions', ['W2', 'W3', 'W4', 'W5'], extensions.flatMap((i) => i.facts));

  const rewardView = transferred ? { status: 'not-applicable' as const, window: null } : { status: reward.status, window: reward.window };
  explanation.add('safeUseReward', ['W4', 'W5', 'C3', ...(chain.policy.discountedRepairForfeitsReward ? ['C7'] : [])], reward.facts);

  const service = serviceBalance(chain, term);
  if (term) {
    explanation.add('discountedRepairs.remaining', ['C9', 'W6', 'R8'], service.discounted);
    explanation.add('factoryMaintenance.remaining', ['C9', 'W6'], service.factory);
  }

  const rules = catalogue.rules;
  let renewal: EntitlementView['renewal'];
  let carePlus: EntitlementView['carePlus'];
  if (transferred) {
    renewal = { eligible: false, deadline: null, blockedBy: 'DeviceNotCovered' };
    carePlus = { eligible: false, blockedBy: 'DeviceNotCovered' };
  } else {
    const refusal = renewalRefusal(chain, atMs, '1y', rules.renewalGraceDays, rules.maxChainMonths);
    const deadlineMs = renewalDeadlineMs(chain, rules.renewalGraceDays);
    const deadline = deadlineMs !== null ? instantInZone(deadlineMs, zone) : null;
    renewal = { eligible: refusal === null, deadline, blockedBy: refusal?.code ?? null };
    const cp = carePlusRefusal(chain, atMs, rules.maxChainMonths);
    carePlus = { eligible: cp === null, blockedBy: cp?.code ?? null };
  }
  explanation.add('renewal', ['N1', 'N2', 'P2'], [...planFacts, ...chain.extensions]);
  explanation.add('carePlus', ['N3', 'P2', 'C7'], [...planFacts, ...chain.extensions]);

  const conflicts = transferred ? [] : findConflicts(world, chain, corrections, reward.grantedDespiteForfeit);
  if (conflicts.length > 0) explanation.add('conflicts', ['X2'], conflicts.flatMap((c) => c.eventIds));

  return {
    serial,
    model: chain.model.name,
    region: chain.region,
    at: instantInZone(atMs, zone),
    knownAt: new Date(knownAtMs).toISOString(),
    coverage,
    planId: chain.planId,
    policyVersion: chain.policy.id,
    chain: chain.terms.map((t) => ({ kind: t.kind, from: t.window.from, until: t.window.until })),
    inheritedFrom,
    transferredTo,
    replacement,
    warranty: {
      official: official ? { from: official.from, until: official.until } : null,
      coveredUntil: transferred ? (official ? official.until : null) : coveredUntil,
      extensions: extensions.map((i) => ({ kind: i.kind, from: i.window.from, until: i.window.until, status: i.status })),
    },
    safeUseReward: rewardView,
    discountedRepairs: { remaining: service.discountedRemaining },
    factoryMaintenance: { remaining: service.factoryRemaining },
    renewal,
    carePlus,
    conflicts,
    explanation: explanation.entries(),
  };
}

function unboundView(world: World, serial: string, atMs: number, knownAtMs: number, explanation: Explanation): EntitlementView {
  const device = world.device(serial);
  const activation = activationOf(device);
  const model = activation ? world.catalogue.findModel(activation.event.data.model) ?? null : null;
  const region = activation?.event.data.region ?? null;
  const zone = region ? world.catalogue.zone(region) : 'UTC';
  const official = model && region ? officialWarranty(world.catalogue, model, region, activation) : null;
  const goodwill = (device.status === 'known' ? device.grants : []).map((f) => ({
    kind: f.event.data.kind,
    window: zoned({ from: f.event.data.from, until: f.event.data.until }, zone),
    status: 'granted' as const,
    facts: [f] as Fact[],
  }));
  const intervals = [...(official ? [{ kind: 'official' as const, window: official, status: 'granted' as const, facts: [activation!] as Fact[] }] : []), ...goodwill];
  explanation.add('coverage', ['P3'], []);
  if (official) explanation.add('warranty.official', ['C8'], [activation!]);
  return {
    serial,
    model: model?.name ?? activation?.event.data.model ?? null,
    region,
    at: instantInZone(atMs, zone),
    knownAt: new Date(knownAtMs).toISOString(),
    coverage: 'none',
    planId: null,
    policyVersion: null,
    chain: [],
    inheritedFrom: [],
    transferredTo: null,
    replacement: { window: null, remaining: 0, used: 0, flyawayRemaining: 0, nextFee: { damage: null, flyaway: null } },
    warranty: {
      official: official ? { from: official.from, until: official.until } : null,
      coveredUntil: coveredUntilOf(intervals, atMs),
      extensions: goodwill.map((g) => ({ kind: g.kind, from: g.window.from, until: g.window.until, status: g.status })),
    },
    safeUseReward: { status: 'not-applicable', window: null },
    discountedRepairs: { remaining: 0 },
    factoryMaintenance: { remaining: 0 },
    renewal: { eligible: false, deadline: null, blockedBy: 'NoPlanToRenew' },
    carePlus: { eligible: false, blockedBy: 'NoPlanToRenew' },
    conflicts: [],
    explanation: explanation.entries(),
  };
}

function serviceBalance(chain: Chain, term: ReturnType<typeof termAt>) {
  if (!term) return { discountedRemaining: 0, factoryRemaining: 0, discounted: [] as Fact[], factory: [] as Fact[] };
  const inTerm = chain.serviceRecords.filter((f) => f.at !== null && f.at >= term.window.fromMs && f.at < term.window.untilMs);
  const discounted = inTerm.filter((f) => f.event.data.kind === 'discounted-repair');
  const factory = inTerm.filter((f) => f.event.data.kind === 'factory-maintenance');
  return {
    discountedRemaining: Math.max(0, term.service.discountedRepairs - discounted.length),
    factoryRemaining: Math.max(0, term.service.factoryMaintenance - factory.length),
    discounted,
    factory,
  };
}

/**
 * X2: a fulfilled replacement that the facts as now known would refuse is not undone; it is
 * flagged for a person to settle. Likewise a safe-use reward granted before a late fact forfeited it.
 */
function findConflicts(world: World, chain: Chain, corrections: Fact<EventCorrected>[], rewardGrantedDespiteForfeit: boolean): ConflictView[] {
  const conflicts: ConflictView[] = [];
  const position = (c: ClaimState) => reservingFact(c)!.position;
  const approvalOrder = chain.claims.filter((c) => holdsQuota(c)).sort((a, b) => (position(a) < position(b) ? -1 : 1));
  for (const claim of chain.claims) {
    if (!claim.fulfilled) continue;
    if (!claim.approved || claim.payments.length === 0) {
      // The approval or the payment was voided (or, amended, now comes after the unit was issued).
      const later = corrections.filter((c) => c.recordedMs > claim.fulfilled!.recordedMs).map((c) => c.eventId);
      conflicts.push({
        rule: 'X2',
        eventIds: [claim.opened.eventId, claim.fulfilled.eventId, ...later],
        detail: `Claim ${claim.data.claimRef} was fulfilled (${claim.fulfilled.event.data.replacementSerial} issued), but as now known it was not ${claim.approved ? 'paid' : 'approved'} before.`,
      });
      continue;
    }
    const earlier = approvalOrder.filter(
      (c) => c.claimId !== claim.claimId && c.termIndex === claim.termIndex && position(c) < position(claim),
    );
    // The unit check sees the units bound before this fulfilment was recorded: the unit this claim
    // issued (possibly at the very instant the claim was opened) must not displace the claimant.
    const before: Chain = { ...chain, units: chain.units.filter((u) => u.fact.position < claim.fulfilled!.position) };
    const refusal = claimRefusal(world, before, claimInputOf(claim), { unitCheckMs: claim.openedMs, quotaClaims: earlier });
    if (!refusal) continue;
    const later = corrections.filter((c) => c.recordedMs > claim.fulfilled!.recordedMs).map((c) => c.eventId);
    conflicts.push({
      rule: 'X2',
      eventIds: [claim.opened.eventId, claim.approved?.eventId, claim.fulfilled.eventId, ...later].filter((x): x is string => !!x),
      detail: `Claim ${claim.data.claimRef} was fulfilled (${claim.fulfilled.event.data.replacementSerial} issued), but as now known it would be refused: ${refusal.code} (${refusal.rule}): ${refusal.message}`,
    });
  }
  if (rewardGrantedDespiteForfeit) {
    const grant = chain.grants.find((g) => g.event.data.kind === 'safe-use-reward')!;
    conflicts.push({
      rule: 'W4',
      eventIds: [grant.eventId],
      detail: 'The safe-use reward was granted, but a replacement of the first term recorded since forfeits it.',
    });
  }
  return conflicts;
}

function coverageRules(coverage: Coverage, firstKind: string | undefined): string[] {
  switch (coverage) {
    case 'pending':
      return ['P6', 'T1'];
    case 'transferred':
      return ['I1', 'I2', 'R3'];
    case 'none':
      return ['P3'];
    default:
      return ['P6', 'T1', 'T2', firstKind === '2y' ? 'W2' : 'W1', 'W3'];
  }
}

function lastIndexOf(list: string[], value: string): number {
  for (let i = list.length - 1; i >= 0; i--) if (list[i] === value) return i;
  return -1;
}

class Explanation {
  private readonly list: ExplanationEntry[] = [];

  add(field: string, rules: string[], facts: (Fact | string)[]): void {
    const ids = facts.map((f) => (typeof f === 'string' ? f : f.eventId));
    this.list.push({ field, rules: [...new Set(rules)], eventIds: [...new Set(ids)] });
  }

  entries(): ExplanationEntry[] {
    return this.list;
  }
}
