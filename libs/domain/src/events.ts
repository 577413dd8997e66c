/**
 * Domain events: past-tense facts as a discriminated union of { type, data }.
 * Streams: `device-<serial>` (facts from the device side, and the unit's binding to a chain),
 * `plan-<planId>` (the plan chain: purchase, renewals, claims, service records, extensions),
 * `service-center-<id>` (the directory). Every event is immutable; corrections are new events.
 */
import type { Money, PlanTerm, Region } from './catalogue/catalogue';
import type { IsoInstant } from './time';

export type Channel = 'bundle' | 'online' | 'card';
export type PairingKind = 'account' | 'remote-controller';
export type VerificationMethod = 'video' | 'inspection';
export type ClaimKind = 'damage' | 'flyaway';
export const CAUSES = [
  'collision', 'water', 'drop', 'crack', 'screen', 'wear', 'flyaway', 'loss', 'theft', 'abandonment',
  'intentional', 'cosmetic', 'force-majeure', 'modification', 'other',
] as const;
export type Cause = (typeof CAUSES)[number];
export type ServiceKind = 'warranty-repair' | 'discounted-repair' | 'factory-maintenance';
export type ExtensionKind = 'plan-year-2' | 'care-plus' | 'safe-use-reward' | 'goodwill';
export type BindingVia = 'purchase' | 'binding' | 'replacement';

// ---- device stream -------------------------------------------------------------------------
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

// ---- plan stream ---------------------------------------------------------------------------
export type PlanPurchased = {
  type: 'PlanPurchased';
  data: {
    planId: string;
    term: PlanTerm;
    model: string;
    region: Region;
    channel: Channel;
    purchasedAt: IsoInstant;
    orderId: string;
    serial: string | null;
    deliveredAt: IsoInstant | null;
    price: Money | null;
  };
};
export type PlanBound = { type: 'PlanBound'; data: { planId: string; serial: string; boundAt: IsoInstant } };
export type PlanRenewed = {
  type: 'PlanRenewed';
  data: { planId: string; term: '1y'; purchasedAt: IsoInstant; orderId: string; price: Money | null };
};
export type CarePlusPurchased = {
  type: 'CarePlusPurchased';
  data: { planId: string; purchasedAt: IsoInstant; orderId: string; price: Money | null };
};
export type ClaimOpened = {
  type: 'ClaimOpened';
  data: {
    claimId: string;
    planId: string;
    claimRef: string;
    serial: string;
    kind: ClaimKind;
    cause: Cause;
    incidentAt: IsoInstant;
    openedAt: IsoInstant;
    serviceCenterId: string;
    serviceRegion: Region | null;
    express: boolean;
    flightRecordsSynced: boolean;
  };
};
export type ClaimApproved = {
  type: 'ClaimApproved';
  data: { claimId: string; at: IsoInstant; ordinal: number; fee: Money };
};
export type ClaimDenied = { type: 'ClaimDenied'; data: { claimId: string; at: IsoInstant; reason: string } };
export type ClaimCancelled = { type: 'ClaimCancelled'; data: { claimId: string; at: IsoInstant; reason: string } };
export type ClaimPaid = {
  type: 'ClaimPaid';
  data: { claimId: string; at: IsoInstant; amount: string; currency: string };
};
/** The replacement unit was issued: coverage moves to `replacementSerial` (RULES I1). */
export type ClaimFulfilled = {
  type: 'ClaimFulfilled';
  data: { claimId: string; at: IsoInstant; serial: string; replacementSerial: string };
};

// ---- either stream -------------------------------------------------------------------------
export type ServiceRecorded = {
  type: 'ServiceRecorded';
  data: { serial: string; planId: string | null; kind: ServiceKind; at: IsoInstant; serviceCenterId: string };
};
export type WarrantyExtensionGranted = {
  type: 'WarrantyExtensionGranted';
  data: {
    kind: ExtensionKind;
    planId: string | null;
    serial: string | null;
    from: string;
    until: string;
    at: IsoInstant;
    months: number | null;
    reason: string | null;
  };
};
/** X1: voids or amends an earlier event of the same stream. Applies from its recordedAt on. */
export type EventCorrected = {
  type: 'EventCorrected';
  data: {
    targetEventId: string;
    targetType: string;
    action: 'void' | 'amend';
    reason: string;
    amendment: Record<string, unknown> | null;
  };
};

// ---- service-center directory --------------------------------------------------------------
export type ServiceCenterRegistered = {
  type: 'ServiceCenterRegistered';
  data: { centerId: string; name: string; region: Region; at: IsoInstant };
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

export type PlanEvent =
  | PlanPurchased
  | PlanBound
  | PlanRenewed
  | CarePlusPurchased
  | ClaimOpened
  | ClaimApproved
  | ClaimDenied
  | ClaimCancelled
  | ClaimPaid
  | ClaimFulfilled
  | ServiceRecorded
  | WarrantyExtensionGranted
  | EventCorrected;

export type DomainEvent = DeviceEvent | PlanEvent | ServiceCenterRegistered;
export type DomainEventType = DomainEvent['type'];

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'DeviceActivated', 'DevicePaired', 'DeviceUnpaired', 'VerificationPassed', 'DeviceBoundToPlan',
  'PlanPurchased', 'PlanBound', 'PlanRenewed', 'CarePlusPurchased', 'ClaimOpened', 'ClaimApproved',
  'ClaimDenied', 'ClaimCancelled', 'ClaimPaid', 'ClaimFulfilled', 'ServiceRecorded',
  'WarrantyExtensionGranted', 'EventCorrected', 'ServiceCenterRegistered',
];

export const deviceStream = (serial: string): string => `device-${serial}`;
export const planStream = (planId: string): string => `plan-${planId}`;
export const serviceCenterStream = (centerId: string): string => `service-center-${centerId}`;

/**
 * When the fact happened in the world (RULES T4), read from its data so that an amendment of the
 * time field moves it. Corrections have no business time of their own: they apply by knownAt.
 */
export function businessTimeOf(event: DomainEvent): IsoInstant | null {
  switch (event.type) {
    case 'DeviceActivated':
      return event.data.activatedAt;
    case 'VerificationPassed':
      return event.data.notifiedAt;
    case 'PlanPurchased':
    case 'PlanRenewed':
    case 'CarePlusPurchased':
      return event.data.purchasedAt;
    case 'PlanBound':
      return event.data.boundAt;
    case 'ClaimOpened':
      return event.data.openedAt;
    case 'DevicePaired':
    case 'DeviceUnpaired':
    case 'DeviceBoundToPlan':
    case 'ClaimApproved':
    case 'ClaimDenied':
    case 'ClaimCancelled':
    case 'ClaimPaid':
    case 'ClaimFulfilled':
    case 'ServiceRecorded':
    case 'WarrantyExtensionGranted':
    case 'ServiceCenterRegistered':
      return event.data.at;
    case 'EventCorrected':
      return null;
    default: {
      const never: never = event;
      throw new Error(`unknown event ${(never as { type: string }).type}`);
    }
  }
}
