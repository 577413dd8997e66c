/**
 * Generated plausible histories for property-based domain specs: a list of abstract steps
 * (purchases of random term, model, region and channel, activations, pairings, verifications,
 * renewals, Care Refresh+, claims with approvals, denials, cancellations, payments and fulfilments,
 * service records, goodwill, sweeps and corrections), resolved against the ledger as it stands and
 * run through the real deciders. A refused step (a business refusal, a state conflict, an unknown
 * resource, an invalid value) is skipped; anything else (a crash) fails the property.
 */
import * as fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Command, Decision, Money, Region } from '@careledger/domain';
import { MemoryLedger } from './memory-ledger';

const DAY = 86_400_000;
export const HISTORY_MODELS = ['Mavic 3', 'Mini 4 Pro', 'Air 3', 'Osmo Pocket 3', 'Osmo Action 4', 'OM 4', 'RS 4 Mini'] as const;
export const HISTORY_REGIONS: Region[] = ['US', 'EU', 'UK', 'JP'];
const OFFSETS = ['UTC', 'UTC-7', 'UTC-8', 'UTC+1', 'UTC+2', 'UTC+9'];
/** Mostly covered causes; two excluded ones (R5) now and then. */
const CAUSES = ['collision', 'water', 'drop', 'screen', 'other', 'crack', 'wear', 'collision', 'water', 'theft', 'cosmetic'] as const;
const CENTERS = ['SC-X', 'SC-X', 'SC-US', 'SC-EU'];
/** Business time ends before the ledger clock (2026-11-01), so that nothing is in the future. */
const LATEST = Date.parse('2026-10-31T00:00:00Z');

export type Step =
  | { k: 'activate'; s: number; m: number; r: number }
  | { k: 'pair'; s: number; kind: 0 | 1; unbind: boolean }
  | { k: 'verify'; s: number; inspection: boolean }
  | { k: 'purchase'; p: number; s: number; term: 0 | 1; m: number; r: number; channel: 0 | 1 | 2; matchDevice: boolean; delivered: boolean }
  | { k: 'bind'; p: number; s: number }
  | { k: 'renew'; p: number; twoYear: boolean }
  | { k: 'carePlus'; p: number }
  | { k: 'claim'; p: number; flyaway: boolean; cause: number; express: boolean; synced: boolean; center: number; lateDays: number }
  /** A whole claim, carried as far as `stage` (1 approve, 2 pay, 3 fulfil), or closed by a denial or cancellation. */
  | { k: 'replace'; claim: Extract<Step, { k: 'claim' }>; stage: number; close: 0 | 1 | 2; reuseSerial: boolean; s: number }
  | { k: 'approve' | 'deny' | 'cancel' | 'fulfil'; c: number; reuseSerial: boolean; s: number }
  | { k: 'pay'; c: number; wrong: boolean }
  | { k: 'service'; p: number; kind: 0 | 1 | 2 }
  | { k: 'goodwill'; p: number; months: number }
  | { k: 'sweep'; p: number }
  | { k: 'correct'; e: number; void: boolean; shiftDays: number; cause: number };

export interface TimedStep {
  step: Step;
  /** How far business time moves on before the step (ms). */
  advance: number;
  /** The fixed offset its instants are written with. */
  offset: number;
  /** A fact reported late (T4): its business time lies this far (ms) before the history's clock. */
  late: number;
}

export interface HistoryPlan {
  start: number;
  steps: TimedStep[];
}

