/** The device aggregate's state: a fold of its stream's facts (corrections already applied). */
import type { Fact } from '../facts';
import type { ServiceRecorded, WarrantyExtensionGranted } from '../plan/events';
import type {
  DeviceActivated, DeviceBoundToPlan, DeviceEvent, DevicePaired, DeviceUnpaired, VerificationPassed,
} from './events';

export interface KnownDevice {
  status: 'known';
  serial: string;
  /** The first activation (a second one is refused: AlreadyActivated). */
  activation: Fact<DeviceActivated> | null;
  /** Account and remote-controller bindings and unbindings, in log order (RULES R4). */
  pairings: Fact<DevicePaired | DeviceUnpaired>[];
  verifications: Fact<VerificationPassed>[];
  /** Reservations of the unit for plan chains (P3); the plan stream confirms them. */
  bindings: Fact<DeviceBoundToPlan>[];
  /** Service records and extensions recorded while the unit held no plan. */
  services: Fact<ServiceRecorded>[];
  grants: Fact<WarrantyExtensionGranted>[];
}

export type DeviceState = { status: 'unknown'; serial: string } | KnownDevice;

export function initialDeviceState(serial: string): DeviceState {
  return { status: 'unknown', serial };
}

function known(state: DeviceState): KnownDevice {
  return state.status === 'known'
    ? state
    : { status: 'known', serial: state.serial, activation: null, pairings: [], verifications: [], bindings: [], services: [], grants: [] };
}

export function evolveDevice(state: DeviceState, fact: Fact<DeviceEvent>): DeviceState {
  const event = fact.event;
  switch (event.type) {
    case 'DeviceActivated': {
      const s = known(state);
      return s.activation ? s : { ...s, activation: fact as Fact<DeviceActivated> };
    }
    case 'DevicePaired':
    case 'DeviceUnpaired': {
      const s = known(state);
      return { ...s, pairings: [...s.pairings, fact as Fact<DevicePaired | DeviceUnpaired>] };
    }
    case 'VerificationPassed': {
      const s = known(state);
      return { ...s, verifications: [...s.verifications, fact as Fact<VerificationPassed>] };
    }
    case 'DeviceBoundToPlan': {
      const s = known(state);
      return { ...s, bindings: [...s.bindings, fact as Fact<DeviceBoundToPlan>] };
    }
    case 'ServiceRecorded': {
      const s = known(state);
      return { ...s, services: [...s.services, fact as Fact<ServiceRecorded>] };
    }
    case 'WarrantyExtensionGranted': {
      const s = known(state);
      return { ...s, grants: [...s.grants, fact as Fact<WarrantyExtensionGranted>] };
    }
    case 'EventCorrected':
      return state; // applied to the facts before the fold (facts.ts)
    default: {
      const never: never = event;
      throw new Error(`unknown device event ${(never as { type: string }).type}`);
    }
  }
}

export const activationOf = (state: DeviceState): Fact<DeviceActivated> | null => (state.status === 'known' ? state.activation : null);
export const bindingsOf = (state: DeviceState): Fact<DeviceBoundToPlan>[] => (state.status === 'known' ? state.bindings : []);
