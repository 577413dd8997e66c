/**
 * Pure deciders: (command, facts, now) -> events to append, or a refusal with its RULES code.
 * When several rules refuse one command, the first in RULES R10's order answers.
 */
import { PlanTerm, Region, TermKind } from './catalogue/catalogue';
import { InvalidCommand, NotFound, Refusal, RefusalCode, StateConflict } from './codes';
import { Command, CommandMeta } from './commands';
import {
  businessTimeOf, ClaimFulfilled, DomainEvent, deviceStream, PlanPurchased, planStream, serviceCenterStream, WarrantyExtensionGranted,
} from './events';
import {
  buildChain, Chain, chainSerials, ClaimState, confirmedBindings, currentBinding, currentUnit, officialWarranty,
  quotaBalance, termAt, unitAt, World,
} from './chain';
import { Fact, ofType } from './facts';
import { validateAmendment } from './amendments';
import { addDays, addMonths, dateInZone, instantMs, isInstant, IsoDate, startOfDay } from './time';
import { coveredUntilAt } from './warranty';
import {
  carePlusRefusal, claimInputOf, claimRefusal, ClaimInput, feeFor, firstPurchaseRefusal, fitsChain, renewalRefusal, rewardState,
} from './rules';

export interface Append {
  streamId: string;
  events: DomainEvent[];
}

export interface Decision {
  /** In order: a reservation (if any) comes before the stream that confirms it. */
  appends: Append[];
  /** Which appended event is the command's primary fact: [append index, event index]. */
  primary: [number, number];
  /** The resource the command created or changed. */
  resource: Record<string, string>;
  /** Extra answer fields (fee, ordinal, status, ...). */
  answer: Record<string, unknown>;
  /** Set when the command was already carried out: nothing to append, answer from these facts. */
  repeatOf?: Fact[];
}

/** How long an unconfirmed reservation (its plan write not seen yet) still blocks others. */
export const RESERVATION_LEASE_MS = 60_000;

export function decide(world: World, command: Command, meta: CommandMeta): Decision {
  switch (command.type) {
    case 'ActivateDevice':
      return activate(world, command, meta);
    case 'ChangePairing':
      notInFuture(world, meta, command.at);
      return single(deviceStream(command.serial), {
        type: command.action === 'bind' ? 'DevicePaired' : 'DeviceUnpaired',
        data: { serial: command.serial, kind: command.kind, ref: command.ref, at: command.at },
      }, { serial: command.serial });
    case 'RecordVerification':
      notInFuture(world, meta, command.notifiedAt);
      return single(deviceStream(command.serial), {
        type: 'VerificationPassed',
        data: { serial: command.serial, method: command.method, notifiedAt: command.notifiedAt },
      }, { serial: command.serial });
    case 'PurchasePlan':
      return purchase(world, command, meta);
    case 'BindPlan':
      return bind(world, command, meta);
    case 'RenewPlan':
      return renew(world, command, meta);
    case 'PurchaseCarePlus':
      return carePlus(world, command, meta);
    case 'OpenClaim':
      return openClaim(world, command, meta);
    case 'ApproveClaim':
      return approveClaim(world, command, meta);
    case 'DenyClaim':
    case 'CancelClaim':
      return closeClaim(world, command, meta);
    case 'PayClaim':
      return payClaim(world, command, meta);
    case 'FulfilClaim':
      return fulfilClaim(world, command, meta);
    case 'RecordService':
      return recordService(world, command, meta);
    case 'GrantGoodwill':
      return grantGoodwill(world, command, meta);
    case 'CorrectEvent':
      return correct(world, command, meta);
    case 'RegisterServiceCenter':
      return registerServiceCenter(world, command);
    case 'GrantDueExtensions':
      return grantDueExtensions(world, command, meta);
    default: {
      const never: never = command;
      throw new Error(`unknown command ${(never as { type: string }).type}`);
    }
  }
}

/**
 * Streams a command needs, given what is loaded so far. The caller loads them and asks again until
 * nothing new is needed (a device's binding names its plan; the plan names its other units).
 */