const idx = (n = 8) => fc.nat({ max: n });
const rarely = fc.constantFrom(false, false, false, false, true);
const mostly = fc.constantFrom(true, true, true, true, false);
const claimArb = fc.record({
  k: fc.constant('claim' as const), p: idx(), flyaway: rarely, cause: fc.nat({ max: 20 }), express: rarely, synced: mostly,
  center: idx(), lateDays: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 2 }) }, { weight: 1, arbitrary: fc.nat({ max: 20 }) }),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('activate' as const), s: idx(), m: idx(), r: idx() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('pair' as const), s: idx(), kind: fc.constantFrom(0 as const, 1 as const), unbind: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('verify' as const), s: idx(), inspection: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('purchase' as const), p: idx(), s: idx(), term: fc.constantFrom(0 as const, 1 as const), m: idx(), r: idx(),
      channel: fc.constantFrom(0 as const, 1 as const, 2 as const), matchDevice: mostly, delivered: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bind' as const), p: idx(), s: idx() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('renew' as const), p: idx(), twoYear: rarely }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('carePlus' as const), p: idx() }) },
  { weight: 3, arbitrary: claimArb },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('replace' as const),
      claim: claimArb,
      stage: fc.constantFrom(0, 1, 2, 3, 3, 3, 3),
      close: fc.constantFrom(0 as const, 0 as const, 0 as const, 1 as const, 2 as const),
      reuseSerial: fc.boolean(),
      s: idx(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constantFrom('approve' as const, 'approve' as const, 'deny' as const, 'cancel' as const, 'fulfil' as const, 'fulfil' as const),
      c: idx(), reuseSerial: fc.boolean(), s: idx(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('pay' as const), c: idx(), wrong: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('service' as const), p: idx(), kind: fc.constantFrom(0 as const, 1 as const, 2 as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('goodwill' as const), p: idx(), months: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sweep' as const), p: idx() }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('correct' as const), e: fc.nat({ max: 200 }), void: fc.boolean(), shiftDays: fc.integer({ min: -40, max: 40 }), cause: idx() }),
  },
);

/** Histories of up to `maxSteps` steps starting between mid-2022 (V2021) and 2025. */
export function historyArb(maxSteps = 40, withCorrections = true): fc.Arbitrary<HistoryPlan> {
  const steps = withCorrections ? stepArb : stepArb.filter((s) => s.k !== 'correct');
  return fc.record({
    start: fc.integer({ min: Date.parse('2022-06-01T00:00:00Z'), max: Date.parse('2025-06-01T00:00:00Z') }),
    steps: fc.array(
      fc.record({
        step: steps,
        advance: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 * DAY }) },
          { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 * DAY }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 * DAY }) },
        ),
        offset: fc.nat({ max: OFFSETS.length - 1 }),
        late: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 45 * DAY }) }),
      }),
      { minLength: Math.min(20, maxSteps), maxLength: maxSteps, size: 'max' },
    ),
  });
}

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);

function instant(ms: number, offset: number): string {
  return DateTime.fromMillis(ms, { zone: OFFSETS[offset] }).toISO()!;
}

interface Known {
  serials: string[];
  plans: string[];
  claims: { claimId: string; planId: string }[];
  fees: Map<string, Money>;
  holder: Map<string, string>;
  activations: Map<string, { model: string; region: Region }>;
  events: { eventId: string; streamId: string; type: string; data: Record<string, unknown> }[];
}

function known(ledger: MemoryLedger, originals: string[]): Known {
  const serials = new Set(originals);
  const plans: string[] = [];
  const claims: Known['claims'] = [];
  const fees = new Map<string, Money>();
  const holder = new Map<string, string>();
  const activations = new Map<string, { model: string; region: Region }>();
  for (const e of ledger.events) {
    const d = e.data as Record<string, unknown>;
    if (e.type === 'DeviceActivated') activations.set(d.serial as string, { model: d.model as string, region: d.region as Region });
    if (e.type === 'PlanPurchased') {
      plans.push(d.planId as string);
      if (d.serial) holder.set(d.planId as string, d.serial as string);
    }
    if (e.type === 'PlanBound') holder.set(d.planId as string, d.serial as string);
    if (e.type === 'ClaimOpened') claims.push({ claimId: d.claimId as string, planId: d.planId as string });
    if (e.type === 'ClaimApproved') fees.set(d.claimId as string, d.fee as Money);
    if (e.type === 'ClaimFulfilled') {
      serials.add(d.replacementSerial as string);
      const claim = claims.find((c) => c.claimId === d.claimId);
      if (claim) holder.set(claim.planId, d.replacementSerial as string);
    }
  }
  const events = ledger.events
    .filter((e) => e.type !== 'EventCorrected' && e.type !== 'DeviceBoundToPlan' && e.type !== 'ServiceCenterRegistered')
    .map((e) => ({ eventId: e.eventId, streamId: e.streamId, type: e.type, data: e.data as Record<string, unknown> }));
  return { serials: [...serials], plans, claims, fees, holder, activations, events };
}

