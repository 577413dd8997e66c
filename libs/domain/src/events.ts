/**
 * Every domain event, as a discriminated union of `{ type, data }` (one module per aggregate:
 * device/, plan/, claim/, center/, correction/). Events are immutable; corrections are new events.
 */
import type { CenterEvent, ServiceCenterRegistered } from './center/events';
import type { DeviceEvent } from './device/events';
import type { PlanEvent } from './plan/events';
import type { IsoInstant } from './time';

export * from './device/events';
export * from './plan/events';
export * from './claim/events';
export * from './center/events';
export * from './correction/events';

export type DomainEvent = DeviceEvent | PlanEvent | CenterEvent | ServiceCenterRegistered;
export type DomainEventType = DomainEvent['type'];

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'DeviceActivated', 'DevicePaired', 'DeviceUnpaired', 'VerificationPassed', 'DeviceBoundToPlan',
  'PlanPurchased', 'PlanBound', 'PlanRenewed', 'CarePlusPurchased', 'ClaimOpened', 'ClaimApproved',
  'ClaimDenied', 'ClaimCancelled', 'ClaimPaid', 'ClaimFulfilled', 'ServiceRecorded',
  'WarrantyExtensionGranted', 'EventCorrected', 'ServiceCenterRegistered',
];

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
