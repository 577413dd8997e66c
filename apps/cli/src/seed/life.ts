/**
 * The life of one unit, as the script of commands the real ledger decides: activation, pairings,
 * a plan (bundle, online or card; 1- or 2-year; V2021 before 2023-07-13), renewals and Care
 * Refresh+, claims through their workflow (some denied or cancelled), flyaways, replacements that
 * move the chain to a new serial, service records, goodwill, corrections and the reward sweep.
 *
 * Deterministic from (seed, index): the generator yields commands and receives each decision, so
 * what follows may depend on it (the fee to pay is the one the approval fixed). Business times are
 * drawn before the horizon, so nothing is refused as being in the future.
 */
import type { Catalogue, Cause, Command, ModelInfo, Region } from '@careledger/domain';
import { claimIdFor, planIdForOrder } from '@careledger/ledger';
import { SWEEP_ACTOR } from '@careledger/runtime';
import { mix32, Rng } from './rng';

export interface Step {
  command: Command;
  actor: string;
}

export type StepResult =
  | { ok: true; answer: Record<string, unknown>; eventIds: string[]; streamId: string }
  | { ok: false; code: string };

export type LifeKind = 'normal' | 'long' | 'pool';

/** What the benchmark needs to know about the generated data (written to the seed manifest). */
export interface LifeNotes {
  /** A unit's serial that now holds its chain (entitlement reads). */
  unit(serial: string, kind: LifeKind): void;
  /** A long history: the holder, and the business-time span of its chain (as-of queries). */
  long(serial: string, fromMs: number, untilMs: number): void;
  /** An open claim the benchmark may approve. */
  approvable(entry: { claimId: string; centerId: string; at: string }): void;
  /** A 1-year plan the benchmark may renew. */
  renewable(entry: { planId: string; purchasedAt: string; orderId: string; currency: string }): void;
}

export interface LifeEnv {
  seed: number;
  devices: number;
  /** The last `pool` devices get a simple life ending in an open claim (for the command benchmark). */
  pool: number;
  /** Share of the other devices with a long history. */
  longShare: number;
  horizonMs: number;
  catalogue: Catalogue;
  /** Service centers by region. */
  centers: Record<string, string[]>;
  notes: LifeNotes;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The V2023 policy starts 2023-07-13; a day of margin either side keeps time zones out of it. */
const V2023_FROM = Date.UTC(2023, 6, 12);
const V2023_SURE = Date.UTC(2023, 6, 14);
const EARLIEST = Date.UTC(2021, 2, 1);

const REGION_WEIGHTS = { US: 30, EU: 24, CN: 10, UK: 6, JP: 6, CA: 5, AU: 5, KR: 4, HK: 3, TW: 3, CH: 2, NO: 2 } as const;
const DAMAGE_CAUSES = { collision: 30, drop: 25, water: 15, crack: 10, screen: 10, wear: 5, other: 5 } as const;
const EXCLUDED_CAUSES: Cause[] = ['loss', 'theft', 'cosmetic', 'modification'];

export function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}

export function serialOf(seed: number, index: number): string {
  return `U${seed.toString(36).toUpperCase()}-${index.toString(36).toUpperCase().padStart(6, '0')}`;
}

export function lifeKind(index: number, env: LifeEnv): LifeKind {
  if (index >= env.devices - env.pool) return 'pool';
  return mix32(env.seed ^ 0x5bd1e995, index) / 4294967296 < env.longShare ? 'long' : 'normal';
}

interface Term {
  kind: '1y' | '2y' | 'renewal' | 'care-plus';
  startMs: number;
  endMs: number;
  replacements: number;
  flyaways: number;
  /** Claims may be opened from here (a renewal bought in the grace period covers no earlier incident). */
  claimFromMs: number;
}