function shifted(value: unknown, days: number): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  return new Date(Math.min(ms + days * DAY, LATEST)).toISOString();
}

/** The concrete command a step stands for, given the ledger so far (null when nothing fits). */
function resolve(step: Step, k: Known, nowMs: number, offset: number, counter: { next: number }): Command | null {
  const at = instant(nowMs, offset);
  const serial = (i: number) => pick(k.serials, i)!;
  switch (step.k) {
    case 'activate':
      return { type: 'ActivateDevice', serial: serial(step.s), model: HISTORY_MODELS[step.m % HISTORY_MODELS.length], region: HISTORY_REGIONS[step.r % HISTORY_REGIONS.length], activatedAt: at };
    case 'pair':
      return { type: 'ChangePairing', serial: serial(step.s), kind: step.kind ? 'remote-controller' : 'account', ref: 'ref-1', action: step.unbind ? 'unbind' : 'bind', at };
    case 'verify':
      return { type: 'RecordVerification', serial: serial(step.s), method: step.inspection ? 'inspection' : 'video', notifiedAt: at };
    case 'purchase': {
      const channel = (['bundle', 'online', 'card'] as const)[step.channel];
      const s = channel === 'card' && step.delivered ? null : serial(step.s);
      // Mostly the model and region the unit was sold as (P5), so that purchases are plausible.
      const sold = s && step.matchDevice ? k.activations.get(s) : undefined;
      return {
        type: 'PurchasePlan', planId: `P${counter.next++}`, term: step.term ? '2y' : '1y',
        model: sold?.model ?? HISTORY_MODELS[step.m % HISTORY_MODELS.length], region: sold?.region ?? HISTORY_REGIONS[step.r % HISTORY_REGIONS.length], channel,
        purchasedAt: at, orderId: `O-${counter.next++}`, serial: s, deliveredAt: channel === 'bundle' && step.delivered ? at : null, price: null,
      };
    }
    case 'bind': {
      const planId = pick(k.plans, step.p);
      return planId ? { type: 'BindPlan', planId, serial: serial(step.s), boundAt: at } : null;
    }
    case 'renew': {
      const planId = pick(k.plans, step.p);
      return planId ? { type: 'RenewPlan', planId, purchasedAt: at, orderId: `R-${counter.next++}`, term: step.twoYear ? '2y' : '1y', price: null } : null;
    }
    case 'carePlus': {
      const planId = pick(k.plans, step.p);
      return planId ? { type: 'PurchaseCarePlus', planId, purchasedAt: at, orderId: `CP-${counter.next++}`, price: null } : null;
    }
    case 'claim': {
      const planId = pick(k.plans, step.p);
      const s = planId ? k.holder.get(planId) : undefined;
      if (!s) return null;
      const claimId = `C${counter.next++}`;
      return {
        type: 'OpenClaim', claimId, claimRef: claimId, serial: s, kind: step.flyaway ? 'flyaway' : 'damage',
        cause: step.flyaway ? 'flyaway' : CAUSES[step.cause % CAUSES.length], incidentAt: instant(nowMs - step.lateDays * DAY, offset), openedAt: at,
        serviceCenterId: CENTERS[step.center % CENTERS.length], express: step.express, flightRecordsSynced: step.synced,
      };
    }
    case 'approve':
    case 'deny':
    case 'cancel':
    case 'fulfil': {
      const c = pick(k.claims, step.c);
      if (!c) return null;
      if (step.k === 'approve') return { type: 'ApproveClaim', planId: c.planId, claimId: c.claimId, at };
      if (step.k === 'deny') return { type: 'DenyClaim', planId: c.planId, claimId: c.claimId, at, reason: 'generated' };
      if (step.k === 'cancel') return { type: 'CancelClaim', planId: c.planId, claimId: c.claimId, at, reason: 'generated' };
      const replacementSerial = step.reuseSerial ? serial(step.s) : `R${counter.next++}`;
      return { type: 'FulfilClaim', planId: c.planId, claimId: c.claimId, at, replacementSerial };
    }
    case 'pay': {
      const c = pick(k.claims, step.c);
      const fee = c ? k.fees.get(c.claimId) : undefined;
      if (!c || !fee) return null;
      return { type: 'PayClaim', planId: c.planId, claimId: c.claimId, at, amount: step.wrong ? '1.00' : fee.amount, currency: fee.currency };
    }
    case 'service': {
      const planId = pick(k.plans, step.p);
      const s = planId ? k.holder.get(planId) : undefined;
      if (!s) return null;
      return { type: 'RecordService', serial: s, kind: (['warranty-repair', 'discounted-repair', 'factory-maintenance'] as const)[step.kind], at, serviceCenterId: 'SC-US' };
    }
    case 'goodwill': {
      const planId = pick(k.plans, step.p);
      const s = planId ? k.holder.get(planId) : undefined;
      return s ? { type: 'GrantGoodwill', serial: s, months: step.months, reason: 'generated', at } : null;
    }
    case 'replace':
      return null;
    case 'sweep': {
      const planId = pick(k.plans, step.p);
      return planId ? { type: 'GrantDueExtensions', planId, kinds: ['plan-year-2', 'safe-use-reward'] } : null;
    }
    case 'correct': {
      const target = pick(k.events, step.e);
      if (!target) return null;
      const base = { type: 'CorrectEvent' as const, eventId: target.eventId, streamId: target.streamId, reason: 'generated' };
      if (step.void) return { ...base, action: 'void', amendment: null };
      const d = target.data;
      const amendments: Record<string, Record<string, unknown> | null> = {
        DeviceActivated: { activatedAt: shifted(d.activatedAt, step.shiftDays) },
        DevicePaired: { at: shifted(d.at, step.shiftDays) },
        VerificationPassed: { notifiedAt: shifted(d.notifiedAt, step.shiftDays) },
        PlanPurchased: step.cause % 2 === 0 ? { purchasedAt: shifted(d.purchasedAt, step.shiftDays) } : { term: d.term === '1y' ? '2y' : '1y' },
        PlanBound: { boundAt: shifted(d.boundAt, step.shiftDays) },
        PlanRenewed: { purchasedAt: shifted(d.purchasedAt, step.shiftDays) },
        ClaimOpened: step.cause % 2 === 0 ? { incidentAt: shifted(d.incidentAt, step.shiftDays) } : { cause: CAUSES[step.cause % CAUSES.length] },
        ClaimApproved: { at: shifted(d.at, Math.abs(step.shiftDays)) },
        ClaimFulfilled: { at: shifted(d.at, Math.abs(step.shiftDays)) },
        ServiceRecorded: { kind: 'warranty-repair' },
      };
      const amendment = amendments[target.type] ?? null;
      if (!amendment || Object.values(amendment).some((v) => v === null)) return { ...base, action: 'void', amendment: null };
      return { ...base, action: 'amend', amendment };
    }
  }
}

