/** Commands: imperative requests, decided against facts. Times are ISO-8601 instants with offsets. */
import type { Money, PlanTerm, Region } from './catalogue/catalogue';
import type { Cause, Channel, ClaimKind, ExtensionKind, PairingKind, ServiceKind, VerificationMethod } from './events';

export type Command =
  | { type: 'ActivateDevice'; serial: string; model: string; region: Region; activatedAt: string }
  | { type: 'ChangePairing'; serial: string; kind: PairingKind; ref: string; action: 'bind' | 'unbind'; at: string }
  | { type: 'RecordVerification'; serial: string; method: VerificationMethod; notifiedAt: string }
  | {
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
    }
  | { type: 'BindPlan'; planId: string; serial: string; boundAt: string }
  | { type: 'RenewPlan'; planId: string; purchasedAt: string; orderId: string; term: string; price: Money | null }
  | { type: 'PurchaseCarePlus'; planId: string; purchasedAt: string; orderId: string; price: Money | null }
  | {
      type: 'OpenClaim';
      claimId: string;
      claimRef: string;
      serial: string;
      kind: ClaimKind;
      cause: Cause;
      incidentAt: string;
      openedAt: string;
      serviceCenterId: string;
      express: boolean;
      flightRecordsSynced: boolean;
    }
  | { type: 'ApproveClaim'; planId: string; claimId: string; at: string }
  | { type: 'DenyClaim'; planId: string; claimId: string; at: string; reason: string }
  | { type: 'CancelClaim'; planId: string; claimId: string; at: string; reason: string }
  | { type: 'PayClaim'; planId: string; claimId: string; at: string; amount: string; currency: string }
  | { type: 'FulfilClaim'; planId: string; claimId: string; at: string; replacementSerial: string }
  | { type: 'RecordService'; serial: string; kind: ServiceKind; at: string; serviceCenterId: string }
  | { type: 'GrantGoodwill'; serial: string; months: number; reason: string; at: string }
  | {
      type: 'CorrectEvent';
      eventId: string;
      streamId: string;
      action: 'void' | 'amend';
      reason: string;
      amendment: Record<string, unknown> | null;
    }
  | { type: 'RegisterServiceCenter'; centerId: string; name: string; region: Region; at: string }
  | { type: 'GrantDueExtensions'; planId: string; kinds: ExtensionKind[] };

export type CommandType = Command['type'];

export interface CommandMeta {
  /** The decision instant (ms since epoch), supplied by the caller: the domain never reads a clock. */
  now: number;
}
