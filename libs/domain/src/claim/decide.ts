/** Deciders of the claim workflow: open, approve (R7: reserve quota, fix the fee), deny, cancel, pay, fulfil (I1). */
import { NotFound, Refusal, StateConflict } from '../codes';
import type { CommandMeta } from '../commands';
import { Append, Decision, notBefore, notInFuture, repeat, single } from '../decision';
import { deviceStream } from '../device/events';
import { checkUnitIsFree, currentBinding, ownReservation } from '../device/rules';
import { Chain, ClaimState, currentUnit, quotaBalance, unitAt } from '../plan/chain';
import { requireChain } from '../plan/decide';
import { planStream } from '../plan/events';
import { instantMs } from '../time';
import { World } from '../world';
import type { ApproveClaim, CancelClaim, DenyClaim, FulfilClaim, OpenClaim, PayClaim } from './commands';
import { ClaimFulfilled } from './events';
import { checkCauseMatchesKind, ClaimInput, claimInputOf, claimRefusal, feeFor } from './rules';

function requireClaim(chain: Chain, claimId: string): ClaimState {
  const claim = chain.claims.find((c) => c.claimId === claimId);
  if (!claim) throw new NotFound('ClaimNotFound', `No claim ${claimId}.`);
  return claim;
}

function stateConflict(claim: ClaimState, action: string): StateConflict {
  return new StateConflict('InvalidClaimState', `Claim ${claim.claimId} is ${claim.status}; it cannot be ${action}.`);
}

export function openClaim(world: World, c: OpenClaim, meta: CommandMeta): Decision {
  notInFuture(world, meta, c.incidentAt, c.openedAt);
  notBefore('openedAt', c.openedAt, instantMs(c.incidentAt), 'incidentAt');
  checkCauseMatchesKind(c.kind, c.cause, world.catalogue.rules.excludedCauses);
  const binding = currentBinding(world, c.serial);
  const chain = binding ? world.chain(binding.planId) : null;
  if (chain) {
    const same = chain.claims.find((x) => x.claimId === c.claimId);
    if (same) return repeat([same.opened], { kind: 'claim', claimId: c.claimId, planId: chain.planId, status: same.status });
  }
  // R6: the claim's service region is its center's region (unknown for a center not in the directory)
  const center = world.center(c.serviceCenterId);
  const serviceRegion = center.status === 'registered' ? center.registration.event.data.region : null;
  const input: ClaimInput = {
    serial: c.serial,
    kind: c.kind,
    cause: c.cause,
    incidentMs: instantMs(c.incidentAt),
    openedMs: instantMs(c.openedAt),
    express: c.express,
    flightRecordsSynced: c.flightRecordsSynced,
    serviceRegion,
  };
  const refusal = claimRefusal(world, chain, input, { unitCheckMs: input.openedMs });
  if (refusal) throw refusal;
  const planId = chain!.planId;
  return single(planStream(planId), {
    type: 'ClaimOpened',
    data: {
      claimId: c.claimId,
      planId,
      claimRef: c.claimRef,
      serial: c.serial,
      kind: c.kind,
      cause: c.cause,
      incidentAt: c.incidentAt,
      openedAt: c.openedAt,
      serviceCenterId: c.serviceCenterId,
      serviceRegion,
      express: c.express,
      flightRecordsSynced: c.flightRecordsSynced,
    },
  }, { kind: 'claim', claimId: c.claimId, planId, status: 'open' });
}

/** R7: approval re-checks every claim rule with the facts known then, reserves quota and fixes the fee (C6). */
export function approveClaim(world: World, c: ApproveClaim, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'open') {
    if (claim.approved && instantMs(claim.approved.event.data.at) === instantMs(c.at) && claim.status === 'approved') {
      const { fee, ordinal } = claim.approved.event.data;
      return repeat([claim.approved], { kind: 'claim', claimId: c.claimId, planId: c.planId, status: claim.status, fee, ordinal });
    }
    throw stateConflict(claim, 'approved');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, claim.openedMs, 'the claim was opened');
  const refusal = claimRefusal(world, chain, claimInputOf(claim), { unitCheckMs: instantMs(c.at), except: claim.claimId });
  if (refusal) throw refusal;
  const term = chain.terms[claim.termIndex!];
  const ordinal = quotaBalance(chain, term, claim.claimId).used + 1;
  const fee = feeFor(world, chain, claim.data.kind, ordinal);
  return single(planStream(chain.planId), {
    type: 'ClaimApproved',
    data: { claimId: c.claimId, at: c.at, ordinal, fee },
  }, { kind: 'claim', claimId: c.claimId, planId: c.planId, status: 'approved', fee, ordinal });
}

