/**
 * The claim aggregate's state machine: open -> approved (quota reserved, fee fixed) -> paid ->
 * fulfilled, or denied / cancelled. The status is derived from the facts present, so a correction
 * that voids a step shows through (a fulfilled claim whose approval was voided stays fulfilled:
 * X2 flags it).
 */
import type { Fact } from '../facts';
import { instantMs } from '../time';
import type {
  ClaimApproved, ClaimCancelled, ClaimDenied, ClaimEvent, ClaimFulfilled, ClaimOpened, ClaimPaid,
} from './events';

export type ClaimStatus = 'open' | 'approved' | 'paid' | 'fulfilled' | 'denied' | 'cancelled';

export interface ClaimRecord {
  status: ClaimStatus;
  claimId: string;
  data: ClaimOpened['data'];
  incidentMs: number;
  openedMs: number;
  opened: Fact<ClaimOpened>;
  approved: Fact<ClaimApproved> | null;
  denied: Fact<ClaimDenied> | null;
  cancelled: Fact<ClaimCancelled> | null;
  payments: Fact<ClaimPaid>[];
  fulfilled: Fact<ClaimFulfilled> | null;
}

export function openClaimState(fact: Fact<ClaimOpened>): ClaimRecord {
  const data = fact.event.data;
  return {
    status: 'open',
    claimId: data.claimId,
    data,
    incidentMs: instantMs(data.incidentAt),
    openedMs: instantMs(data.openedAt),
    opened: fact,
    approved: null,
    denied: null,
    cancelled: null,
    payments: [],
    fulfilled: null,
  };
}

/** Applies a later fact of the claim (its opening starts the claim: openClaimState). */
export function evolveClaim(claim: ClaimRecord, fact: Fact<Exclude<ClaimEvent, ClaimOpened>>): ClaimRecord {
  const event = fact.event;
  let next: ClaimRecord;
  switch (event.type) {
    case 'ClaimApproved':
      next = { ...claim, approved: fact as Fact<ClaimApproved> };
      break;
    case 'ClaimDenied':
      next = { ...claim, denied: fact as Fact<ClaimDenied> };
      break;
    case 'ClaimCancelled':
      next = { ...claim, cancelled: fact as Fact<ClaimCancelled> };
      break;
    case 'ClaimPaid':
      next = { ...claim, payments: [...claim.payments, fact as Fact<ClaimPaid>] };
      break;
    case 'ClaimFulfilled':
      next = { ...claim, fulfilled: fact as Fact<ClaimFulfilled> };
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown claim event ${(never as { type: string }).type}`);
    }
  }
  return { ...next, status: statusOf(next) };
}

function statusOf(c: ClaimRecord): ClaimStatus {
  if (c.fulfilled) return 'fulfilled';
  if (c.cancelled) return 'cancelled';
  if (c.denied) return 'denied';
  if (c.approved && c.payments.length > 0) return 'paid';
  if (c.approved) return 'approved';
  return 'open';
}
