import type { Cause, ClaimKind } from './events';

export type OpenClaim = {
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
};
export type ApproveClaim = { type: 'ApproveClaim'; planId: string; claimId: string; at: string };
export type DenyClaim = { type: 'DenyClaim'; planId: string; claimId: string; at: string; reason: string };
export type CancelClaim = { type: 'CancelClaim'; planId: string; claimId: string; at: string; reason: string };
export type PayClaim = { type: 'PayClaim'; planId: string; claimId: string; at: string; amount: string; currency: string };
export type FulfilClaim = { type: 'FulfilClaim'; planId: string; claimId: string; at: string; replacementSerial: string };

export type ClaimCommand = OpenClaim | ApproveClaim | DenyClaim | CancelClaim | PayClaim | FulfilClaim;
