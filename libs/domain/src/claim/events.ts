/**
 * Facts of the claim aggregate. A claim's events live on its plan's stream (`plan-<planId>`):
 * quota is per plan term, so every claim of a chain is decided against one revision (RULES R1, R7).
 */
import type { Money, Region } from '../catalogue/catalogue';
import type { IsoInstant } from '../time';

export type ClaimKind = 'damage' | 'flyaway';
export const CAUSES = [
  'collision', 'water', 'drop', 'crack', 'screen', 'wear', 'flyaway', 'loss', 'theft', 'abandonment',
  'intentional', 'cosmetic', 'force-majeure', 'modification', 'other',
] as const;
export type Cause = (typeof CAUSES)[number];

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

export type ClaimEvent = ClaimOpened | ClaimApproved | ClaimDenied | ClaimCancelled | ClaimPaid | ClaimFulfilled;
