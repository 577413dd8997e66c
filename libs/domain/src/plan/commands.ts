import type { Money, PlanTerm, Region } from '../catalogue/catalogue';
import type { Channel, ExtensionKind, ServiceKind } from './events';

export type PurchasePlan = {
  type: 'PurchasePlan';
  planId: string;
  term: PlanTerm | string;
  model: string;
  region: Region;
  channel: Channel;
  purchasedAt: string;
  orderId: string;
  serial: string | null;
  deliveredAt: string | null;
  price: Money | null;
};
export type BindPlan = { type: 'BindPlan'; planId: string; serial: string; boundAt: string };
export type RenewPlan = { type: 'RenewPlan'; planId: string; purchasedAt: string; orderId: string; term: string; price: Money | null };
export type PurchaseCarePlus = { type: 'PurchaseCarePlus'; planId: string; purchasedAt: string; orderId: string; price: Money | null };
export type RecordService = { type: 'RecordService'; serial: string; kind: ServiceKind; at: string; serviceCenterId: string };
export type GrantGoodwill = { type: 'GrantGoodwill'; serial: string; months: number; reason: string; at: string };
/** W5: record the extensions whose condition has settled by the decision's `now` (the sweep). */
export type GrantDueExtensions = { type: 'GrantDueExtensions'; planId: string; kinds: ExtensionKind[] };

export type PlanCommand = PurchasePlan | BindPlan | RenewPlan | PurchaseCarePlus | RecordService | GrantGoodwill | GrantDueExtensions;
