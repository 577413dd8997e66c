/**
 * Rules about a unit itself: may it start a plan chain (P3 once in its life, P4 the purchase
 * window, P5 region and model, P7 not already holding an inherited plan), which chain holds it, and
 * its pairings (R4). Each predicate names its RULES id.
 */
import { Region } from '../catalogue/catalogue';
import { Refusal } from '../codes';
import { Fact } from '../facts';
import { DAY_MS, HOUR_MS } from '../time';
import { World } from '../world';
import { BindingVia, DeviceBoundToPlan, PairingKind } from './events';
import { activationOf, bindingsOf } from './state';

/** P3: how long an unconfirmed reservation (its plan write not seen yet) still blocks others. */
export const RESERVATION_LEASE_MS = 60_000;

export interface Binding {
  planId: string;
  via: BindingVia;
  fact: Fact<DeviceBoundToPlan>;
}

/**
 * P3, I1: the unit's bindings that the plan stream confirms (a reservation whose plan write never
 * happened, or whose purchase was voided, does not count), oldest first.
 */
export function confirmedBindings(world: World, serial: string): Binding[] {
  const result: Binding[] = [];
  for (const f of bindingsOf(world.device(serial))) {
    const { planId, via, claimId } = f.event.data;
    if (confirms(world, planId, serial, via, claimId)) result.push({ planId, via, fact: f });
  }
  return result;
}

export function currentBinding(world: World, serial: string): Binding | null {
  const all = confirmedBindings(world, serial);
  return all.length > 0 ? all[all.length - 1] : null;
}

function confirms(world: World, planId: string, serial: string, via: BindingVia, claimId: string | null): boolean {
  const plan = world.plan(planId);
  if (plan.status !== 'purchased') return false;
  switch (via) {
    case 'purchase':
      return plan.purchase.event.data.serial === serial;
    case 'binding':
      return plan.binding?.event.data.serial === serial;
    case 'replacement':
      return plan.fulfilments.some((f) => f.event.data.replacementSerial === serial && (claimId === null || f.event.data.claimId === claimId));
  }
}

/** P3: a reservation of this unit for another plan that is young enough to still be in flight. */
function inFlightReservation(world: World, serial: string, exceptPlanId: string, nowMs: number): string | null {
  const confirmed = new Set(confirmedBindings(world, serial).map((b) => b.fact.eventId));
  for (const f of bindingsOf(world.device(serial))) {
    if (confirmed.has(f.eventId) || f.event.data.planId === exceptPlanId) continue;
    if (nowMs - f.recordedMs < RESERVATION_LEASE_MS) return f.event.data.planId;
  }
  return null;
}

/** The unit already carries this plan's reservation (a retried command after a partial append). */
export function ownReservation(world: World, serial: string, planId: string, claimId: string | null): boolean {
  return bindingsOf(world.device(serial)).some((f) => f.event.data.planId === planId && f.event.data.claimId === claimId);
}

/**
 * P3 and P7 for a unit about to be bound to `planId`: refused if it holds (or ever held) a chain,
 * or another plan's reservation of it is still in flight.
 */
export function checkUnitIsFree(world: World, serial: string, planId: string, nowMs: number): void {
  const bindings = confirmedBindings(world, serial).filter((b) => b.planId !== planId);
  const current = bindings.length > 0 ? bindings[bindings.length - 1] : null;
  if (current && current.via === 'replacement') {
    const chain = world.chain(current.planId);
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
export function checkRegion(world: World, serial: string, model: string, region: Region): void {
  const activation = activationOf(world.device(serial));
  if (!activation) return;
  if (activation.event.data.region !== region) {
    throw new Refusal('RegionMismatch', `${serial} was sold in ${activation.event.data.region}, the plan in ${region}.`);
  }
  const catalogue = world.catalogue;
  if (catalogue.findModel(activation.event.data.model)?.name !== catalogue.model(model).name) {
    throw new Refusal('ModelMismatch', `${serial} is a ${activation.event.data.model}, the plan is for ${model}.`);
  }
}

/** P4: may a first purchase or binding happen at tMs for this unit? */
export function firstPurchaseRefusal(world: World, serial: string, model: string, tMs: number): Refusal | null {
  const catalogue = world.catalogue;
  const rules = catalogue.rules;
  const info = catalogue.model(model);
  const device = world.device(serial);
  if (device.status !== 'known') return null;
  const activation = device.activation && device.activation.at !== null && device.activation.at <= tMs ? device.activation : null;
  if (!activation) return null; // (a) never activated
  const elapsed = tMs - activation.at!;
  const limit = info.category === 'handheld' ? rules.handheldWindowDays * DAY_MS : rules.aircraftWindowHours * HOUR_MS;
  if (elapsed <= limit) return null; // (b), (c)
  const verifications = device.verifications.filter((f) => f.at !== null && f.at <= tMs);
  const window = rules.verificationWindowHours * HOUR_MS;
  if (verifications.some((f) => tMs - f.at! <= window)) return null; // (d), (e)
  if (verifications.length > 0) {
    return new Refusal('VerificationExpired', `The verification's ${rules.verificationWindowHours} h window has elapsed.`);
  }
  const what = info.category === 'handheld' ? `${rules.handheldWindowDays} days` : `${rules.aircraftWindowHours} h`;
  return new Refusal('PurchaseWindowClosed', `${serial} was activated more than ${what} before.`);
}

/** R4: is a device paired (account or controller) strictly before `ms` and not unpaired since? */
export function pairedBefore(world: World, serial: string, kind: PairingKind, ms: number): boolean {
  const device = world.device(serial);
  if (device.status !== 'known') return false;
  const changes = device.pairings
    .filter((f) => f.event.data.kind === kind && f.at !== null && f.at < ms)
    .sort((a, b) => a.at! - b.at! || (a.position < b.position ? -1 : 1));
  const bound = new Set<string>();
  for (const f of changes) {
    if (f.event.type === 'DevicePaired') bound.add(f.event.data.ref);
    else bound.delete(f.event.data.ref);
  }
  return bound.size > 0;
}
