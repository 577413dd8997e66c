/**
 * The rules as predicates over facts: each returns the refusal a command would meet (RULES codes,
 * first in R10's order) or null. Deciders throw them; the entitlement view reports them as
 * eligibility and `blockedBy`; the X2 conflict check re-runs them on corrected facts.
 */
import { Money, Region, TermKind } from './catalogue/catalogue';
import { Refusal } from './codes';
import {
  Chain, chainEndMs, ClaimState, officialWarranty, quotaBalance, termAt, termMonths, unitAt, World,
} from './chain';
import { Fact, ofType } from './facts';
import { addDays, addMonths, DAY_MS, HOUR_MS, instantMs, IsoDate, startOfDay } from './time';

const ALLOWED_CHAINS: TermKind[][] = [
  ['1y', 'renewal', 'renewal'],
  ['2y', 'renewal'],
  ['1y', 'care-plus', 'renewal'],
];

/** P4: may a first purchase or binding happen at tMs for this unit? */
export function firstPurchaseRefusal(world: World, serial: string, model: string, tMs: number): Refusal | null {
  const catalogue = world.catalogue;
  const rules = catalogue.rules;
  const info = catalogue.model(model);
  const device = world.device(serial);
  const activation = ofType(device, 'DeviceActivated').find((f) => f.at !== null && f.at <= tMs);
  if (!activation) return null; // (a) never activated
  const elapsed = tMs - activation.at!;
  const limit = info.category === 'handheld' ? rules.handheldWindowDays * DAY_MS : rules.aircraftWindowHours * HOUR_MS;
  if (elapsed <= limit) return null; // (b), (c)
  const verifications = ofType(device, 'VerificationPassed').filter((f) => f.at !== null && f.at <= tMs);
  const window = rules.verificationWindowHours * HOUR_MS;
  if (verifications.some((f) => tMs - f.at! <= window)) return null; // (d), (e)
  if (verifications.length > 0) {
    return new Refusal('VerificationExpired', `The verification's ${rules.verificationWindowHours} h window has elapsed.`);
  }
  const what = info.category === 'handheld' ? `${rules.handheldWindowDays} days` : `${rules.aircraftWindowHours} h`;
  return new Refusal('PurchaseWindowClosed', `${serial} was activated more than ${what} before.`);
}

/** The refusal a 1-Year renewal at tMs would meet (RULES N1, N2, P2 in R10 order), or null. */
export function renewalRefusal(chain: Chain, tMs: number, term = '1y', graceDays = 15, maxMonths = 36): Refusal | null {
  if (term !== '1y') {
    if (term === '2y') return new Refusal('RenewalMustBe1Year', 'A 2-Year plan can only be the first purchase.');
    return new Refusal('UnknownPlan', `No plan "${term}".`);
  }
  const kinds = chainKinds(chain);
  if (!fitsChain([...kinds, 'renewal'], maxMonths)) {
    return new Refusal('MaxTermExceeded', `The chain ${kinds.join('+')} cannot grow by a year (at most ${maxMonths} months).`);
  }
  const endMs = chainEndMs(chain);
  if (endMs !== null) {
    const end = chain.terms[chain.terms.length - 1].window.until;
    const deadline = startOfDay(addDays(end, graceDays), chain.zone);
    if (tMs >= deadline) {
      return new Refusal('RenewalWindowClosed', `The plan ended on ${end}; renewal was possible until ${graceDays} days after.`);
    }
  }
  const lastPurchase = lastPurchaseMs(chain);
  if (endMs === null || tMs < lastPurchase) {
    return new Refusal('NoPlanToRenew', endMs === null ? 'The plan is not in effect yet.' : 'No plan existed at that time.');
  }
  return null;
}

/** Care Refresh+ (RULES N3, P2) at tMs, or null. */
export function carePlusRefusal(chain: Chain, tMs: number, maxMonths = 36): Refusal | null {
  if (!chain.policy.carePlusOnSale) {
    return new Refusal('ProductDiscontinued', `Care Refresh+ is not sold under policy ${chain.policy.id}.`);
  }
  const kinds = chainKinds(chain);
  if (kinds.includes('2y')) return new Refusal('NotAllowedWith2YearPlan', 'Care Refresh+ extends a 1-Year plan only.');
  if (!fitsChain([...kinds, 'care-plus'], maxMonths)) {
    return new Refusal('MaxTermExceeded', `Care Refresh+ can only follow the first 1-Year plan (chain: ${kinds.join('+')}).`);
  }
  const last = chain.terms[chain.terms.length - 1];
  if (!last || tMs < lastPurchaseMs(chain)) {
    return new Refusal('NoPlanToRenew', 'The 1-Year plan is not in effect yet.');
  }
  if (tMs >= last.window.untilMs) return new Refusal('PlanExpired', `The 1-Year plan ended on ${last.window.until}.`);
  if (quotaBalance(chain, last).remaining < 1) {
    return new Refusal('NoReplacementsRemaining', 'Care Refresh+ needs at least one replacement left.');
  }
  return null;
}