export function streamsFor(world: World, command: Command): string[] {
  const streams = new Set<string>();
  const addDevice = (serial: string, withChain: boolean) => {
    for (const s of unitStreams(world, serial, withChain)) streams.add(s);
  };
  const addPlan = (planId: string) => {
    streams.add(planStream(planId));
    for (const s of chainSerials(world, planId)) streams.add(deviceStream(s));
  };
  switch (command.type) {
    case 'ActivateDevice':
    case 'ChangePairing':
    case 'RecordVerification':
      streams.add(deviceStream(command.serial));
      break;
    case 'PurchasePlan':
      streams.add(planStream(command.planId));
      if (command.serial) addDevice(command.serial, false);
      break;
    case 'BindPlan':
      addPlan(command.planId);
      addDevice(command.serial, false);
      break;
    case 'RenewPlan':
    case 'PurchaseCarePlus':
    case 'GrantDueExtensions':
      addPlan(command.planId);
      break;
    case 'OpenClaim':
      addDevice(command.serial, true);
      streams.add(serviceCenterStream(command.serviceCenterId));
      break;
    case 'ApproveClaim':
    case 'DenyClaim':
    case 'CancelClaim':
    case 'PayClaim':
      addPlan(command.planId);
      break;
    case 'FulfilClaim':
      addPlan(command.planId);
      addDevice(command.replacementSerial, false);
      break;
    case 'RecordService':
    case 'GrantGoodwill':
      addDevice(command.serial, true);
      break;
    case 'CorrectEvent':
      streams.add(command.streamId);
      break;
    case 'RegisterServiceCenter':
      streams.add(serviceCenterStream(command.centerId));
      break;
  }
  return [...streams];
}

/**
 * Streams that describe a unit: its own, the plans it was ever bound to, and (withChain) the other
 * units of those plans, whose activation and pairings the chain inherits.
 */
export function unitStreams(world: World, serial: string, withChain = true): string[] {
  const streams = new Set<string>([deviceStream(serial)]);
  for (const f of ofType(world.device(serial), 'DeviceBoundToPlan')) {
    streams.add(planStream(f.event.data.planId));
    if (withChain) for (const s of chainSerials(world, f.event.data.planId)) streams.add(deviceStream(s));
  }
  return [...streams];
}

// ---------------------------------------------------------------------------------------------
// helpers

function single(streamId: string, event: DomainEvent, resource: Record<string, string>, answer: Record<string, unknown> = {}): Decision {
  return { appends: [{ streamId, events: [event] }], primary: [0, 0], resource, answer };
}

function repeat(facts: Fact[], resource: Record<string, string>, answer: Record<string, unknown> = {}): Decision {
  return { appends: [], primary: [0, 0], resource, answer, repeatOf: facts };
}

/** T4: a business instant beyond the tolerated clock skew is refused. */
function notInFuture(world: World, meta: CommandMeta, ...instants: (string | null | undefined)[]): void {
  const limit = meta.now + world.catalogue.rules.futureSkewMinutes * 60_000;
  for (const value of instants) {
    if (value && instantMs(value) > limit) {
      throw new Refusal('OccurredInFuture', `${value} is in the future.`);
    }
  }
}

function requireChain(world: World, planId: string): Chain {
  const chain = buildChain(world, planId);
  if (!chain) throw new NotFound('PlanNotFound', `No plan ${planId}.`);
  return chain;
}

function requireClaim(chain: Chain, claimId: string): ClaimState {
  const claim = chain.claims.find((c) => c.claimId === claimId);
  if (!claim) throw new NotFound('ClaimNotFound', `No claim ${claimId}.`);
  return claim;
}

function notBefore(field: string, value: string, earliestMs: number, earliestLabel: string): void {
  if (instantMs(value) < earliestMs) {
    throw new InvalidCommand([{ field, message: `must not be before ${earliestLabel}` }]);
  }
}

/** C5: a region outside the catalogue's sales regions is not a value the domain can reason about. */
function knownRegion(world: World, region: string): void {
  if (!Object.prototype.hasOwnProperty.call(world.catalogue.data.regions, region)) {
    throw new InvalidCommand([{ field: 'region', message: `must be one of ${Object.keys(world.catalogue.data.regions).join(', ')}` }]);
  }
}

/** A reservation of this unit for another plan that is young enough to still be in flight. */
function inFlightReservation(world: World, serial: string, exceptPlanId: string, nowMs: number): string | null {
  const confirmed = new Set(confirmedBindings(world, serial).map((b) => b.fact.eventId));
  for (const f of ofType(world.device(serial), 'DeviceBoundToPlan')) {
    if (confirmed.has(f.eventId) || f.event.data.planId === exceptPlanId) continue;
    if (nowMs - f.recordedMs < RESERVATION_LEASE_MS) return f.event.data.planId;
  }
  return null;
}

function ownReservation(world: World, serial: string, planId: string, claimId: string | null): boolean {
  return ofType(world.device(serial), 'DeviceBoundToPlan').some(
    (f) => f.event.data.planId === planId && f.event.data.claimId === claimId,
  );
}