/** R7: denial (from open or approved) and cancellation (also from paid) release the reserved quota. */
export function closeClaim(world: World, c: DenyClaim | CancelClaim, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  const deny = c.type === 'DenyClaim';
  const allowed = deny ? ['open', 'approved'] : ['open', 'approved', 'paid'];
  if (!allowed.includes(claim.status)) {
    const done = deny ? claim.denied : claim.cancelled;
    if (done && instantMs(done.event.data.at) === instantMs(c.at)) {
      return repeat([done], { kind: 'claim', claimId: c.claimId, planId: c.planId, status: claim.status });
    }
    throw stateConflict(claim, deny ? 'denied' : 'cancelled');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, claim.openedMs, 'the claim was opened');
  return single(planStream(chain.planId), {
    type: deny ? 'ClaimDenied' : 'ClaimCancelled',
    data: { claimId: c.claimId, at: c.at, reason: c.reason },
  }, { kind: 'claim', claimId: c.claimId, planId: c.planId, status: deny ? 'denied' : 'cancelled' });
}

/** R7: the payment must be the approved fee. */
export function payClaim(world: World, c: PayClaim, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'approved') {
    const paid = claim.payments[0];
    if (paid && instantMs(paid.event.data.at) === instantMs(c.at) && sameAmount(paid.event.data.amount, c.amount)) {
      return repeat([paid], { kind: 'claim', claimId: c.claimId, planId: c.planId, status: claim.status });
    }
    throw stateConflict(claim, 'paid');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, instantMs(claim.approved!.event.data.at), 'the approval');
  const fee = claim.approved!.event.data.fee;
  if (c.currency !== fee.currency || !sameAmount(c.amount, fee.amount)) {
    throw new Refusal('PaymentMismatch', `The fee is ${fee.amount} ${fee.currency}; ${c.amount} ${c.currency} was offered.`);
  }
  return single(planStream(chain.planId), {
    type: 'ClaimPaid',
    data: { claimId: c.claimId, at: c.at, amount: fee.amount, currency: fee.currency },
  }, { kind: 'claim', claimId: c.claimId, planId: c.planId, status: 'paid' });
}

function sameAmount(a: string, b: string): boolean {
  return Number(a) === Number(b);
}

/** I1, R9: the replacement ships once the fee is paid; coverage moves to it. */
export function fulfilClaim(world: World, c: FulfilClaim, meta: CommandMeta): Decision {
  const chain = requireChain(world, c.planId);
  const claim = requireClaim(chain, c.claimId);
  if (claim.status !== 'paid') {
    if (claim.fulfilled && claim.fulfilled.event.data.replacementSerial === c.replacementSerial) {
      return repeat([claim.fulfilled], { kind: 'claim', claimId: c.claimId, planId: c.planId, status: 'fulfilled', replacementSerial: c.replacementSerial });
    }
    if (claim.status === 'approved') {
      throw new StateConflict('PaymentRequired', `Claim ${c.claimId} is approved but its fee is not paid yet (R9: the unit ships once the fee is paid).`);
    }
    throw stateConflict(claim, 'fulfilled');
  }
  notInFuture(world, meta, c.at);
  notBefore('at', c.at, instantMs(claim.payments[0].event.data.at), 'the payment');
  const atMs = instantMs(c.at);
  const holder = unitAt(chain, atMs);
  if (!holder || holder.serial !== claim.data.serial) {
    throw new Refusal('DeviceNotCovered', `${claim.data.serial} no longer holds plan ${chain.planId}.`);
  }
  // A fulfilment reported late (dated before a replacement already recorded) must not issue a
  // second unit for the same one: the chain would fork (I1, I2).
  const current = currentUnit(chain);
  if (current && current.serial !== claim.data.serial) {
    throw new Refusal('DeviceNotCovered', `${claim.data.serial} was already replaced by ${current.serial} on plan ${chain.planId}.`);
  }
  if (chain.units.some((u) => u.serial === c.replacementSerial)) {
    throw new Refusal('AlreadyBound', `${c.replacementSerial} already held plan ${chain.planId}.`);
  }
  checkUnitIsFree(world, c.replacementSerial, chain.planId, meta.now);
  const appends: Append[] = [];
  if (!ownReservation(world, c.replacementSerial, chain.planId, c.claimId)) {
    appends.push({
      streamId: deviceStream(c.replacementSerial),
      events: [{
        type: 'DeviceBoundToPlan',
        data: { serial: c.replacementSerial, planId: chain.planId, via: 'replacement', at: c.at, claimId: c.claimId },
      }],
    });
  }
  const fulfilled: ClaimFulfilled = {
    type: 'ClaimFulfilled',
    data: { claimId: c.claimId, at: c.at, serial: claim.data.serial, replacementSerial: c.replacementSerial },
  };
  appends.push({ streamId: planStream(chain.planId), events: [fulfilled] });
  return {
    appends,
    primary: [appends.length - 1, 0],
    outcome: { kind: 'claim', claimId: c.claimId, planId: c.planId, status: 'fulfilled', replacementSerial: c.replacementSerial },
  };
}

