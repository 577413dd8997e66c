/**
 * Facts of the plan-chain aggregate (stream `plan-<planId>`): the purchase, a card plan's binding,
 * renewals and Care Refresh+ (one chain, one planId: RULES W3), service records and warranty
 * extensions of the units that hold it. The chain's claims live on the same stream (claim/events).
 */
import type { Money, PlanTerm, Region } from '../catalogue/catalogue';
import type { ClaimEvent } from '../claim/events';
import type { EventCorrected } from '../correction/events';
import type { IsoInstant } from '../time';

export type Channel = 'bundle' | 'online' | 'card';
export type ServiceKind = 'warranty-repair' | 'discounted-repair' | 'factory-maintenance';
export type ExtensionKind = 'plan-year-2' | 'care-plus' | 'safe-use-reward' | 'goodwill';

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
/** A repair or maintenance at a service center (RULES C9, R8); on the plan stream while a plan covers the unit. */
export type ServiceRecorded = {
  type: 'ServiceRecorded';
  data: { serial: string; planId: string | null; kind: ServiceKind; at: IsoInstant; serviceCenterId: string };
};
/** W5: every warranty extension is its own fact when granted. */
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

export type PlanEvent =
  | PlanPurchased
  | PlanBound
  | PlanRenewed
  | CarePlusPurchased
  | ClaimEvent
  | ServiceRecorded
  | WarrantyExtensionGranted
  | EventCorrected;

export const PLAN_STREAM_PREFIX = 'plan-';
export const planStream = (planId: string): string => `${PLAN_STREAM_PREFIX}${planId}`;
