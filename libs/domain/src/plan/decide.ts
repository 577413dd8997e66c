/**
 * Deciders of the plan chain: purchase, a card plan's binding, renewal, Care Refresh+, service
 * records, goodwill extensions, and the extensions whose condition has settled (the sweep).
 */
import { PlanTerm } from '../catalogue/catalogue';
import { InvalidCommand, NotFound, Refusal, StateConflict } from '../codes';
import type { CommandMeta } from '../commands';
import { Append, Decision, knownRegion, notBefore, notInFuture, Outcome, RewardSettlement, repeat, single } from '../decision';
import { deviceStream } from '../device/events';
import { checkRegion, checkUnitIsFree, currentBinding, firstPurchaseRefusal, ownReservation } from '../device/rules';
import { activationOf } from '../device/state';
import { DomainEvent } from '../events';
import { addMonths, dateInZone, instantMs, IsoDate } from '../time';
import { World } from '../world';
import {
  Chain, officialWarranty, planYear2Window, rewardSettlesAtMs, secondYearOf, termAt, TermInput, termWindows, TermWindows, unitAt,
} from './chain';
import type { BindPlan, GrantDueExtensions, GrantGoodwill, PurchaseCarePlus, PurchasePlan, RecordService, RenewPlan } from './commands';
import { ExtensionKind, planStream, WarrantyExtensionGranted } from './events';
import { rewardState } from './reward';
import { carePlusRefusal, renewalRefusal } from './rules';
import { coveredUntilAt } from './warranty';

export function requireChain(world: World, planId: string): Chain {
  const chain = world.chain(planId);
  if (!chain) throw new NotFound('PlanNotFound', `No plan ${planId}.`);
  return chain;
}

/** The plan as a command's outcome: its policy version, whether it is in effect, its terms. */
export function planOutcome(chain: Chain): Outcome {
  return {
    kind: 'plan',
    planId: chain.planId,
    policyVersion: chain.policy.id,
    effective: chain.effective !== null,
    terms: chain.terms.map((t) => ({ kind: t.kind, from: t.window.from, until: t.window.until })),
  };
}

function outcomeOf(planId: string, computed: TermWindows): Outcome {
  return {
    kind: 'plan',
    planId,
    policyVersion: computed.policy.id,
    effective: computed.effective !== null,
    terms: computed.windows.map(({ kind, window }) => ({ kind, from: window.from, until: window.until })),
  };
}

/** The chain's inputs as stored, for computing the windows a command would give it. */
function inputOf(chain: Chain): TermInput {
  return {
    purchase: chain.purchase.event.data,
    boundAt: chain.binding?.event.data.boundAt ?? null,
    activationMs: chain.activation?.at ?? null,
    extensions: chain.extensions.map((f) => (f.event.type === 'PlanRenewed' ? 'renewal' : 'care-plus')),
  };
}

/** W2: a 2-Year plan's second year is recorded as an extension once its effective date is known. */
function yearTwoGrant(planId: string, computed: TermWindows, at: string): WarrantyExtensionGranted | null {
  const first = computed.windows[0];
  if (!first || first.kind !== '2y') return null;
  const window = secondYearOf(first.window);
  return {
    type: 'WarrantyExtensionGranted',
    data: { kind: 'plan-year-2', planId, serial: null, from: window.from, until: window.until, at, months: 12, reason: null },
  };
}