/**
 * RULES P3 and P7 for a unit about to be bound to `planId`: refused if it holds (or ever held) a
 * chain, or another plan's reservation of it is still in flight.
 */
function checkUnitIsFree(world: World, serial: string, planId: string, nowMs: number): void {
  const bindings = confirmedBindings(world, serial).filter((b) => b.planId !== planId);
  const current = bindings.length > 0 ? bindings[bindings.length - 1] : null;
  if (current && current.via === 'replacement') {
    const chain = buildChain(world, current.planId);
    const holder = chain ? chain.units[chain.units.length - 1] : null;
    if (holder?.serial === serial) {
      throw new Refusal('AlreadyCoveredByInheritedPlan', `${serial} already holds plan ${current.planId} as a replacement unit.`);
    }
  }
  if (current) throw new Refusal('AlreadyBound', `${serial} was bound to plan ${current.planId}; a unit is bound once in its life.`);
  const inFlight = inFlightReservation(world, serial, planId, nowMs);
  if (inFlight) throw new Refusal('AlreadyBound', `${serial} is being bound to plan ${inFlight}.`);
}

/** P5: the product was bought (activated) in the plan's region and is the plan's model. */
function checkRegion(world: World, serial: string, model: string, region: Region): void {
  const activation = ofType(world.device(serial), 'DeviceActivated')[0];
  if (!activation) return;
  if (activation.event.data.region !== region) {
    throw new Refusal('RegionMismatch', `${serial} was sold in ${activation.event.data.region}, the plan in ${region}.`);
  }
  const catalogue = world.catalogue;
  if (catalogue.findModel(activation.event.data.model)?.name !== catalogue.model(model).name) {
    throw new Refusal('ModelMismatch', `${serial} is a ${activation.event.data.model}, the plan is for ${model}.`);
  }
}

