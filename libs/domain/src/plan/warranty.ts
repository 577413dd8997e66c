/**
 * Warranty coverage (C8, W1-W5): the official period, plan-valid periods and extensions, and the
 * exclusive end of the coverage that contains a business instant.
 */
import { Catalogue } from '../catalogue/catalogue';
import { Fact } from '../facts';
import { IsoDate, zoned, ZonedWindow } from '../time';
import { Chain, officialWarranty, planYear2Window } from './chain';
import { ExtensionKind } from './events';
import { RewardState, rewardState } from './reward';

export interface WarrantyInterval {
  kind: ExtensionKind | 'official' | 'plan';
  window: ZonedWindow;
  status: 'granted' | 'pending';
  facts: Fact[];
}

/**
 * C8, W1-W5: the intervals of warranty coverage the chain gives (plan-valid periods and extensions;
 * the official period is added by the caller). Pending extensions are included.
 */
export function warrantyIntervals(chain: Chain, reward: RewardState): WarrantyInterval[] {
  const zone = chain.zone;
  const out: WarrantyInterval[] = [];
  const grantOf = (kind: ExtensionKind) => chain.grants.filter((g) => g.event.data.kind === kind);
  for (const term of chain.terms) {
    out.push({ kind: 'plan', window: term.window, status: 'granted', facts: [term.fact] });
    if (term.kind === '2y') {
      const grants = grantOf('plan-year-2');
      out.push({
        kind: 'plan-year-2',
        window: zoned(planYear2Window(chain)!, zone),
        status: grants.length > 0 ? 'granted' : 'pending',
        facts: [term.fact, ...grants],
      });
    }
    if (term.kind === 'care-plus') {
      const grants = grantOf('care-plus');
      out.push({ kind: 'care-plus', window: term.window, status: grants.length > 0 ? 'granted' : 'pending', facts: [term.fact, ...grants] });
    }
  }
  if ((reward.status === 'pending' || reward.status === 'granted') && reward.window) {
    out.push({
      kind: 'safe-use-reward',
      window: zoned(reward.window, zone),
      status: reward.status === 'granted' ? 'granted' : 'pending',
      facts: reward.facts,
    });
  }
  for (const g of grantOf('goodwill')) {
    out.push({ kind: 'goodwill', window: zoned({ from: g.event.data.from, until: g.event.data.until }, zone), status: 'granted', facts: [g] });
  }
  return out;
}

/** The exclusive end of the merged coverage segment containing `atMs`, else the latest end known. */
export function coveredUntilOf(intervals: { window: ZonedWindow }[], atMs: number): IsoDate | null {
  if (intervals.length === 0) return null;
  const sorted = [...intervals].sort((a, b) => a.window.fromMs - b.window.fromMs);
  let segStart = sorted[0].window.fromMs;
  let segEnd = sorted[0].window;
  const segments: { fromMs: number; end: ZonedWindow }[] = [];
  for (const i of sorted.slice(1)) {
    if (i.window.fromMs <= segEnd.untilMs) {
      if (i.window.untilMs > segEnd.untilMs) segEnd = i.window;
    } else {
      segments.push({ fromMs: segStart, end: segEnd });
      segStart = i.window.fromMs;
      segEnd = i.window;
    }
  }
  segments.push({ fromMs: segStart, end: segEnd });
  const containing = segments.find((s) => atMs >= s.fromMs && atMs < s.end.untilMs);
  if (containing) return containing.end.until;
  return segments[segments.length - 1].end.until;
}

/** Warranty coverage of a chain's unit at a business instant (for warranty repairs and goodwill: R8, W5). */
export function coveredUntilAt(catalogue: Catalogue, chain: Chain, atMs: number): { covered: boolean; until: IsoDate | null } {
  const reward = rewardState(catalogue, chain);
  const official = officialWarranty(catalogue, chain.model, chain.region, chain.activation);
  const intervals: { window: ZonedWindow }[] = [...warrantyIntervals(chain, reward), ...(official ? [{ window: official }] : [])];
  const covered = intervals.some((i) => atMs >= i.window.fromMs && atMs < i.window.untilMs);
  return { covered, until: coveredUntilOf(intervals, atMs) };
}
