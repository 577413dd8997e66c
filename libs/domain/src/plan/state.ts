/**
 * The plan-chain aggregate's state: a fold of its stream (corrections already applied). Its claims
 * are folded here too (their events share the stream), each with the claim's own evolve.
 */
import { type ClaimRecord, evolveClaim, openClaimState } from '../claim/state';
import type { ClaimFulfilled, ClaimOpened } from '../claim/events';
import type { Fact } from '../facts';
import type {
  CarePlusPurchased, PlanBound, PlanEvent, PlanPurchased, PlanRenewed, ServiceRecorded, WarrantyExtensionGranted,
} from './events';

export interface PurchasedPlan {
  status: 'purchased';
  planId: string;
  purchase: Fact<PlanPurchased>;
  /** A card plan's binding to its unit (channel card, no serial at purchase). */
  binding: Fact<PlanBound> | null;
  /** Renewals and Care Refresh+ purchases, in order (W3). */
  extensions: Fact<PlanRenewed | CarePlusPurchased>[];
  /** Claims in the order they were opened. */
  claims: ClaimRecord[];
  /** Replacement units issued, in order (I1, I2). */
  fulfilments: Fact<ClaimFulfilled>[];
  serviceRecords: Fact<ServiceRecorded>[];
  grants: Fact<WarrantyExtensionGranted>[];
}

export type PlanState = { status: 'none'; planId: string } | PurchasedPlan;

export function initialPlanState(planId: string): PlanState {
  return { status: 'none', planId };
}

export function evolvePlan(state: PlanState, fact: Fact<PlanEvent>): PlanState {
  const event = fact.event;
  if (event.type === 'PlanPurchased') {
    return state.status === 'purchased'
      ? state
      : { status: 'purchased', planId: state.planId, purchase: fact as Fact<PlanPurchased>, binding: null, extensions: [], claims: [], fulfilments: [], serviceRecords: [], grants: [] };
  }
  if (state.status === 'none') return state; // nothing of a plan exists before its purchase
  switch (event.type) {
    case 'PlanBound':
      return state.binding ? state : { ...state, binding: fact as Fact<PlanBound> };
    case 'PlanRenewed':
    case 'CarePlusPurchased':
      return { ...state, extensions: [...state.extensions, fact as Fact<PlanRenewed | CarePlusPurchased>] };
    case 'ClaimOpened':
      if (state.claims.some((c) => c.claimId === event.data.claimId)) return state;
      return { ...state, claims: [...state.claims, openClaimState(fact as Fact<ClaimOpened>)] };
    case 'ClaimApproved':
    case 'ClaimDenied':
    case 'ClaimCancelled':
    case 'ClaimPaid':
    case 'ClaimFulfilled': {
      const claims = state.claims.map((c) => (c.claimId === event.data.claimId ? evolveClaim(c, fact as Fact<typeof event>) : c));
      const fulfilments = event.type === 'ClaimFulfilled' ? [...state.fulfilments, fact as Fact<ClaimFulfilled>] : state.fulfilments;
      return { ...state, claims, fulfilments };
    }
    case 'ServiceRecorded':
      return { ...state, serviceRecords: [...state.serviceRecords, fact as Fact<ServiceRecorded>] };
    case 'WarrantyExtensionGranted':
      return { ...state, grants: [...state.grants, fact as Fact<WarrantyExtensionGranted>] };
    case 'EventCorrected':
      return state; // applied to the facts before the fold (facts.ts)
    default: {
      const never: never = event;
      throw new Error(`unknown plan event ${(never as { type: string }).type}`);
    }
  }
}