export function purchase(world: World, c: PurchasePlan, meta: CommandMeta): Decision {
  const existing = world.plan(c.planId);
  if (existing.status === 'purchased') {
    if (existing.purchase.event.data.orderId === c.orderId) return repeat([existing.purchase], planOutcome(world.chain(c.planId)!));
    throw new StateConflict('PlanAlreadyExists', `Plan ${c.planId} exists with another order.`);
  }
  if ((c.channel === 'bundle' || c.channel === 'online') && !c.serial) {
    throw new InvalidCommand([{ field: 'serial', message: `serial is required for ${c.channel} plans` }]);
  }
  knownRegion(world, c.region);
  notInFuture(world, meta, c.purchasedAt, c.deliveredAt);
  const catalogue = world.catalogue;
  const model = catalogue.model(c.model);
  // P1
  if (c.term !== '1y' && c.term !== '2y') throw new Refusal('UnknownPlan', `No plan "${c.term}".`);
  if (!model.plans.includes(c.term)) throw new Refusal('UnknownPlan', `${model.name} has no ${c.term} plan.`);
  const appends: Append[] = [];
  if (c.serial) {
    checkUnitIsFree(world, c.serial, c.planId, meta.now);
    checkRegion(world, c.serial, model.name, c.region);
    const refusal = firstPurchaseRefusal(world, c.serial, model.name, instantMs(c.purchasedAt));
    if (refusal) throw refusal;
    if (!ownReservation(world, c.serial, c.planId, null)) {
      appends.push({
        streamId: deviceStream(c.serial),
        events: [{ type: 'DeviceBoundToPlan', data: { serial: c.serial, planId: c.planId, via: 'purchase', at: c.purchasedAt, claimId: null } }],
      });
    }
  }
  const data = {
    planId: c.planId,
    term: c.term as PlanTerm,
    model: model.name,
    region: c.region,
    channel: c.channel,
    purchasedAt: c.purchasedAt,
    orderId: c.orderId,
    serial: c.serial,
    deliveredAt: c.deliveredAt,
    price: c.price,
  };
  const computed = termWindows(catalogue, {
    purchase: data,
    boundAt: null,
    activationMs: c.serial ? activationOf(world.device(c.serial))?.at ?? null : null,
    extensions: [],
  });
  const planEvents: DomainEvent[] = [{ type: 'PlanPurchased', data }];
  const grant = yearTwoGrant(c.planId, computed, c.purchasedAt);
  if (grant) planEvents.push(grant);
  appends.push({ streamId: planStream(c.planId), events: planEvents });
  return { appends, primary: [appends.length - 1, 0], outcome: outcomeOf(c.planId, computed) };
}

export function bind(world: World, c: BindPlan, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const p = chain.purchase.event.data;
  if (chain.binding) {
    const b = chain.binding.event.data;
    if (b.serial === c.serial && instantMs(b.boundAt) === instantMs(c.boundAt)) return repeat([chain.binding], planOutcome(chain));
    throw new StateConflict('PlanAlreadyBound', `Plan ${c.planId} is already bound to ${b.serial}.`);
  }
  if (p.channel !== 'card' || p.serial) {
    throw new StateConflict('PlanAlreadyBound', `Plan ${c.planId} (${p.channel}) was bound to ${p.serial ?? 'its unit'} at purchase.`);
  }
  notInFuture(world, meta, c.boundAt);
  notBefore('boundAt', c.boundAt, instantMs(p.purchasedAt), 'the purchase');
  checkUnitIsFree(world, c.serial, c.planId, meta.now);
  checkRegion(world, c.serial, chain.model.name, chain.region);
  const refusal = firstPurchaseRefusal(world, c.serial, chain.model.name, instantMs(c.boundAt));
  if (refusal) throw refusal;
  const appends: Append[] = [];
  if (!ownReservation(world, c.serial, c.planId, null)) {
    appends.push({
      streamId: deviceStream(c.serial),
      events: [{ type: 'DeviceBoundToPlan', data: { serial: c.serial, planId: c.planId, via: 'binding', at: c.boundAt, claimId: null } }],
    });
  }
  const computed = termWindows(world.catalogue, {
    ...inputOf(chain),
    boundAt: c.boundAt,
    activationMs: activationOf(world.device(c.serial))?.at ?? null,
  });
  const planEvents: DomainEvent[] = [{ type: 'PlanBound', data: { planId: c.planId, serial: c.serial, boundAt: c.boundAt } }];
  const grant = yearTwoGrant(c.planId, computed, c.boundAt);
  if (grant) planEvents.push(grant);
  appends.push({ streamId: planStream(c.planId), events: planEvents });
  return { appends, primary: [appends.length - 1, 0], outcome: outcomeOf(c.planId, computed) };
}

