/**
 * The answers of command routes (API.md): shaped here, in the application, from the domain's typed
 * outcome. The ledger stores the answer with the decision, so a replay answers the same body.
 */
import type { Outcome } from '@careledger/domain';

export function answerOf(outcome: Outcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'device':
      return { serial: outcome.serial };
    case 'plan':
      return { planId: outcome.planId, policyVersion: outcome.policyVersion, status: outcome.effective ? 'effective' : 'pending', chain: outcome.terms };
    case 'claim': {
      const { kind: _kind, ...claim } = outcome;
      return claim;
    }
    case 'service':
      return outcome.planId === null ? { serial: outcome.serial } : { serial: outcome.serial, planId: outcome.planId };
    case 'goodwill':
      return {
        serial: outcome.serial,
        ...(outcome.planId === null ? {} : { planId: outcome.planId }),
        extension: { kind: 'goodwill', from: outcome.from, until: outcome.until },
      };
    case 'correction':
      return { eventId: outcome.eventId, correctedEventId: outcome.eventId, correctedType: outcome.targetType, action: outcome.action };
    case 'center':
      return { centerId: outcome.centerId, name: outcome.name, region: outcome.region };
    case 'extensions':
      return { planId: outcome.planId, granted: outcome.granted };
    default: {
      const never: never = outcome;
      throw new Error(`unknown outcome ${(never as { kind: string }).kind}`);
    }
  }
}
