/** W4/W5: the safe-use reward of a chain's first plan. */
import type { ClaimState } from './chain';
import { Chain, officialWarranty } from './chain';
import { Catalogue } from '../catalogue/catalogue';
import { Fact } from '../facts';
import { addMonths, IsoDate } from '../time';

export interface RewardState {
  status: 'not-applicable' | 'pending' | 'granted' | 'forfeited';
  window: { from: IsoDate; until: IsoDate } | null;
  /** Facts that decided the status (fulfilments or discounted repairs that forfeited it, the grant). */
  facts: Fact[];
  /** Claims of the first term still open, approved or paid: until they close, the reward is not settled. */
  unsettledClaims: ClaimState[];
  /** A grant recorded although the facts now forfeit the reward. */
  grantedDespiteForfeit: boolean;
}

/**
 * W4: no replacement used (fulfilled) in the first plan's term (V2021: and no discounted repair), on
 * a C3 model: 12 more months of warranty from the end of that term's replacement window, or from
 * the end of the official warranty in EU and UK.
 */
export function rewardState(catalogue: Catalogue, chain: Chain): RewardState {
  const first = chain.terms[0];
  const none: RewardState = { status: 'not-applicable', window: null, facts: [], unsettledClaims: [], grantedDespiteForfeit: false };
  if (!chain.model.safeUseReward || !first) return none;
  const used = chain.claims.filter((c) => c.termIndex === 0 && c.fulfilled !== null);
  const repairs = chain.policy.discountedRepairForfeitsReward
    ? chain.serviceRecords.filter(
        (f) => f.event.data.kind === 'discounted-repair' && f.at !== null && f.at >= first.window.fromMs && f.at < first.window.untilMs,
      )
    : [];
  const grant = chain.grants.find((g) => g.event.data.kind === 'safe-use-reward') ?? null;
  if (used.length > 0 || repairs.length > 0) {
    return {
      status: 'forfeited',
      window: null,
      facts: [...used.map((c) => c.fulfilled!), ...repairs],
      unsettledClaims: [],
      grantedDespiteForfeit: grant !== null,
    };
  }
  let start = first.window.until;
  if (chain.region === 'EU' || chain.region === 'UK') {
    const official = officialWarranty(catalogue, chain.model, chain.region, chain.activation);
    if (official) start = official.until;
  }
  const window = { from: start, until: addMonths(start, 12) };
  const unsettledClaims = chain.claims.filter(
    (c) => c.termIndex === 0 && (c.status === 'open' || c.status === 'approved' || c.status === 'paid'),
  );
  return { status: grant ? 'granted' : 'pending', window, facts: grant ? [grant] : [], unsettledClaims, grantedDespiteForfeit: false };
}