export function renew(world: World, c: RenewPlan, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const same = chain.extensions.find((f) => f.event.data.orderId === c.orderId);
  if (same) return repeat([same], planOutcome(chain));
  notInFuture(world, meta, c.purchasedAt);
  const rules = world.catalogue.rules;
  const refusal = renewalRefusal(chain, instantMs(c.purchasedAt), c.term, rules.renewalGraceDays, rules.maxChainMonths);
  if (refusal) throw refusal;
  const input = inputOf(chain);
  const computed = termWindows(world.catalogue, { ...input, extensions: [...input.extensions, 'renewal'] });
  return single(planStream(c.planId), {
    type: 'PlanRenewed',
    data: { planId: c.planId, term: '1y', purchasedAt: c.purchasedAt, orderId: c.orderId, price: c.price },
  }, outcomeOf(c.planId, computed));
}

export function carePlus(world: World, c: PurchaseCarePlus, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const same = chain.extensions.find((f) => f.event.data.orderId === c.orderId);
  if (same) return repeat([same], planOutcome(chain));
  notInFuture(world, meta, c.purchasedAt);
  const refusal = carePlusRefusal(chain, instantMs(c.purchasedAt), world.catalogue.rules.maxChainMonths);
  if (refusal) throw refusal;
  const input = inputOf(chain);
  const computed = termWindows(world.catalogue, { ...input, extensions: [...input.extensions, 'care-plus'] });
  const term = computed.windows[computed.windows.length - 1].window;
  return {
    appends: [{
      streamId: planStream(c.planId),
      events: [
        { type: 'CarePlusPurchased', data: { planId: c.planId, purchasedAt: c.purchasedAt, orderId: c.orderId, price: c.price } },
        // W3: Care Refresh+ adds one year of warranty, over its own term
        {
          type: 'WarrantyExtensionGranted',
          data: { kind: 'care-plus', planId: c.planId, serial: null, from: term.from, until: term.until, at: c.purchasedAt, months: 12, reason: null },
        },
      ],
    }],
    primary: [0, 0],
    outcome: outcomeOf(c.planId, computed),
  };
}

/** C9, R8: discounted repairs and factory maintenance are plan benefits with quotas; warranty repairs need warranty. */
export function recordService(world: World, c: RecordService, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.at);
  const atMs = instantMs(c.at);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? world.chain(binding.planId) : null;
  const holds = chain ? unitAt(chain, atMs)?.serial === c.serial : false;
  const record = (planId: string | null): DomainEvent => ({
    type: 'ServiceRecorded',
    data: { serial: c.serial, planId, kind: c.kind, at: c.at, serviceCenterId: c.serviceCenterId },
  });
  if (!chain || !holds) {
    if (c.kind !== 'warranty-repair') {
      throw new Refusal('DeviceNotCovered', `${c.serial} holds no plan at ${c.at}; ${c.kind} is a plan benefit.`);
    }
    const activation = activationOf(world.device(c.serial));
    const model = activation ? world.catalogue.findModel(activation.event.data.model) : undefined;
    const official = model && activation ? officialWarranty(world.catalogue, model, activation.event.data.region, activation) : null;
    if (!official || atMs < official.fromMs || atMs >= official.untilMs) {
      throw new Refusal('NotUnderWarranty', `${c.serial} is not under warranty at ${c.at}.`);
    }
    return single(deviceStream(c.serial), record(null), { kind: 'service', serial: c.serial, planId: null });
  }
  if (c.kind === 'warranty-repair') {
    const until = coveredUntilAt(world.catalogue, chain, atMs);
    if (!until.covered) throw new Refusal('NotUnderWarranty', `${c.serial} is not under warranty at ${c.at}.`);
  } else {
    const term = termAt(chain, atMs);
    if (!term || atMs < term.coverageStartMs) {
      throw new Refusal('OutsideValidity', `No plan term of ${chain.planId} is in force at ${c.at}.`);
    }
    const quota = c.kind === 'discounted-repair' ? term.service.discountedRepairs : term.service.factoryMaintenance;
    const used = chain.serviceRecords.filter(
      (f) => f.event.data.kind === c.kind && f.at !== null && f.at >= term.window.fromMs && f.at < term.window.untilMs,
    ).length;
    if (used >= quota) {
      throw new Refusal(
        c.kind === 'discounted-repair' ? 'NoDiscountedRepairsRemaining' : 'NoFactoryMaintenanceRemaining',
        `${quota} ${c.kind} service(s) per term for ${chain.model.name}; ${used} used.`,
      );
    }
  }
  return single(planStream(chain.planId), record(chain.planId), { kind: 'service', serial: c.serial, planId: chain.planId });
}