const EXPECTED_ERRORS = new Set(['Refusal', 'StateConflict', 'NotFound', 'InvalidCommand']);

export interface RunHistory {
  ledger: MemoryLedger;
  /** Serials that appear in the history (originals and issued replacements). */
  serials: string[];
  planIds: string[];
  accepted: Command[];
  refused: { command: Command; code: string }[];
  hasCorrections: boolean;
  /** Business instants worth looking at (each accepted step's, plus the history's start and end). */
  instants: number[];
}

/** Runs a generated history through a fresh MemoryLedger (real deciders). */
export async function runHistory(plan: HistoryPlan): Promise<RunHistory> {
  const ledger = new MemoryLedger();
  const originals = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'];
  for (const [centerId, region] of [['SC-US', 'US'], ['SC-EU', 'EU']] as const) {
    await ledger.run({ type: 'RegisterServiceCenter', centerId, name: centerId, region, at: '2020-01-01T00:00:00Z' });
  }
  const counter = { next: 1 };
  const accepted: Command[] = [];
  const refused: RunHistory['refused'] = [];
  const instants: number[] = [plan.start];
  let nowMs = plan.start;
  /** Runs one command; false when it was refused. */
  const attempt = async (command: Command | null): Promise<Decision | null> => {
    if (!command) return null;
    try {
      const { decision } = await ledger.run(command);
      accepted.push(command);
      instants.push(nowMs);
      return decision;
    } catch (error) {
      const e = error as { name?: string; code?: string };
      if (!EXPECTED_ERRORS.has(e.name ?? '')) {
        throw Object.assign(error as Error, { message: `${command.type} ${JSON.stringify(command)} crashed: ${(error as Error).message}` });
      }
      refused.push({ command, code: e.code ?? e.name! });
      return null;
    }
  };
  let clockMs = plan.start;
  for (const { step, advance, offset, late } of plan.steps) {
    clockMs = Math.min(clockMs + advance, LATEST);
    nowMs = Math.max(plan.start, clockMs - late);
    if (step.k !== 'replace') {
      await attempt(resolve(step, known(ledger, originals), nowMs, offset, counter));
      continue;
    }
    const open = resolve(step.claim, known(ledger, originals), nowMs, offset, counter) as Extract<Command, { type: 'OpenClaim' }> | null;
    if (!(await attempt(open))) continue;
    const { claimId, planId } = { claimId: open!.claimId, planId: ledger.events.filter((e) => e.type === 'ClaimOpened').pop()!.streamId.slice('plan-'.length) };
    const later = (hours: number) => instant((nowMs = Math.min(nowMs + hours * 3_600_000, LATEST)), offset);
    const closeWith = async () => {
      if (step.close === 1) await attempt({ type: 'DenyClaim', planId, claimId, at: later(2), reason: 'generated' });
      if (step.close === 2) await attempt({ type: 'CancelClaim', planId, claimId, at: later(2), reason: 'generated' });
    };
    if (step.stage < 1) {
      await closeWith();
      continue;
    }
    const approved = await attempt({ type: 'ApproveClaim', planId, claimId, at: later(4) });
    if (!approved || step.stage < 2) {
      await closeWith();
      continue;
    }
    const fee = (approved.outcome as { fee: Money }).fee;
    if (!(await attempt({ type: 'PayClaim', planId, claimId, at: later(4), amount: fee.amount, currency: fee.currency })) || step.stage < 3) {
      await closeWith();
      continue;
    }
    const replacementSerial = step.reuseSerial ? pick(known(ledger, originals).serials, step.s)! : `R${counter.next++}`;
    await attempt({ type: 'FulfilClaim', planId, claimId, at: later(24), replacementSerial });
  }
  instants.push(clockMs);
  const k = known(ledger, originals);
  return {
    ledger,
    serials: k.serials,
    planIds: [...new Set(k.plans)],
    accepted,
    refused,
    hasCorrections: ledger.events.some((e) => e.type === 'EventCorrected'),
    instants,
  };
}
