/**
 * The domain's front door for commands: which streams a command needs (streamsFor), and the
 * decider that answers it (decide). Each decider lives with its aggregate; when several rules
 * refuse one command, the first in RULES R10's order answers.
 */
import { activate, changePairing, recordVerification } from './device/decide';
import { deviceStream } from './device/events';
import { bindingsOf } from './device/state';
import { registerServiceCenter } from './center/decide';
import { serviceCenterStream } from './center/events';
import { approveClaim, closeClaim, fulfilClaim, openClaim, payClaim } from './claim/decide';
import { Command, CommandMeta } from './commands';
import { correct } from './correction/decide';
import { Decision } from './decision';
import { chainSerials } from './plan/chain';
import { bind, carePlus, grantDueExtensions, grantGoodwill, purchase, recordService, renew } from './plan/decide';
import { planStream } from './plan/events';
import { World } from './world';

export function decide(world: World, command: Command, meta: CommandMeta): Decision {
  switch (command.type) {
    case 'ActivateDevice':
      return activate(world, command, meta);
    case 'ChangePairing':
      return changePairing(world, command, meta);
    case 'RecordVerification':
      return recordVerification(world, command, meta);
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
      return registerServiceCenter(world, command, meta);
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
    const plan = world.plan(planId);
    if (plan.status === 'purchased') for (const s of chainSerials(plan)) streams.add(deviceStream(s));
  };
  switch (command.type) {
    case 'ChangePairing':
    case 'RecordVerification':
      streams.add(deviceStream(command.serial));
      break;
    case 'ActivateDevice':
      addDevice(command.serial, false);
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
    case 'ApproveClaim':
    case 'DenyClaim':
    case 'CancelClaim':
    case 'PayClaim':
      addPlan(command.planId);
      break;
    case 'OpenClaim':
      addDevice(command.serial, true);
      streams.add(serviceCenterStream(command.serviceCenterId));
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
    default: {
      const never: never = command;
      throw new Error(`unknown command ${(never as { type: string }).type}`);
    }
  }
  return [...streams];
}

/**
 * Streams that describe a unit: its own, the plans it was ever bound to, and (withChain) the other
 * units of those plans, whose activation and pairings the chain inherits.
 */
export function unitStreams(world: World, serial: string, withChain = true): string[] {
  const streams = new Set<string>([deviceStream(serial)]);
  for (const f of bindingsOf(world.device(serial))) {
    streams.add(planStream(f.event.data.planId));
    const plan = world.plan(f.event.data.planId);
    if (withChain && plan.status === 'purchased') for (const s of chainSerials(plan)) streams.add(deviceStream(s));
  }
  return [...streams];
}