/** W5: a goodwill extension starts where the unit's warranty coverage (as known at its instant) ends. */
export function grantGoodwill(world: World, c: GrantGoodwill, meta: CommandMeta): Decision {
  if (!Number.isInteger(c.months) || c.months < 1 || c.months > 36) {
    throw new InvalidCommand([{ field: 'months', message: 'must be an integer from 1 to 36' }]);
  }
  notInFuture(world, meta, c.at);
  const atMs = instantMs(c.at);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? world.chain(binding.planId) : null;
  const activation = activationOf(world.device(c.serial));
  const zone = chain?.zone ?? (activation ? world.catalogue.zone(activation.event.data.region) : 'UTC');
  const today = dateInZone(atMs, zone);
  let from: IsoDate = today;
  if (chain) {
    const { until } = coveredUntilAt(world.catalogue, chain, atMs);
    if (until && until > today) from = until;
  } else if (activation) {
    const model = world.catalogue.findModel(activation.event.data.model);
    const official = model ? officialWarranty(world.catalogue, model, activation.event.data.region, activation) : null;
    if (official && official.until > today) from = official.until;
  }
  const until = addMonths(from, c.months);
  const event: WarrantyExtensionGranted = {
    type: 'WarrantyExtensionGranted',
    data: { kind: 'goodwill', planId: chain?.planId ?? null, serial: c.serial, from, until, at: c.at, months: c.months, reason: c.reason },
  };
  return single(chain ? planStream(chain.planId) : deviceStream(c.serial), event, {
    kind: 'goodwill', serial: c.serial, planId: chain?.planId ?? null, from, until,
  });
}

/**
 * W5: record the warranty extensions whose condition has settled by `now` (the decision's instant,
 * the sweep's): plan year 2 once the effective date is known, and the safe-use reward once the
 * first term's window has ended plus the settlement days, with no replacement used and no claim of
 * that term still open. The outcome says where the reward stands, so the sweep knows when to look again.
 */
export function grantDueExtensions(world: World, c: GrantDueExtensions, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const granted = new Set(chain.grants.map((g) => g.event.data.kind));
  const events: WarrantyExtensionGranted[] = [];
  if (c.kinds.includes('plan-year-2') && !granted.has('plan-year-2') && chain.effective) {
    const window = planYear2Window(chain);
    if (window) {
      const at = chain.effective.facts[0]?.at ?? chain.terms[0].window.fromMs;
      events.push({
        type: 'WarrantyExtensionGranted',
        data: { kind: 'plan-year-2', planId: chain.planId, serial: null, from: window.from, until: window.until, at: new Date(Math.min(at, meta.now)).toISOString(), months: 12, reason: null },
      });
    }
  }
  let reward: RewardSettlement = { status: 'done' };
  if (c.kinds.includes('safe-use-reward') && !granted.has('safe-use-reward')) {
    const state = rewardState(world.catalogue, chain);
    const settlesAtMs = rewardSettlesAtMs(chain, world.catalogue.rules.rewardSettlementDays);
    if (state.status === 'pending' && state.window && settlesAtMs !== null) {
      if (meta.now < settlesAtMs) reward = { status: 'not-due', settlesAtMs };
      else if (state.unsettledClaims.length > 0) reward = { status: 'unsettled-claims', claimIds: state.unsettledClaims.map((x) => x.claimId) };
      else {
        events.push({
          type: 'WarrantyExtensionGranted',
          data: {
            kind: 'safe-use-reward', planId: chain.planId, serial: null, from: state.window.from, until: state.window.until,
            at: new Date(chain.terms[0].window.untilMs).toISOString(), months: 12, reason: null,
          },
        });
      }
    }
  }
  const outcome: Outcome = { kind: 'extensions', planId: chain.planId, granted: events.map((e) => e.data.kind as ExtensionKind), reward };
  return {
    appends: events.length > 0 ? [{ streamId: planStream(chain.planId), events }] : [],
    primary: [0, 0],
    outcome,
  };
}