function chainKinds(chain: Chain): TermKind[] {
  return [
    chain.purchase.event.data.term,
    ...chain.extensions.map((f): TermKind => (f.event.type === 'PlanRenewed' ? 'renewal' : 'care-plus')),
  ];
}

export function fitsChain(kinds: TermKind[], maxMonths: number): boolean {
  const months = kinds.reduce((sum, k) => sum + termMonths(k), 0);
  if (months > maxMonths) return false;
  return ALLOWED_CHAINS.some((allowed) => kinds.every((k, i) => allowed[i] === k));
}

function lastPurchaseMs(chain: Chain): number {
  const last = chain.extensions[chain.extensions.length - 1];
  if (last) return instantMs(last.event.data.purchasedAt);
  if (chain.binding) return instantMs(chain.binding.event.data.boundAt);
  return instantMs(chain.purchase.event.data.purchasedAt);
}

export interface ClaimInput {
  serial: string;
  kind: 'damage' | 'flyaway';
  cause: string;
  incidentMs: number;
  openedMs: number;
  express: boolean;
  flightRecordsSynced: boolean;
  serviceRegion: Region | null;
}

/** Is a device paired (account or controller) strictly before `ms` and not unpaired since? */
export function pairedBefore(world: World, serial: string, kind: 'account' | 'remote-controller', ms: number): boolean {
  const changes = world
    .device(serial)
    .filter((f) => (f.event.type === 'DevicePaired' || f.event.type === 'DeviceUnpaired') && f.event.data.kind === kind)
    .filter((f) => f.at !== null && f.at < ms)
    .sort((a, b) => a.at! - b.at! || (a.position < b.position ? -1 : 1));
  const bound = new Set<string>();
  for (const f of changes) {
    const { ref } = (f.event as { data: { ref: string } }).data;
    if (f.event.type === 'DevicePaired') bound.add(ref);
    else bound.delete(ref);
  }
  return bound.size > 0;
}

/**
 * The refusal a claim meets (RULES R1-R9, in R10's order), or null. `unitCheckMs` is when the unit
 * must hold the chain (R3): the opening, or later the approval. `except` leaves a claim out of the
 * quota count (the one being approved). `skipQuota` for checks that must not count reservations.
 */
export function claimRefusal(
  world: World,
  chain: Chain | null,
  c: ClaimInput,
  opts: { unitCheckMs: number; except?: string; skipQuota?: boolean; quotaClaims?: ClaimState[] },
): Refusal | null {
  const catalogue = world.catalogue;
  const unit = chain ? unitAt(chain, opts.unitCheckMs) : null;
  if (!chain || !unit || unit.serial !== c.serial) {
    return new Refusal('DeviceNotCovered', chain && unit ? `${c.serial} no longer holds plan ${chain.planId} (now ${unit.serial}).` : `${c.serial} holds no plan.`);
  }
  if (catalogue.rules.excludedCauses.includes(c.cause)) {
    return new Refusal('Excluded', `"${c.cause}" is not covered (R5).`);
  }
  if (c.kind === 'flyaway' && !chain.model.flyaway) {
    return new Refusal('FlyawayNotSupported', `${chain.model.name} has no flyaway coverage.`);
  }
  const first = chain.terms[0];
  if (!first) return new Refusal('IncidentBeforeCoverage', 'The plan is not in effect yet.');
  if (c.incidentMs < first.window.fromMs || c.incidentMs < first.coverageStartMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes the plan's coverage (from ${first.window.from}).`);
  }
  const term = termAt(chain, c.incidentMs);
  if (!term) return new Refusal('OutsideValidity', 'The incident happened after the plan ended.');
  if (c.incidentMs < term.coverageStartMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes the purchase of the ${term.kind} term that covers ${term.window.from}.`);
  }
  const firstUnit = chain.units[0];
  if (unit !== firstUnit && c.incidentMs < unit.atMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes ${c.serial} joining the plan.`);
  }
  if (c.openedMs >= term.window.untilMs) {
    return new Refusal('OutsideValidity', `The claim was opened after the replacement window ended (${term.window.until}).`);
  }
  if (c.serviceRegion && !chain.model.international && c.serviceRegion !== chain.region) {
    return new Refusal('OutOfServiceRegion', `${chain.model.name} bought in ${chain.region} is served there only, not in ${c.serviceRegion}.`);
  }
  if (c.kind === 'flyaway') {
    const account = pairedBefore(world, c.serial, 'account', c.incidentMs);
    const controller = pairedBefore(world, c.serial, 'remote-controller', c.incidentMs);
    if (!account || !controller) {
      const missing = [!account ? 'account' : null, !controller ? 'remote controller' : null].filter(Boolean).join(' and ');
      return new Refusal('FlyawayBindingMissing', `The ${missing} was not bound to ${c.serial} before the flyaway.`);
    }
    if (!c.flightRecordsSynced) return new Refusal('FlightRecordsMissing', 'The flyaway flight records are not synced.');
    if (c.express) return new Refusal('ExpressNotAvailable', 'Express replacement is not available for flyaways.');
  }
  if (opts.skipQuota) return null;
  const balance = quotaBalance(chain, term, opts.except);
  const reserved = opts.quotaClaims ?? balance.claims;
  const used = reserved.length;
  const flyawayUsed = reserved.filter((x) => x.data.kind === 'flyaway').length;
  if (c.kind === 'flyaway' && flyawayUsed >= term.quota.flyaway) {
    return new Refusal('FlyawayQuotaExhausted', `All ${term.quota.flyaway} flyaway replacements of this term are used.`);
  }
  if (used >= term.quota.replacements) {
    return new Refusal('NoReplacementsRemaining', `All ${term.quota.replacements} replacements of this term are used.`);
  }
  return null;
}