function planYear2Grant(chain: Chain, at: string): DomainEvent | null {
  const first = chain.terms[0];
  if (!first || first.kind !== '2y') return null;
  return {
    type: 'WarrantyExtensionGranted',
    data: {
      kind: 'plan-year-2',
      planId: chain.planId,
      serial: null,
      from: addMonths(first.window.from, 12),
      until: first.window.until,
      at,
      months: 12,
      reason: null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// device facts

function activate(world: World, c: Extract<Command, { type: 'ActivateDevice' }>, meta: CommandMeta): Decision {
  knownRegion(world, c.region);
  notInFuture(world, meta, c.activatedAt);
  const model = world.catalogue.model(c.model);
  const existing = ofType(world.device(c.serial), 'DeviceActivated')[0];
  if (existing) {
    const d = existing.event.data;
    if (d.model === model.name && d.region === c.region && instantMs(d.activatedAt) === instantMs(c.activatedAt)) {
      return repeat([existing], { serial: c.serial });
    }
    throw new StateConflict('AlreadyActivated', `${c.serial} was activated at ${d.activatedAt}; correct that event instead.`);
  }
  return single(deviceStream(c.serial), {
    type: 'DeviceActivated',
    data: { serial: c.serial, model: model.name, region: c.region, activatedAt: c.activatedAt },
  }, { serial: c.serial });
}

// ---------------------------------------------------------------------------------------------
// plans

function purchase(world: World, c: Extract<Command, { type: 'PurchasePlan' }>, meta: CommandMeta): Decision {
  const existing = ofType(world.plan(c.planId), 'PlanPurchased')[0];
  if (existing) {
    if (existing.event.data.orderId === c.orderId) return repeat([existing], { planId: c.planId });
    throw new StateConflict('PlanAlreadyExists', `Plan ${c.planId} exists with another order.`);
  }
  if ((c.channel === 'bundle' || c.channel === 'online') && !c.serial) {
    throw new InvalidCommand([{ field: 'serial', message: `serial is required for ${c.channel} plans` }]);
  }
  knownRegion(world, c.region);
  notInFuture(world, meta, c.purchasedAt, c.deliveredAt);
  const catalogue = world.catalogue;
  const model = catalogue.model(c.model);
  if (c.term !== '1y' && c.term !== '2y') throw new Refusal('UnknownPlan', `No plan "${c.term}".`);
  if (!model.plans.includes(c.term)) throw new Refusal('UnknownPlan', `${model.name} has no ${c.term} plan.`);
  const tMs = instantMs(c.purchasedAt);
  const appends: Append[] = [];
  if (c.serial) {
    checkUnitIsFree(world, c.serial, c.planId, meta.now);
    checkRegion(world, c.serial, model.name, c.region);
    const refusal = firstPurchaseRefusal(world, c.serial, model.name, tMs);
    if (refusal) throw refusal;
    if (!ownReservation(world, c.serial, c.planId, null)) {
      appends.push({
        streamId: deviceStream(c.serial),
        events: [{ type: 'DeviceBoundToPlan', data: { serial: c.serial, planId: c.planId, via: 'purchase', at: c.purchasedAt, claimId: null } }],
      });
    }
  }
  const purchased: DomainEvent = {
    type: 'PlanPurchased',
    data: {
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
    },
  };
  const planEvents: DomainEvent[] = [purchased];
  const chain = buildChain(new World(catalogue, [...world.facts, pseudoFact(planStream(c.planId), purchased)]), c.planId)!;
  const grant = planYear2Grant(chain, c.purchasedAt);
  if (grant) planEvents.push(grant);
  appends.push({ streamId: planStream(c.planId), events: planEvents });
  return { appends, primary: [appends.length - 1, 0], resource: { planId: c.planId }, answer: planAnswer(chain) };
}

function bind(world: World, c: Extract<Command, { type: 'BindPlan' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const p = chain.purchase.event.data;
  if (chain.binding) {
    const b = chain.binding.event.data;
    if (b.serial === c.serial && instantMs(b.boundAt) === instantMs(c.boundAt)) return repeat([chain.binding], { planId: c.planId });
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
  const bound: DomainEvent = { type: 'PlanBound', data: { planId: c.planId, serial: c.serial, boundAt: c.boundAt } };
  const after = buildChain(new World(world.catalogue, [...world.facts, pseudoFact(planStream(c.planId), bound)]), c.planId)!;
  const planEvents: DomainEvent[] = [bound];
  const grant = planYear2Grant(after, c.boundAt);
  if (grant) planEvents.push(grant);
  appends.push({ streamId: planStream(c.planId), events: planEvents });
  return { appends, primary: [appends.length - 1, 0], resource: { planId: c.planId }, answer: planAnswer(after) };
}

function renew(world: World, c: Extract<Command, { type: 'RenewPlan' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const same = chain.extensions.find((f) => f.event.data.orderId === c.orderId);
  if (same) return repeat([same], { planId: c.planId }, planAnswer(chain));
  notInFuture(world, meta, c.purchasedAt);
  const rules = world.catalogue.rules;
  const refusal = renewalRefusal(chain, instantMs(c.purchasedAt), c.term, rules.renewalGraceDays, rules.maxChainMonths);
  if (refusal) throw refusal;
  const renewed: DomainEvent = {
    type: 'PlanRenewed',
    data: { planId: c.planId, term: '1y', purchasedAt: c.purchasedAt, orderId: c.orderId, price: c.price },
  };
  const after = buildChain(new World(world.catalogue, [...world.facts, pseudoFact(planStream(c.planId), renewed)]), c.planId)!;
  return single(planStream(c.planId), renewed, { planId: c.planId }, planAnswer(after));
}

function carePlus(world: World, c: Extract<Command, { type: 'PurchaseCarePlus' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const same = chain.extensions.find((f) => f.event.data.orderId === c.orderId);
  if (same) return repeat([same], { planId: c.planId }, planAnswer(chain));
  notInFuture(world, meta, c.purchasedAt);
  const refusal = carePlusRefusal(chain, instantMs(c.purchasedAt), world.catalogue.rules.maxChainMonths);
  if (refusal) throw refusal;
  const bought: DomainEvent = {
    type: 'CarePlusPurchased',
    data: { planId: c.planId, purchasedAt: c.purchasedAt, orderId: c.orderId, price: c.price },
  };
  const after = buildChain(new World(world.catalogue, [...world.facts, pseudoFact(planStream(c.planId), bought)]), c.planId)!;
  const term = after.terms[after.terms.length - 1];
  const grant: DomainEvent = {
    type: 'WarrantyExtensionGranted',
    data: {
      kind: 'care-plus', planId: c.planId, serial: null, from: term.window.from, until: term.window.until,
      at: c.purchasedAt, months: 12, reason: null,
    },
  };
  return { appends: [{ streamId: planStream(c.planId), events: [bought, grant] }], primary: [0, 0], resource: { planId: c.planId }, answer: planAnswer(after) };
}

function planAnswer(chain: Chain): Record<string, unknown> {
  return {
    policyVersion: chain.policy.id,
    status: chain.effective ? 'effective' : 'pending',
    chain: chain.terms.map((t) => ({ kind: t.kind, from: t.window.from, until: t.window.until })),
  };
}

// ---------------------------------------------------------------------------------------------
// claims

function checkCauseMatchesKind(kind: string, cause: string, excluded: string[]): void {
  if (excluded.includes(cause)) return; // answered by R5
  if (kind === 'damage' && cause === 'flyaway') {
    throw new InvalidCommand([{ field: 'cause', message: 'a flyaway is claimed with kind "flyaway"' }]);
  }
  if (kind === 'flyaway' && cause !== 'flyaway' && cause !== 'other') {
    throw new InvalidCommand([{ field: 'cause', message: `a flyaway claim cannot have cause "${cause}"` }]);
  }
}

function openClaim(world: World, c: Extract<Command, { type: 'OpenClaim' }>, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.incidentAt, c.openedAt);
  notBefore('openedAt', c.openedAt, instantMs(c.incidentAt), 'incidentAt');
  checkCauseMatchesKind(c.kind, c.cause, world.catalogue.rules.excludedCauses);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? buildChain(world, binding.planId) : null;
  if (chain) {
    const same = chain.claims.find((x) => x.claimId === c.claimId);
    if (same) return repeat([same.opened], { claimId: c.claimId, planId: chain.planId }, { status: same.status });
  }
  const center = ofType(world.stream(serviceCenterStream(c.serviceCenterId)), 'ServiceCenterRegistered');
  const serviceRegion = center.length > 0 ? center[center.length - 1].event.data.region : null;
  const input: ClaimInput = {
    serial: c.serial,
    kind: c.kind,
    cause: c.cause,
    incidentMs: instantMs(c.incidentAt),
    openedMs: instantMs(c.openedAt),
    express: c.express,
    flightRecordsSynced: c.flightRecordsSynced,
    serviceRegion,
  };
  const refusal = claimRefusal(world, chain, input, { unitCheckMs: input.openedMs });
  if (refusal) throw refusal;
  return single(planStream(chain!.planId), {
    type: 'ClaimOpened',
    data: {
      claimId: c.claimId,
      planId: chain!.planId,
      claimRef: c.claimRef,
      serial: c.serial,
      kind: c.kind,
      cause: c.cause,
      incidentAt: c.incidentAt,
      openedAt: c.openedAt,
      serviceCenterId: c.serviceCenterId,
      serviceRegion,
      express: c.express,
      flightRecordsSynced: c.flightRecordsSynced,
    },
  }, { claimId: c.claimId, planId: chain!.planId }, { status: 'open' });
}

function stateConflict(claim: ClaimState, action: string): StateConflict {
  return new StateConflict('InvalidClaimState', `Claim ${claim.claimId} is ${claim.status}; it cannot be ${action}.`);
}

function approveClaim(world: World, c: Extract<Command, { type: 'ApproveClaim' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'open') {
    if (claim.approved && instantMs(claim.approved.event.data.at) === instantMs(c.at) && claim.status === 'approved') {
      const { fee, ordinal } = claim.approved.event.data;
      return repeat([claim.approved], { claimId: c.claimId, planId: c.planId }, { fee, ordinal, status: claim.status });
    }
    throw stateConflict(claim, 'approved');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, claim.openedMs, 'the claim was opened');
  const refusal = claimRefusal(world, chain, claimInputOf(claim), { unitCheckMs: instantMs(c.at), except: claim.claimId });
  if (refusal) throw refusal;
  const term = chain.terms[claim.termIndex!];
  const ordinal = quotaBalance(chain, term, claim.claimId).used + 1;
  const fee = feeFor(world, chain, claim.data.kind, ordinal);
  return single(planStream(chain.planId), {
    type: 'ClaimApproved',
    data: { claimId: c.claimId, at: c.at, ordinal, fee },
  }, { claimId: c.claimId, planId: c.planId }, { fee, ordinal, status: 'approved' });
}

function closeClaim(world: World, c: Extract<Command, { type: 'DenyClaim' | 'CancelClaim' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  const deny = c.type === 'DenyClaim';
  const allowed = deny ? ['open', 'approved'] : ['open', 'approved', 'paid'];
  if (!allowed.includes(claim.status)) {
    const done = deny ? claim.denied : claim.cancelled;
    if (done && instantMs(done.event.data.at) === instantMs(c.at)) {
      return repeat([done], { claimId: c.claimId, planId: c.planId }, { status: claim.status });
    }
    throw stateConflict(claim, deny ? 'denied' : 'cancelled');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, claim.openedMs, 'the claim was opened');
  return single(planStream(chain.planId), {
    type: deny ? 'ClaimDenied' : 'ClaimCancelled',
    data: { claimId: c.claimId, at: c.at, reason: c.reason },
  }, { claimId: c.claimId, planId: c.planId }, { status: deny ? 'denied' : 'cancelled' });
}

function payClaim(world: World, c: Extract<Command, { type: 'PayClaim' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'approved') {
    const paid = claim.payments[0];
    if (paid && instantMs(paid.event.data.at) === instantMs(c.at) && sameAmount(paid.event.data.amount, c.amount)) {
      return repeat([paid], { claimId: c.claimId, planId: c.planId }, { status: claim.status });
    }
    throw stateConflict(claim, 'paid');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, instantMs(claim.approved!.event.data.at), 'the approval');
  const fee = claim.approved!.event.data.fee;
  if (c.currency !== fee.currency || !sameAmount(c.amount, fee.amount)) {
    throw new Refusal('PaymentMismatch', `The fee is ${fee.amount} ${fee.currency}; ${c.amount} ${c.currency} was offered.`);
  }
  return single(planStream(chain.planId), {
    type: 'ClaimPaid',
    data: { claimId: c.claimId, at: c.at, amount: fee.amount, currency: fee.currency },
  }, { claimId: c.claimId, planId: c.planId }, { status: 'paid' });
}

function sameAmount(a: string, b: string): boolean {
  return Number(a) === Number(b);
}

function fulfilClaim(world: World, c: Extract<Command, { type: 'FulfilClaim' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'paid') {
    if (claim.fulfilled && claim.fulfilled.event.data.replacementSerial === c.replacementSerial) {
      return repeat([claim.fulfilled], { claimId: c.claimId, planId: c.planId }, { status: 'fulfilled' });
    }
    if (claim.status === 'approved') {
      throw new StateConflict('PaymentRequired', `Claim ${c.claimId} is approved but its fee is not paid yet (R9: the unit ships once the fee is paid).`);
    }
    throw stateConflict(claim, 'fulfilled');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, instantMs(claim.payments[0].event.data.at), 'the payment');
  const atMs = instantMs(c.at);
  const holder = unitAt(chain, atMs);
  if (!holder || holder.serial !== claim.data.serial) {
    throw new Refusal('DeviceNotCovered', `${claim.data.serial} no longer holds plan ${chain.planId}.`);
  }
  // A fulfilment reported late (dated before a replacement already recorded) must not issue a
  // second unit for the same one: the chain would fork (I1, I2).
  const current = currentUnit(chain);
  if (current && current.serial !== claim.data.serial) {
    throw new Refusal('DeviceNotCovered', `${claim.data.serial} was already replaced by ${current.serial} on plan ${chain.planId}.`);
  }
  if (chain.units.some((u) => u.serial === c.replacementSerial)) {
    throw new Refusal('AlreadyBound', `${c.replacementSerial} already held plan ${chain.planId}.`);
  }
  checkUnitIsFree(world, c.replacementSerial, chain.planId, meta.now);
  const appends: Append[] = [];
  if (!ownReservation(world, c.replacementSerial, chain.planId, c.claimId)) {
    appends.push({
      streamId: deviceStream(c.replacementSerial),
      events: [{
        type: 'DeviceBoundToPlan',
        data: { serial: c.replacementSerial, planId: chain.planId, via: 'replacement', at: c.at, claimId: c.claimId },
      }],
    });
  }
  const fulfilled: ClaimFulfilled = {
    type: 'ClaimFulfilled',
    data: { claimId: c.claimId, at: c.at, serial: claim.data.serial, replacementSerial: c.replacementSerial },
  };
  appends.push({ streamId: planStream(chain.planId), events: [fulfilled] });
  return {
    appends,
    primary: [appends.length - 1, 0],
    resource: { claimId: c.claimId, planId: c.planId },
    answer: { status: 'fulfilled', replacementSerial: c.replacementSerial },
  };
}

// ---------------------------------------------------------------------------------------------
// service records and goodwill

function recordService(world: World, c: Extract<Command, { type: 'RecordService' }>, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.at);
  const atMs = instantMs(c.at);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? buildChain(world, binding.planId) : null;
  const holds = chain ? unitAt(chain, atMs)?.serial === c.serial : false;
  const record = (planId: string | null): DomainEvent => ({
    type: 'ServiceRecorded',
    data: { serial: c.serial, planId, kind: c.kind, at: c.at, serviceCenterId: c.serviceCenterId },
  });
  if (!chain || !holds) {
    if (c.kind !== 'warranty-repair') {
      throw new Refusal('DeviceNotCovered', `${c.serial} holds no plan at ${c.at}; ${c.kind} is a plan benefit.`);
    }
    const activation = ofType(world.device(c.serial), 'DeviceActivated')[0] ?? null;
    const model = activation ? world.catalogue.findModel(activation.event.data.model) : undefined;
    const official = model && activation ? officialWarranty(world, model, activation.event.data.region, activation) : null;
    if (!official || atMs < official.fromMs || atMs >= official.untilMs) {
      throw new Refusal('NotUnderWarranty', `${c.serial} is not under warranty at ${c.at}.`);
    }
    return single(deviceStream(c.serial), record(null), { serial: c.serial });
  }
  if (c.kind === 'warranty-repair') {
    const until = coveredUntilAt(world, chain, atMs);
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
  return single(planStream(chain.planId), record(chain.planId), { serial: c.serial, planId: chain.planId });
}

function grantGoodwill(world: World, c: Extract<Command, { type: 'GrantGoodwill' }>, meta: CommandMeta): Decision {
  if (!Number.isInteger(c.months) || c.months < 1 || c.months > 36) {
    throw new InvalidCommand([{ field: 'months', message: 'must be an integer from 1 to 36' }]);
  }
  notInFuture(world, meta, c.at);
  const atMs = instantMs(c.at);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? buildChain(world, binding.planId) : null;
  const activation = ofType(world.device(c.serial), 'DeviceActivated')[0] ?? null;
  const zone = chain?.zone ?? (activation ? world.catalogue.zone(activation.event.data.region) : 'UTC');
  const today = dateInZone(atMs, zone);
  let from: IsoDate = today;
  if (chain) {
    const { until } = coveredUntilAt(world, chain, atMs);
    if (until && until > today) from = until;
  } else if (activation) {
    const model = world.catalogue.findModel(activation.event.data.model);
    const official = model ? officialWarranty(world, model, activation.event.data.region, activation) : null;
    if (official && official.until > today) from = official.until;
  }
  const event: WarrantyExtensionGranted = {
    type: 'WarrantyExtensionGranted',
    data: {
      kind: 'goodwill', planId: chain?.planId ?? null, serial: c.serial, from, until: addMonths(from, c.months),
      at: c.at, months: c.months, reason: c.reason,
    },
  };
  const stream = chain ? planStream(chain.planId) : deviceStream(c.serial);
  return single(stream, event, chain ? { serial: c.serial, planId: chain.planId } : { serial: c.serial }, {
    extension: { kind: 'goodwill', from: event.data.from, until: event.data.until },
  });
}

// ---------------------------------------------------------------------------------------------
// corrections, directory, sweeps

function correct(world: World, c: Extract<Command, { type: 'CorrectEvent' }>, meta: CommandMeta): Decision {
  const target = world.stream(c.streamId).find((f) => f.eventId === c.eventId);
  if (!target) {
    // Corrections are not facts of the world: tell a correction, a voided event and an unknown id apart.
    if (world.known.corrections.some((f) => f.eventId === c.eventId)) {
      throw new Refusal('NotCorrectable', 'A correction cannot be corrected; record a new correction of the original event.');
    }
    if (world.known.voided.has(c.eventId)) throw new StateConflict('AlreadyVoided', `Event ${c.eventId} is already voided.`);
    throw new NotFound('EventNotFound', `No event ${c.eventId} in ${c.streamId}.`);
  }
  const type = target.event.type;
  if (type === 'EventCorrected' || type === 'DeviceBoundToPlan') {
    throw new Refusal('NotCorrectable', type === 'EventCorrected'
      ? 'A correction cannot be corrected; record a new correction of the original event.'
      : 'A unit binding follows its plan event: correct the purchase, binding or fulfilment instead.');
  }
  let amendment: Record<string, unknown> | null = null;
  if (c.action === 'amend') {
    if (!c.amendment || Object.keys(c.amendment).length === 0) {
      throw new InvalidCommand([{ field: 'amendment', message: 'an amend correction needs the fields to change' }]);
    }
    amendment = validateAmendment(world.catalogue, type, c.amendment);
    notInFuture(world, meta, ...Object.values(amendment).filter(isInstant)); // T4, as for the original fact
    if (type === 'PlanPurchased' && typeof amendment.term === 'string') checkAmendedTerm(world, target as Fact<PlanPurchased>, amendment.term as PlanTerm);
  } else if (c.amendment) {
    throw new InvalidCommand([{ field: 'amendment', message: 'a void correction takes no amendment' }]);
  }
  return single(c.streamId, {
    type: 'EventCorrected',
    data: { targetEventId: c.eventId, targetType: type, action: c.action, reason: c.reason, amendment },
  }, { eventId: c.eventId });
}

/** P1/P2 still hold for the chain once its first plan's term is corrected (renewals are voided first). */
function checkAmendedTerm(world: World, purchase: Fact<PlanPurchased>, term: PlanTerm): void {
  const model = world.catalogue.findModel(purchase.event.data.model);
  if (model && !model.plans.includes(term)) throw new Refusal('UnknownPlan', `${model.name} has no ${term} plan.`);
  const kinds: TermKind[] = [term];
  for (const f of world.stream(purchase.streamId)) {
    if (f.event.type === 'PlanRenewed') kinds.push('renewal');
    if (f.event.type === 'CarePlusPurchased') kinds.push('care-plus');
  }
  if (!fitsChain(kinds, world.catalogue.rules.maxChainMonths)) {
    const code = term === '2y' && kinds.includes('care-plus') ? 'NotAllowedWith2YearPlan' : 'MaxTermExceeded';
    throw new Refusal(code, `As a ${term} plan the chain would be ${kinds.join('+')}; void the renewals or Care Refresh+ first.`);
  }
}

function registerServiceCenter(world: World, c: Extract<Command, { type: 'RegisterServiceCenter' }>): Decision {
  knownRegion(world, c.region);
  const stream = serviceCenterStream(c.centerId);
  const last = ofType(world.stream(stream), 'ServiceCenterRegistered').pop();
  if (last && last.event.data.name === c.name && last.event.data.region === c.region) {
    return repeat([last], { centerId: c.centerId });
  }
  return single(stream, {
    type: 'ServiceCenterRegistered',
    data: { centerId: c.centerId, name: c.name, region: c.region, at: c.at },
  }, { centerId: c.centerId });
}

/**
 * W5: record the warranty extensions whose condition has settled by `now`: plan year 2 once the
 * effective date is known, and the safe-use reward once the first term's window has ended (plus
 * the settlement days for late facts) with no replacement used and no claim of it still open.
 */
function grantDueExtensions(world: World, c: Extract<Command, { type: 'GrantDueExtensions' }>, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const granted = new Set(chain.grants.map((g) => g.event.data.kind));
  const events: DomainEvent[] = [];
  if (c.kinds.includes('plan-year-2') && !granted.has('plan-year-2') && chain.effective) {
    const at = chain.effective.facts[0]?.at ?? chain.terms[0].window.fromMs;
    const grant = planYear2Grant(chain, new Date(Math.min(at, meta.now)).toISOString());
    if (grant) events.push(grant);
  }
  if (c.kinds.includes('safe-use-reward') && !granted.has('safe-use-reward')) {
    const reward = rewardState(world, chain);
    const first = chain.terms[0];
    // Calendar days in the region zone (T2), like the renewal grace: not 24-hour multiples across DST.
    const settleMs = first ? startOfDay(addDays(first.window.until, world.catalogue.rules.rewardSettlementDays), chain.zone) : Infinity;
    if (reward.status === 'pending' && reward.window && meta.now >= settleMs && reward.unsettledClaims.length === 0) {
      events.push({
        type: 'WarrantyExtensionGranted',
        data: {
          kind: 'safe-use-reward', planId: chain.planId, serial: null, from: reward.window.from, until: reward.window.until,
          at: new Date(first!.window.untilMs).toISOString(), months: 12, reason: null,
        },
      });
    }
  }
  return {
    appends: events.length > 0 ? [{ streamId: planStream(chain.planId), events }] : [],
    primary: [0, 0],
    resource: { planId: chain.planId },
    answer: { granted: events.map((e) => (e as WarrantyExtensionGranted).data.kind) },
  };
}

/** Builds a fact for an event not yet stored, to preview the chain a decision would produce. */
function pseudoFact(streamId: string, event: DomainEvent): Fact {
  const t = businessTimeOf(event);
  const at = t === null ? null : instantMs(t);
  return {
    eventId: 'pending',
    streamId,
    revision: -1,
    position: BigInt(Number.MAX_SAFE_INTEGER),
    recordedAt: '',
    recordedMs: Number.POSITIVE_INFINITY,
    actor: '',
    event,
    at,
    amendedBy: [],
  };
}


export type { RefusalCode };
