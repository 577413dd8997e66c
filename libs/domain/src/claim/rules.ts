/**
 * Rules of claims and replacements (R1-R10): the refusal a claim meets, in R10's order, and its fee
 * (C6, R7). Deciders throw the refusals; the X2 conflict check re-runs them on corrected facts.
 */
import { Money, Region } from '../catalogue/catalogue';
import { InvalidCommand, Refusal } from '../codes';
import { pairedBefore } from '../device/rules';
import { Chain, ClaimState, quotaBalance, termAt, unitAt } from '../plan/chain';
import { World } from '../world';

export interface ClaimInput {
  serial: string;
  kind: 'damage' | 'flyaway';
  cause: string;
  incidentMs: number;
  openedMs: number;
  express: boolean;
  flightRecordsSynced: boolean;
  serviceRegion: Region | null;
}

/**
 * The refusal a claim meets (RULES R1-R9, in R10's order), or null. `unitCheckMs` is when the unit
 * must hold the chain (R3): the opening, or later the approval. `except` leaves a claim out of the
 * quota count (the one being approved). `skipQuota` for checks that must not count reservations.
 */
export function claimRefusal(
  world: World,
  chain: Chain | null,
  c: ClaimInput,
  opts: { unitCheckMs: number; except?: string; skipQuota?: boolean; quotaClaims?: ClaimState[] },
): Refusal | null {
  const catalogue = world.catalogue;
  const unit = chain ? unitAt(chain, opts.unitCheckMs) : null;
  // R3
  if (!chain || !unit || unit.serial !== c.serial) {
    return new Refusal('DeviceNotCovered', chain && unit ? `${c.serial} no longer holds plan ${chain.planId} (now ${unit.serial}).` : `${c.serial} holds no plan.`);
  }
  // R5
  if (catalogue.rules.excludedCauses.includes(c.cause)) {
    return new Refusal('Excluded', `"${c.cause}" is not covered (R5).`);
  }
  // R4, C2
  if (c.kind === 'flyaway' && !chain.model.flyaway) {
    return new Refusal('FlyawayNotSupported', `${chain.model.name} has no flyaway coverage.`);
  }
  // R2
  const first = chain.terms[0];
  if (!first) return new Refusal('IncidentBeforeCoverage', 'The plan is not in effect yet.');
  if (c.incidentMs < first.window.fromMs || c.incidentMs < first.coverageStartMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes the plan's coverage (from ${first.window.from}).`);
  }
  const term = termAt(chain, c.incidentMs);
  if (!term) return new Refusal('OutsideValidity', 'The incident happened after the plan ended.');
  if (c.incidentMs < term.coverageStartMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes the purchase of the ${term.kind} term that covers ${term.window.from}.`);
  }
  const firstUnit = chain.units[0];
  if (unit !== firstUnit && c.incidentMs < unit.atMs) {
    return new Refusal('IncidentBeforeCoverage', `The incident precedes ${c.serial} joining the plan.`);
  }
  if (c.openedMs >= term.window.untilMs) {
    return new Refusal('OutsideValidity', `The claim was opened after the replacement window ended (${term.window.until}).`);
  }
  // R6, C4
  if (c.serviceRegion && !chain.model.international && c.serviceRegion !== chain.region) {
    return new Refusal('OutOfServiceRegion', `${chain.model.name} bought in ${chain.region} is served there only, not in ${c.serviceRegion}.`);
  }
  // R4, R9
  if (c.kind === 'flyaway') {
    const account = pairedBefore(world, c.serial, 'account', c.incidentMs);
    const controller = pairedBefore(world, c.serial, 'remote-controller', c.incidentMs);
    if (!account || !controller) {
      const missing = [!account ? 'account' : null, !controller ? 'remote controller' : null].filter(Boolean).join(' and ');
      return new Refusal('FlyawayBindingMissing', `The ${missing} was not bound to ${c.serial} before the flyaway.`);
    }
    if (!c.flightRecordsSynced) return new Refusal('FlightRecordsMissing', 'The flyaway flight records are not synced.');
    if (c.express) return new Refusal('ExpressNotAvailable', 'Express replacement is not available for flyaways.');
  }
  if (opts.skipQuota) return null;
  // R1, R7
  const balance = quotaBalance(chain, term, opts.except);
  const reserved = opts.quotaClaims ?? balance.claims;
  const used = reserved.length;
  const flyawayUsed = reserved.filter((x) => x.data.kind === 'flyaway').length;
  if (c.kind === 'flyaway' && flyawayUsed >= term.quota.flyaway) {
    return new Refusal('FlyawayQuotaExhausted', `All ${term.quota.flyaway} flyaway replacements of this term are used.`);
  }
  if (used >= term.quota.replacements) {
    return new Refusal('NoReplacementsRemaining', `All ${term.quota.replacements} replacements of this term are used.`);
  }
  return null;
}

export function claimInputOf(claim: ClaimState): ClaimInput {
  const d = claim.data;
  return {
    serial: d.serial,
    kind: d.kind,
    cause: d.cause,
    incidentMs: claim.incidentMs,
    openedMs: claim.openedMs,
    express: d.express,
    flightRecordsSynced: d.flightRecordsSynced,
    serviceRegion: d.serviceRegion,
  };
}

/** R7/C6: the fee of the next approval in a term. */
export function feeFor(world: World, chain: Chain, kind: 'damage' | 'flyaway', ordinal: number): Money {
  return world.catalogue.fee(chain.model.name, chain.region, chain.policy.id, kind, ordinal);
}

/** R5/R4: a claim whose cause contradicts its kind is malformed (excluded causes are answered by R5). */
export function checkCauseMatchesKind(kind: string, cause: string, excluded: string[]): void {
  if (excluded.includes(cause)) return;
  if (kind === 'damage' && cause === 'flyaway') {
    throw new InvalidCommand([{ field: 'cause', message: 'a flyaway is claimed with kind "flyaway"' }]);
  }
  if (kind === 'flyaway' && cause !== 'flyaway' && cause !== 'other') {
    throw new InvalidCommand([{ field: 'cause', message: `a flyaway claim cannot have cause "${cause}"` }]);
  }
}
