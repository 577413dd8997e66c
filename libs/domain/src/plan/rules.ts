/**
 * Rules of the plan chain: its shape (P1, P2), renewal (N1, N2) and Care Refresh+ (N3). Each
 * predicate returns the refusal a command would meet (first in R10's order) or null; deciders throw
 * them, the entitlement view reports them as eligibility and `blockedBy`.
 */
import { TermKind } from '../catalogue/catalogue';
import { Refusal } from '../codes';
import { instantMs } from '../time';
import { Chain, chainEndMs, quotaBalance, renewalDeadlineMs, termMonths } from './chain';

/** P2: the chains a device may hold (36 months at most; a 2-Year plan only first). */
const ALLOWED_CHAINS: TermKind[][] = [
  ['1y', 'renewal', 'renewal'],
  ['2y', 'renewal'],
  ['1y', 'care-plus', 'renewal'],
];

/** P2: does a chain of these term kinds fit the allowed shapes and the maximum length? */
export function fitsChain(kinds: TermKind[], maxMonths: number): boolean {
  const months = kinds.reduce((sum, k) => sum + termMonths(k), 0);
  if (months > maxMonths) return false;
  return ALLOWED_CHAINS.some((allowed) => kinds.every((k, i) => allowed[i] === k));
}

export function chainKinds(chain: Chain): TermKind[] {
  return [
    chain.purchase.event.data.term,
    ...chain.extensions.map((f): TermKind => (f.event.type === 'PlanRenewed' ? 'renewal' : 'care-plus')),
  ];
}

/** The instant the chain's latest plan was bought (or a card plan bound). */
function lastPurchaseMs(chain: Chain): number {
  const last = chain.extensions[chain.extensions.length - 1];
  if (last) return instantMs(last.event.data.purchasedAt);
  if (chain.binding) return instantMs(chain.binding.event.data.boundAt);
  return instantMs(chain.purchase.event.data.purchasedAt);
}

/** The refusal a 1-Year renewal at tMs would meet (RULES N1, N2, P2 in R10 order), or null. */
export function renewalRefusal(chain: Chain, tMs: number, term = '1y', graceDays = 15, maxMonths = 36): Refusal | null {
  if (term !== '1y') {
    if (term === '2y') return new Refusal('RenewalMustBe1Year', 'A 2-Year plan can only be the first purchase.');
    return new Refusal('UnknownPlan', `No plan "${term}".`);
  }
  const kinds = chainKinds(chain);
  if (!fitsChain([...kinds, 'renewal'], maxMonths)) {
    return new Refusal('MaxTermExceeded', `The chain ${kinds.join('+')} cannot grow by a year (at most ${maxMonths} months).`);
  }
  const endMs = chainEndMs(chain);
  const deadline = renewalDeadlineMs(chain, graceDays);
  if (deadline !== null && tMs >= deadline) {
    const end = chain.terms[chain.terms.length - 1].window.until;
    return new Refusal('RenewalWindowClosed', `The plan ended on ${end}; renewal was possible until ${graceDays} days after.`);
  }
  if (endMs === null || tMs < lastPurchaseMs(chain)) {
    return new Refusal('NoPlanToRenew', endMs === null ? 'The plan is not in effect yet.' : 'No plan existed at that time.');
  }
  return null;
}

/** Care Refresh+ (RULES N3, P2) at tMs, or null. */
export function carePlusRefusal(chain: Chain, tMs: number, maxMonths = 36): Refusal | null {
  if (!chain.policy.carePlusOnSale) {
    return new Refusal('ProductDiscontinued', `Care Refresh+ is not sold under policy ${chain.policy.id}.`);
  }
  const kinds = chainKinds(chain);
  if (kinds.includes('2y')) return new Refusal('NotAllowedWith2YearPlan', 'Care Refresh+ extends a 1-Year plan only.');
  if (!fitsChain([...kinds, 'care-plus'], maxMonths)) {
    return new Refusal('MaxTermExceeded', `Care Refresh+ can only follow the first 1-Year plan (chain: ${kinds.join('+')}).`);
  }
  const last = chain.terms[chain.terms.length - 1];
  if (!last || tMs < lastPurchaseMs(chain)) {
    return new Refusal('NoPlanToRenew', 'The 1-Year plan is not in effect yet.');
  }
  if (tMs >= last.window.untilMs) return new Refusal('PlanExpired', `The 1-Year plan ended on ${last.window.until}.`);
  if (quotaBalance(chain, last).remaining < 1) {
    return new Refusal('NoReplacementsRemaining', 'Care Refresh+ needs at least one replacement left.');
  }
  return null;
}