export function claimInputOf(claim: ClaimState): ClaimInput {
  const d = claim.data;
  return {
    serial: d.serial,
    kind: d.kind,
    cause: d.cause,
    incidentMs: claim.incidentMs,
    openedMs: claim.openedMs,
    express: d.express,
    flightRecordsSynced: d.flightRecordsSynced,
    serviceRegion: d.serviceRegion,
  };
}

/** R7/C6: the fee of the next approval in a term. */
export function feeFor(world: World, chain: Chain, kind: 'damage' | 'flyaway', ordinal: number): Money {
  return world.catalogue.fee(chain.model.name, chain.region, chain.policy.id, kind, ordinal);
}

export interface RewardState {
  status: 'not-applicable' | 'pending' | 'granted' | 'forfeited';
  window: { from: IsoDate; until: IsoDate } | null;
  /** Facts that decided the status (fulfilments or discounted repairs that forfeited it, the grant). */
  facts: Fact[];
  unsettledClaims: ClaimState[];
  /** A grant recorded although the facts now forfeit the reward. */
  grantedDespiteForfeit: boolean;
}

/** W4: the safe-use reward of the chain's first plan, from the facts given. */
export function rewardState(world: World, chain: Chain): RewardState {
  const first = chain.terms[0];
  const none: RewardState = { status: 'not-applicable', window: null, facts: [], unsettledClaims: [], grantedDespiteForfeit: false };
  if (!chain.model.safeUseReward || !first) return none;
  const used = chain.claims.filter((c) => c.termIndex === 0 && c.fulfilled !== null);
  const repairs = chain.policy.discountedRepairForfeitsReward
    ? chain.serviceRecords.filter(
        (f) => f.event.data.kind === 'discounted-repair' && f.at !== null && f.at >= first.window.fromMs && f.at < first.window.untilMs,
      )
    : [];
  const grant = chain.grants.find((g) => g.event.data.kind === 'safe-use-reward') ?? null;
  if (used.length > 0 || repairs.length > 0) {
    return {
      status: 'forfeited',
      window: null,
      facts: [...used.map((c) => c.fulfilled!), ...repairs],
      unsettledClaims: [],
      grantedDespiteForfeit: grant !== null,
    };
  }
  let start = first.window.until;
  if (chain.region === 'EU' || chain.region === 'UK') {
    const official = officialWarranty(world, chain.model, chain.region, chain.activation);
    if (official) start = official.until;
  }
  const window = { from: start, until: addMonths(start, 12) };
  const unsettledClaims = chain.claims.filter(
    (c) => c.termIndex === 0 && (c.status === 'open' || c.status === 'approved' || c.status === 'paid'),
  );
  return { status: grant ? 'granted' : 'pending', window, facts: grant ? [grant] : [], unsettledClaims, grantedDespiteForfeit: false };
}