export function* life(index: number, env: LifeEnv): Generator<Step, void, StepResult> {
  const rng = new Rng(mix32(env.seed, index));
  const kind = lifeKind(index, env);
  const catalogue = env.catalogue;
  const H = env.horizonMs;
  const names = catalogue.modelNames();
  const aircraft = names.filter((n) => catalogue.model(n).category !== 'handheld');
  const handheld = names.filter((n) => catalogue.model(n).category === 'handheld');
  const model: ModelInfo = catalogue.model(rng.chance(0.55) ? rng.pick(aircraft) : rng.pick(handheld));
  const region = rng.weighted(REGION_WEIGHTS) as Region;
  const currency = catalogue.region(region).currency;
  const first = serialOf(env.seed, index);
  const tag = `${env.seed}-${index}`;
  let serial = first;
  let replacements = 0;
  let orders = 0;
  let claims = 0;
  const centerFor = () => {
    const home = env.centers[region];
    if (model.international && rng.chance(0.1)) return rng.pick(env.centers[rng.weighted(REGION_WEIGHTS)]);
    return rng.pick(home);
  };
  const price = (base: number) => ({ amount: (base * (currency === 'JPY' || currency === 'KRW' || currency === 'TWD' ? 100 : 1)).toFixed(2), currency });

  // ---- when the unit was activated, and the plan it got
  let t0: number;
  if (kind === 'pool') t0 = rng.between(Date.UTC(2023, 0, 1), H - 420 * DAY);
  else if (kind === 'long') t0 = rng.between(EARLIEST, Math.min(Date.UTC(2023, 5, 1), H - 800 * DAY));
  else t0 = rng.between(EARLIEST, H - 20 * DAY);
  t0 = Math.floor(t0 / 1000) * 1000;
  const term: '1y' | '2y' = kind === 'normal' && model.plans.includes('2y') && rng.chance(0.3) ? '2y' : '1y';
  const channel = kind === 'pool' ? 'online' : rng.weighted({ bundle: 40, online: 45, card: 15 });
  const orderId = `ORD-${tag}-${orders++}`;
  const planId = planIdForOrder(orderId);
  const windowMs = model.category === 'handheld' ? 25 * DAY : 40 * HOUR;
  const planPrice = price(model.category === 'handheld' ? (term === '2y' ? 29 : 19) : term === '2y' ? 129 : 79);

  let purchasedMs: number;
  let effectiveMs: number;
  let purchase: StepResult;
  if (channel === 'bundle') {
    purchasedMs = t0 - rng.int(2, 20) * DAY;
    const deliveredMs = purchasedMs + rng.int(1, 2) * DAY;
    purchase = yield {
      actor: 'sales',
      command: {
        type: 'PurchasePlan', planId, term, model: model.name, region, channel, purchasedAt: iso(purchasedMs), orderId,
        serial: first, deliveredAt: iso(deliveredMs), price: planPrice,
      },
    };
    if (!purchase.ok) return;
    // a few bundles are never activated: pending (or, for OM 4 / OM 5, started 45 days after delivery)
    if (kind === 'normal' && rng.chance(0.03)) {
      env.notes.unit(first, kind);
      return;
    }
    yield { actor: 'device-registry', command: { type: 'ActivateDevice', serial: first, model: model.name, region, activatedAt: iso(t0) } };
    effectiveMs = t0;
  } else {
    const activation: StepResult = yield {
      actor: 'device-registry',
      command: { type: 'ActivateDevice', serial: first, model: model.name, region, activatedAt: iso(t0) },
    };
    if (!activation.ok) return;
    if (channel === 'online') {
      purchasedMs = t0 + rng.between(HOUR, windowMs);
      // some buy later, after a video verification or an online inspection (RULES P4 d/e)
      if (kind === 'normal' && rng.chance(0.05)) {
        const notified = t0 + rng.int(40, 200) * DAY;
        if (notified + 10 * DAY < H) {
          yield { actor: 'device-registry', command: { type: 'RecordVerification', serial: first, method: rng.chance(0.7) ? 'video' : 'inspection', notifiedAt: iso(notified) } };
          purchasedMs = notified + rng.between(HOUR, 60 * HOUR);
        }
      }
      purchasedMs = Math.min(purchasedMs, H - HOUR);
      purchase = yield {
        actor: 'sales',
        command: {
          type: 'PurchasePlan', planId, term, model: model.name, region, channel, purchasedAt: iso(purchasedMs), orderId,
          serial: first, deliveredAt: null, price: planPrice,
        },
      };
      if (!purchase.ok) return;
      effectiveMs = purchasedMs;
    } else {
      purchasedMs = t0 - rng.int(1, 30) * DAY;
      purchase = yield {
        actor: 'sales',
        command: {
          type: 'PurchasePlan', planId, term, model: model.name, region, channel, purchasedAt: iso(purchasedMs), orderId,
          serial: null, deliveredAt: null, price: planPrice,
        },
      };
      if (!purchase.ok) return;
      const boundMs = Math.min(t0 + rng.between(HOUR, windowMs), H - HOUR);
      const bound: StepResult = yield { actor: 'sales', command: { type: 'BindPlan', planId, serial: first, boundAt: iso(boundMs) } };
      if (!bound.ok) return;
      effectiveMs = boundMs;
    }
  }
  const D = effectiveMs;
  const v2021 = purchasedMs < V2023_FROM;
  const policy = catalogue.policyVersions.find((p) => p.id === (v2021 ? 'V2021' : 'V2023')) ?? catalogue.policyVersions[0];
  const ambiguousPolicy = purchasedMs >= V2023_FROM && purchasedMs < V2023_SURE;

  // a price keyed wrong at the till, corrected later (RULES X1)
  if (purchase.ok && (kind === 'long' ? rng.chance(0.3) : rng.chance(0.02))) {
    yield {
      actor: 'admin',
      command: {
        type: 'CorrectEvent', eventId: purchase.eventIds[0], streamId: `plan-${planId}`, action: 'amend',
        reason: 'price keyed wrong at the till', amendment: { price: price(Number(planPrice.amount) * 0.9) },
      },
    };
  }

  // ---- pairings (RULES R4): the owner's account and the remote controller
  let paired = false;
  let cursor = Math.max(t0, D) + HOUR;
  const pair = function* (unit: string, at: number, refSuffix: string): Generator<Step, void, StepResult> {
    yield { actor: 'device-registry', command: { type: 'ChangePairing', serial: unit, kind: 'account', ref: `acct-${tag}`, action: 'bind', at: iso(at) } };
    yield { actor: 'device-registry', command: { type: 'ChangePairing', serial: unit, kind: 'remote-controller', ref: `rc-${tag}-${refSuffix}`, action: 'bind', at: iso(at + 10 * 60_000) } };
  };
  if (model.flyaway && (kind === 'long' || rng.chance(0.75))) {
    const at = Math.min(t0 + rng.between(HOUR, 3 * DAY), H - HOUR);
    yield* pair(first, at, '0');
    paired = true;
  }

  // ---- the chain of plan terms
  const quota = policy.plans;
  const baseMonths = term === '2y' ? 24 : 12;
  const terms: Term[] = [{
    kind: term, startMs: D, endMs: addMonths(D, baseMonths), replacements: quota[term].replacements,
    flyaways: quota[term].flyaway, claimFromMs: D,
  }];
  const chainMonths = () => terms.reduce((m, t) => m + (t.kind === '2y' ? 24 : 12), 0);

  // ---- service records early in the first term
  const serviceAt = (): number => cursor + rng.int(5, 40) * DAY;
  if (rng.chance(kind === 'long' ? 0.8 : 0.06)) {
    const at = serviceAt();
    if (at < Math.min(H, terms[0].endMs - 30 * DAY)) {
      const center = centerFor();
      const rec: StepResult = yield { actor: `service-center:${center}`, command: { type: 'RecordService', serial, kind: 'warranty-repair', at: iso(at), serviceCenterId: center } };
      cursor = at + DAY;
      // recorded twice by mistake, the duplicate voided
      if (rec.ok && rng.chance(kind === 'long' ? 0.5 : 0.2)) {
        const dup: StepResult = yield { actor: `service-center:${center}`, command: { type: 'RecordService', serial, kind: 'warranty-repair', at: iso(at + 60_000), serviceCenterId: center } };
        if (dup.ok) {
          yield { actor: 'admin', command: { type: 'CorrectEvent', eventId: dup.eventIds[0], streamId: dup.streamId, action: 'void', reason: 'duplicate service record', amendment: null } };
        }
      }
    }
  }
  if ((model.quotas[term]?.discountedRepairs ?? 0) > 0 && rng.chance(kind === 'long' ? 0.7 : 0.15)) {
    const at = serviceAt();
    if (at < Math.min(H, terms[0].endMs - 30 * DAY)) {
      const center = centerFor();
      yield { actor: `service-center:${center}`, command: { type: 'RecordService', serial, kind: rng.chance(0.6) ? 'discounted-repair' : 'factory-maintenance', at: iso(at), serviceCenterId: center } };
      cursor = at + DAY;
    }
  }

  // ---- claims, term by term; renewals and Care Refresh+ between terms
  const claimCount = (): number => {
    if (kind === 'pool') return 1;
    if (kind === 'long') return rng.int(2, 3);
    return Number(rng.weighted({ 0: 50, 1: 30, 2: 13, 3: 7 }));
  };
  let fulfilledInFirstTerm = false;
  for (let ti = 0; ti < terms.length; ti++) {
    const t = terms[ti];
    let used = 0;
    let flyUsed = 0;
    const n = claimCount();
    for (let c = 0; c < n; c++) {
      if (used >= t.replacements) break;
      const lo = Math.max(cursor, t.claimFromMs + DAY, t.startMs + DAY);
      const hi = Math.min(t.endMs - 4 * DAY, H - 25 * DAY);
      if (lo >= hi) break;
      const incident = kind === 'pool' ? Math.min(lo + 59 * DAY, hi) : rng.between(lo, lo + (hi - lo) / Math.max(1, n - c));
      const opened = Math.min(incident + rng.between(HOUR, 5 * DAY), t.endMs - 3 * DAY);
      const flyaway = kind !== 'pool' && model.flyaway && paired && flyUsed < t.flyaways && rng.chance(0.15);
      const excluded = kind === 'normal' && rng.chance(0.03);
      const cause: Cause = flyaway ? 'flyaway' : excluded ? rng.pick(EXCLUDED_CAUSES) : (rng.weighted(DAMAGE_CAUSES) as Cause);
      const center = centerFor();
      const actor = `service-center:${center}`;
      const claimRef = `CR-${tag}-${claims++}`;
      const claimId = claimIdFor(center, claimRef);
      const open: StepResult = yield {
        actor,
        command: {
          type: 'OpenClaim', claimId, claimRef, serial, kind: flyaway ? 'flyaway' : 'damage', cause, incidentAt: iso(incident),
          openedAt: iso(opened), serviceCenterId: center, express: !flyaway && rng.chance(0.1), flightRecordsSynced: flyaway,
        },
      };
      cursor = opened + HOUR;
      if (!open.ok) continue;
      if (kind === 'pool') {
        env.notes.approvable({ claimId, centerId: center, at: iso(opened + DAY) });
        cursor = opened + DAY;
        break;
      }
      const outcome = rng.weighted({ fulfil: 72, denyOpen: 8, denyApproved: 3, cancelApproved: 5, cancelPaid: 2, approved: 3, paid: 2, open: 5 });
      if (outcome === 'open') continue;
      const approvedAt = opened + rng.between(2 * HOUR, 3 * DAY);
      if (approvedAt >= H) continue;
      if (outcome === 'denyOpen') {
        yield { actor, command: { type: 'DenyClaim', planId, claimId, at: iso(approvedAt), reason: 'damage not consistent with the report' } };
        cursor = approvedAt + HOUR;
        continue;
      }
      const approval: StepResult = yield { actor, command: { type: 'ApproveClaim', planId, claimId, at: iso(approvedAt) } };
      cursor = approvedAt + HOUR;
      if (!approval.ok) continue;
      used++;
      if (flyaway) flyUsed++;
      if (outcome === 'approved') continue;
      const closeAt = approvedAt + rng.between(HOUR, 2 * DAY);
      if (outcome === 'denyApproved' || outcome === 'cancelApproved') {
        if (closeAt >= H) continue;
        const deny = outcome === 'denyApproved';
        yield {
          actor,
          command: deny
            ? { type: 'DenyClaim', planId, claimId, at: iso(closeAt), reason: 'unit shows signs of modification' }
            : { type: 'CancelClaim', planId, claimId, at: iso(closeAt), reason: 'customer withdrew the claim' },
        };
        used--;
        if (flyaway) flyUsed--;
        cursor = closeAt + HOUR;
        continue;
      }
      const fee = approval.answer.fee as { amount: string; currency: string };
      const paidAt = closeAt;
      if (paidAt >= H) continue;
      const paid: StepResult = yield { actor, command: { type: 'PayClaim', planId, claimId, at: iso(paidAt), amount: fee.amount, currency: fee.currency } };
      cursor = paidAt + HOUR;
      if (!paid.ok || outcome === 'paid') continue;
      if (outcome === 'cancelPaid') {
        yield { actor, command: { type: 'CancelClaim', planId, claimId, at: iso(paidAt + HOUR), reason: 'customer found the unit' } };
        used--;
        if (flyaway) flyUsed--;
        cursor = paidAt + 2 * HOUR;
        continue;
      }
      const fulfilAt = paidAt + rng.between(DAY, 7 * DAY);
      if (fulfilAt >= H) continue;
      const replacement = `${first}R${++replacements}`;
      const done: StepResult = yield { actor, command: { type: 'FulfilClaim', planId, claimId, at: iso(fulfilAt), replacementSerial: replacement } };
      cursor = fulfilAt + HOUR;
      if (!done.ok) continue;
      serial = replacement;
      if (ti === 0) fulfilledInFirstTerm = true;
      // the replacement aircraft is paired again by its owner
      if (paired) {
        const at = fulfilAt + rng.between(HOUR, 2 * DAY);
        if (at < H) {
          yield* pair(serial, at, String(replacements));
          cursor = at + HOUR;
        }
      }
    }
    // pairing churn on long histories: the remote controller swapped now and then
    if (kind === 'long' && paired) {
      for (let k = 0; k < 3; k++) {
        const at = cursor + rng.int(10, 40) * DAY;
        if (at >= Math.min(H, t.endMs - 10 * DAY)) break;
        const ref = `rc-${tag}-swap${ti}${k}`;
        yield { actor: 'device-registry', command: { type: 'ChangePairing', serial, kind: 'remote-controller', ref: `rc-${tag}-${replacements}`, action: 'unbind', at: iso(at) } };
        yield { actor: 'device-registry', command: { type: 'ChangePairing', serial, kind: 'remote-controller', ref, action: 'bind', at: iso(at + HOUR) } };
        yield { actor: 'device-registry', command: { type: 'ChangePairing', serial, kind: 'remote-controller', ref, action: 'unbind', at: iso(at + 2 * HOUR) } };
        yield { actor: 'device-registry', command: { type: 'ChangePairing', serial, kind: 'remote-controller', ref: `rc-${tag}-${replacements}`, action: 'bind', at: iso(at + 3 * HOUR) } };
        cursor = at + 4 * HOUR;
      }
    }
    if (kind === 'pool') break;

    // Care Refresh+ (V2021 only, a 1-Year plan with a replacement left, before it expires)
    const last = terms[terms.length - 1];
    if (ti === terms.length - 1 && ti === 0 && t.kind === '1y' && v2021 && !ambiguousPolicy && used < t.replacements
      && rng.chance(kind === 'long' ? 0.5 : 0.15)) {
      const at = Math.max(cursor, t.endMs - rng.int(5, 60) * DAY);
      if (at < t.endMs - 2 * DAY && at < H) {
        const bought: StepResult = yield { actor: 'sales', command: { type: 'PurchaseCarePlus', planId, purchasedAt: iso(at), orderId: `ORD-${tag}-${orders++}`, price: price(49) } };
        if (bought.ok) {
          terms.push({ kind: 'care-plus', startMs: last.endMs, endMs: addMonths(last.endMs, 12), replacements: quota['care-plus'].replacements, flyaways: quota['care-plus'].flyaway, claimFromMs: at });
          continue;
        }
      }
    }
    // renewal (1-Year, at most 36 months in all, within 15 days of the end)
    if (ti === terms.length - 1 && chainMonths() + 12 <= 36 && rng.chance(kind === 'long' ? 0.9 : term === '2y' ? 0.2 : 0.35)) {
      const at = Math.max(cursor, rng.chance(0.2) ? last.endMs + rng.between(HOUR, 10 * DAY) : last.endMs - rng.between(HOUR, 45 * DAY));
      if (at < last.endMs + 12 * DAY && at < H) {
        const renewed: StepResult = yield { actor: 'sales', command: { type: 'RenewPlan', planId, purchasedAt: iso(at), orderId: `ORD-${tag}-${orders++}`, term: '1y', price: price(69) } };
        if (renewed.ok) {
          terms.push({ kind: 'renewal', startMs: last.endMs, endMs: addMonths(last.endMs, 12), replacements: quota['1y'].replacements, flyaways: quota['1y'].flyaway, claimFromMs: at });
          cursor = Math.max(cursor, at + HOUR);
        }
      }
    }
  }

  // ---- goodwill now and then
  if (rng.chance(kind === 'long' ? 0.3 : 0.005)) {
    const at = Math.min(cursor + rng.int(1, 30) * DAY, H - HOUR);
    if (at > cursor) yield { actor: 'admin', command: { type: 'GrantGoodwill', serial, months: rng.pick([3, 6]), reason: 'shipping delay on a replacement', at: iso(at) } };
  }

  // ---- the reward sweep, for plans whose first term settled long ago (RULES W4, W5)
  const settled = terms[0].endMs + 40 * DAY;
  if (model.safeUseReward && !fulfilledInFirstTerm && settled < H) {
    yield { actor: SWEEP_ACTOR, command: { type: 'GrantDueExtensions', planId, kinds: ['safe-use-reward'] } };
  }

  if (kind === 'pool') {
    env.notes.renewable({ planId, purchasedAt: iso(D + 180 * DAY), orderId: `ORD-${tag}-bench-renewal`, currency });
  }
  if (kind === 'long') env.notes.long(serial, t0, Math.min(H, terms[terms.length - 1].endMs));
  env.notes.unit(serial, kind);
}
