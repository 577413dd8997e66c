/**
 * Facts of the device aggregate (stream `device-<serial>`): what the device registry reports
 * (activation, pairings, verifications) and the unit's binding to a plan chain, which is also its
 * uniqueness reservation (RULES P3). Service records and extensions of a unit that holds no plan
 * are kept on its stream too.
 */
import type { Region } from '../catalogue/catalogue';
import type { EventCorrected } from '../correction/events';
import type { ServiceRecorded, WarrantyExtensionGranted } from '../plan/events';
import type { IsoInstant } from '../time';

export type PairingKind = 'account' | 'remote-controller';
export type VerificationMethod = 'video' | 'inspection';
export type BindingVia = 'purchase' | 'binding' | 'replacement';

export type DeviceActivated = {
  type: 'DeviceActivated';
  data: { serial: string; model: string; region: Region; activatedAt: IsoInstant };
};
export type DevicePaired = {
  type: 'DevicePaired';
  data: { serial: string; kind: PairingKind; ref: string; at: IsoInstant };
};
export type DeviceUnpaired = {
  type: 'DeviceUnpaired';
  data: { serial: string; kind: PairingKind; ref: string; at: IsoInstant };
};
export type VerificationPassed = {
  type: 'VerificationPassed';
  data: { serial: string; method: VerificationMethod; notifiedAt: IsoInstant };
};
/** The unit's reservation: it is bound to this chain (RULES P3, I1). Confirmed by the plan stream. */
export type DeviceBoundToPlan = {
  type: 'DeviceBoundToPlan';
  data: { serial: string; planId: string; via: BindingVia; at: IsoInstant; claimId: string | null };
};

export type DeviceEvent =
  | DeviceActivated
  | DevicePaired
  | DeviceUnpaired
  | VerificationPassed
  | DeviceBoundToPlan
  | ServiceRecorded
  | WarrantyExtensionGranted
  | EventCorrected;

export const DEVICE_STREAM_PREFIX = 'device-';
export const deviceStream = (serial: string): string => `${DEVICE_STREAM_PREFIX}${serial}`;
