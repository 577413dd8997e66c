/** Deciders of device facts: activation (with the plan-year-2 extension it settles), pairings, verifications. */
import { StateConflict } from '../codes';
import type { CommandMeta } from '../commands';
import { Append, Decision, knownRegion, notInFuture, repeat, single } from '../decision';
import { DomainEvent } from '../events';
import { originalSerial, secondYearOf, termWindows } from '../plan/chain';
import { planStream, WarrantyExtensionGranted } from '../plan/events';
import { instantMs } from '../time';
import { World } from '../world';
import type { ActivateDevice, ChangePairing, RecordVerification } from './commands';
import { deviceStream } from './events';
import { confirmedBindings } from './rules';
import { activationOf } from './state';

export function activate(world: World, c: ActivateDevice, meta: CommandMeta): Decision {
  knownRegion(world, c.region);
  notInFuture(world, meta, c.activatedAt);
  const model = world.catalogue.model(c.model);
  const existing = activationOf(world.device(c.serial));
  if (existing) {
    const d = existing.event.data;
    if (d.model === model.name && d.region === c.region && instantMs(d.activatedAt) === instantMs(c.activatedAt)) {
      return repeat([existing], { kind: 'device', serial: c.serial });
    }
    throw new StateConflict('AlreadyActivated', `${c.serial} was activated at ${d.activatedAt}; correct that event instead.`);
  }
  const appends: Append[] = [{
    streamId: deviceStream(c.serial),
    events: [{ type: 'DeviceActivated', data: { serial: c.serial, model: model.name, region: c.region, activatedAt: c.activatedAt } }],
  }];
  for (const grant of yearTwoSettledBy(world, c)) appends.push({ streamId: planStream(grant.data.planId!), events: [grant] });
  return { appends, primary: [0, 0], outcome: { kind: 'device', serial: c.serial } };
}

/**
 * W2, W5: a 2-Year bundle waits for its unit's activation to know its effective date (P6); the
 * activation settles the plan-year-2 extension, recorded with it.
 */
function yearTwoSettledBy(world: World, c: ActivateDevice): WarrantyExtensionGranted[] {
  const grants: WarrantyExtensionGranted[] = [];
  for (const binding of confirmedBindings(world, c.serial)) {
    const plan = world.plan(binding.planId);
    const chain = world.chain(binding.planId);
    if (plan.status !== 'purchased' || !chain || originalSerial(plan) !== c.serial) continue;
    if (chain.grants.some((g) => g.event.data.kind === 'plan-year-2')) continue;
    const after = termWindows(world.catalogue, {
      purchase: plan.purchase.event.data,
      boundAt: plan.binding?.event.data.boundAt ?? null,
      activationMs: instantMs(c.activatedAt),
      extensions: [],
    });
    const first = after.windows[0];
    if (!first || first.kind !== '2y') continue;
    const window = secondYearOf(first.window);
    grants.push({
      type: 'WarrantyExtensionGranted',
      data: { kind: 'plan-year-2', planId: binding.planId, serial: null, from: window.from, until: window.until, at: c.activatedAt, months: 12, reason: null },
    });
  }
  return grants;
}

export function changePairing(world: World, c: ChangePairing, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.at);
  const event: DomainEvent = {
    type: c.action === 'bind' ? 'DevicePaired' : 'DeviceUnpaired',
    data: { serial: c.serial, kind: c.kind, ref: c.ref, at: c.at },
  };
  return single(deviceStream(c.serial), event, { kind: 'device', serial: c.serial });
}

export function recordVerification(world: World, c: RecordVerification, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.notifiedAt);
  return single(deviceStream(c.serial), {
    type: 'VerificationPassed',
    data: { serial: c.serial, method: c.method, notifiedAt: c.notifiedAt },
  }, { kind: 'device', serial: c.serial });
}
