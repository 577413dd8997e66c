/** X1: the decider of corrections: void or amend an earlier event of a stream, with a reason. */
import { PlanTerm, TermKind } from '../catalogue/catalogue';
import { InvalidCommand, NotFound, Refusal, StateConflict } from '../codes';
import type { CommandMeta } from '../commands';
import { Decision, notInFuture, single } from '../decision';
import { Fact } from '../facts';
import { PlanPurchased } from '../plan/events';
import { fitsChain } from '../plan/rules';
import { isInstant } from '../time';
import { World } from '../world';
import { validateAmendment } from './amendments';
import type { CorrectEvent } from './commands';

export function correct(world: World, c: CorrectEvent, meta: CommandMeta): Decision {
  const target = world.stream(c.streamId).find((f) => f.eventId === c.eventId);
  if (!target) {
    // Corrections are not facts of the world: tell a correction, a voided event and an unknown id apart.
    if (world.known.corrections.some((f) => f.eventId === c.eventId)) {
      throw new Refusal('NotCorrectable', 'A correction cannot be corrected; record a new correction of the original event.');
    }
    if (world.known.voided.has(c.eventId)) throw new StateConflict('AlreadyVoided', `Event ${c.eventId} is already voided.`);
    throw new NotFound('EventNotFound', `No event ${c.eventId} in ${c.streamId}.`);
  }
  const type = target.event.type;
  if (type === 'EventCorrected' || type === 'DeviceBoundToPlan') {
    throw new Refusal('NotCorrectable', type === 'EventCorrected'
      ? 'A correction cannot be corrected; record a new correction of the original event.'
      : 'A unit binding follows its plan event: correct the purchase, binding or fulfilment instead.');
  }
  let amendment: Record<string, unknown> | null = null;
  if (c.action === 'amend') {
    if (!c.amendment || Object.keys(c.amendment).length === 0) {
      throw new InvalidCommand([{ field: 'amendment', message: 'an amend correction needs the fields to change' }]);
    }
    amendment = validateAmendment(world.catalogue, type, c.amendment);
    notInFuture(world, meta, ...Object.values(amendment).filter(isInstant)); // T4, as for the original fact
    if (type === 'PlanPurchased' && typeof amendment.term === 'string') checkAmendedTerm(world, target as Fact<PlanPurchased>, amendment.term as PlanTerm);
  } else if (c.amendment) {
    throw new InvalidCommand([{ field: 'amendment', message: 'a void correction takes no amendment' }]);
  }
  return single(c.streamId, {
    type: 'EventCorrected',
    data: { targetEventId: c.eventId, targetType: type, action: c.action, reason: c.reason, amendment },
  }, { kind: 'correction', eventId: c.eventId, targetType: type, action: c.action });
}

/** P1/P2 still hold for the chain once its first plan's term is corrected (renewals are voided first). */
function checkAmendedTerm(world: World, purchase: Fact<PlanPurchased>, term: PlanTerm): void {
  const model = world.catalogue.findModel(purchase.event.data.model);
  if (model && !model.plans.includes(term)) throw new Refusal('UnknownPlan', `${model.name} has no ${term} plan.`);
  const kinds: TermKind[] = [term];
  for (const f of world.stream(purchase.streamId)) {
    if (f.event.type === 'PlanRenewed') kinds.push('renewal');
    if (f.event.type === 'CarePlusPurchased') kinds.push('care-plus');
  }
  if (!fitsChain(kinds, world.catalogue.rules.maxChainMonths)) {
    const code = term === '2y' && kinds.includes('care-plus') ? 'NotAllowedWith2YearPlan' : 'MaxTermExceeded';
    throw new Refusal(code, `As a ${term} plan the chain would be ${kinds.join('+')}; void the renewals or Care Refresh+ first.`);
  }
}
