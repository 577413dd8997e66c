/**
 * Property-based invariants over generated histories (fast-check): random purchases, activations,
 * renewals, Care Refresh+, claims and their approvals, denials, cancellations, payments and
 * fulfilments, service records, sweeps and corrections, run through the real deciders; refused
 * commands are skipped, a crash fails the property. Deterministic: a fixed seed (FC_SEED and
 * FC_RUNS override it to explore).
 */
import * as fc from 'fast-check';
import { historyArb, runHistory, RunHistory } from '@careledger/testing/histories';
import { defaultCatalogue } from '../catalogue/default';
import { Chain, currentUnit, reservedIn } from '../plan/chain';
import { World } from '../world';
import { foldEntitlements, EntitlementView, UnitFold } from '../entitlements';
import { businessTimeOf, ClaimFulfilled, DomainEvent } from '../events';
import { Fact, toFacts } from '../facts';
import { addMonths, instantMs, toUtcIso } from '../time';
import { TermKind } from '../catalogue/catalogue';

const catalogue = defaultCatalogue();
const SEED = Number(process.env.FC_SEED ?? 20261101);
const RUNS = Number(process.env.FC_RUNS ?? 60);
const options = (offset: number) => ({
  seed: SEED + offset,
  numRuns: RUNS,
  // When exploring other seeds, bound the shrinking so that a failure is reported in reasonable time.
  ...(process.env.FC_SEED ? { interruptAfterTimeLimit: 120_000 } : {}),
});

const ALLOWED: TermKind[][] = [['1y', 'renewal', 'renewal'], ['2y', 'renewal'], ['1y', 'care-plus', 'renewal']];

/** A handful of business instants spread over the history (and just after each). */
function samples(h: RunHistory, max = 5): number[] {
  const sorted = [...new Set(h.instants)].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / max));
  const picked = sorted.filter((_, i) => i % step === 0).slice(0, max);
  return [...picked, sorted[sorted.length - 1] + 86_400_000];
}

function fullWorld(h: RunHistory): World {
  return new World(catalogue, toFacts(h.ledger.events).facts);
}

function chains(world: World, h: RunHistory): Chain[] {
  return h.planIds.map((p) => world.chain(p)).filter((c): c is Chain => c !== null);
}

function quotaKey(kind: string): '1y' | '2y' | 'care-plus' {
  return kind === '2y' ? '2y' : kind === 'care-plus' ? 'care-plus' : '1y';
}

const property = (offset: number, check: (h: RunHistory) => void | Promise<void>, maxSteps = 60, withCorrections = true) =>
  fc.assert(
    fc.asyncProperty(historyArb(maxSteps, withCorrections), async (plan) => {
      const h = await runHistory(plan);
      try {
        await check(h);
      } catch (error) {
        // Tell the history in commands, so that a counterexample reads as a scenario.
        const told = h.accepted.map((c) => `  ${JSON.stringify(c)}`).join('\n');
        throw Object.assign(error as Error, { message: `${(error as Error).message}\nAccepted commands:\n${told}` });
      }
    }),
    options(offset),
  );

describe('properties over generated histories', () => {
  test('R1/R7/W6: remaining quota is never negative nor above the term quota; the deciders never over-reserve', async () => {
    await property(1, (h) => {
      for (const serial of h.serials) {
        for (const t of samples(h)) {
          const view = h.ledger.entitlements(serial, toUtcIso(t));
          const r = view.replacement;
          expect(r.remaining).toBeGreaterThanOrEqual(0);
          expect(r.flyawayRemaining).toBeGreaterThanOrEqual(0);
          expect(r.flyawayRemaining).toBeLessThanOrEqual(r.remaining);
          if (!r.window) {
            expect(r.remaining).toBe(0);
            continue;
          }
          const term = view.chain.find((c) => c.from === r.window!.from && c.until === r.window!.until)!;
          expect(term).toBeDefined();
          const quota = catalogue.policyVersion(view.policyVersion!).plans[quotaKey(term.kind)];
          expect(r.remaining).toBeLessThanOrEqual(quota.replacements);
          expect(r.flyawayRemaining).toBeLessThanOrEqual(quota.flyaway);
          if (!h.hasCorrections) expect(r.remaining + r.used).toBe(quota.replacements);
        }
      }
    });
  });

  test('R1/R7/C6: without corrections no term is over-reserved, every approval costs the catalogue fee of its ordinal, every issued unit was paid', async () => {
    await property(7, (h) => {
      const world = fullWorld(h);
      for (const chain of chains(world, h)) {
        for (const term of chain.terms) {
          const reserved = reservedIn(chain, term.index);
          expect(reserved.length).toBeLessThanOrEqual(term.quota.replacements);
          expect(reserved.filter((c) => c.data.kind === 'flyaway').length).toBeLessThanOrEqual(term.quota.flyaway);
        }
        for (const claim of chain.claims) {
          if (claim.approved) {
            const { ordinal, fee } = claim.approved.event.data;
            const term = chain.terms[claim.termIndex!];
            expect(ordinal).toBeGreaterThanOrEqual(1);
            expect(ordinal).toBeLessThanOrEqual(term.quota.replacements);
            expect(fee).toEqual(catalogue.fee(chain.model.name, chain.region, chain.policy.id, claim.data.kind, ordinal));
          }
          if (claim.fulfilled) {
            expect(claim.approved).not.toBeNull();
            expect(claim.payments.map((p) => [p.event.data.amount, p.event.data.currency])).toEqual([
              [claim.approved!.event.data.fee.amount, claim.approved!.event.data.fee.currency],
            ]);
          }
        }
      }
      expect(h.hasCorrections).toBe(false);
    }, 60, false);
  });

  test('P2: no chain is longer than 36 months, and every chain is 1Y+1Y+1Y, 2Y+1Y or 1Y+CR++1Y (or a prefix)', async () => {
    await property(2, (h) => {
      const check = (kinds: string[], from: string, until: string) => {
        expect(until <= addMonths(from, 36)).toBe(true);
        expect(ALLOWED.some((allowed) => kinds.every((k, i) => allowed[i] === k))).toBe(true);
      };
      for (const chain of chains(fullWorld(h), h)) {
        if (chain.terms.length === 0) continue;
        check(chain.terms.map((t) => t.kind), chain.terms[0].window.from, chain.terms[chain.terms.length - 1].window.until);
      }
      for (const serial of h.serials) {
        const view = h.ledger.entitlements(serial);
        if (view.chain.length > 0) check(view.chain.map((c) => c.kind), view.chain[0].from, view.chain[view.chain.length - 1].until);
      }
    });
  });

  test('X1 (purity): folding a history twice equals folding it once; duplicated or reordered input changes nothing', async () => {
    await property(3, (h) => {
      const events = h.ledger.events;
      const snapshot = structuredClone(events);
      for (const serial of h.serials) {
        for (const t of samples(h, 3)) {
          const query = { serial, at: toUtcIso(t), now: h.ledger.now };
          const once = foldEntitlements(catalogue, events, query);
          expect(foldEntitlements(catalogue, events, query)).toEqual(once);
          expect(foldEntitlements(catalogue, [...events, ...events], query)).toEqual(once);
          expect(foldEntitlements(catalogue, [...events].reverse(), query)).toEqual(once);
        }
      }
      expect(events).toEqual(snapshot);
    });
  });

  test('X1/T4: knownAt = now (or any instant after the last recording) equals the plain fold', async () => {
    await property(4, (h) => {
      const last = h.ledger.events[h.ledger.events.length - 1].metadata.recordedAt;
      for (const serial of h.serials) {
        for (const t of samples(h, 3)) {
          const plain = h.ledger.entitlements(serial, toUtcIso(t));
          const strip = (v: EntitlementView) => ({ ...v, knownAt: null });
          expect(h.ledger.entitlements(serial, toUtcIso(t), h.ledger.now)).toEqual(plain);
          expect(strip(h.ledger.entitlements(serial, toUtcIso(t), last))).toEqual(strip(plain));
        }
      }
    });
  });

  test('P3/I1: a serial is covered (active or pending) by at most one chain, and a chain covers one serial, at any instant', async () => {
    await property(5, (h) => {
      const world = fullWorld(h);
      for (const t of samples(h, 8)) {
        const then = world.filter((f) => f.at === null || f.at <= t);
        const coveredBy = new Map<string, string[]>();
        for (const chain of chains(then, h)) {
          const holder = currentUnit(chain);
          if (!holder) continue;
          const first = chain.terms[0];
          const last = chain.terms[chain.terms.length - 1];
          const covering = !first || t < first.window.fromMs || t < last.window.untilMs;
          if (covering) coveredBy.set(holder.serial, [...(coveredBy.get(holder.serial) ?? []), chain.planId]);
        }
        for (const [serial, planIds] of coveredBy) expect([serial, planIds.length]).toEqual([serial, 1]);
        const servedBy = new Map<string, string[]>();
        for (const serial of h.serials) {
          const view = h.ledger.entitlements(serial, toUtcIso(t));
          if (view.coverage === 'active' || view.coverage === 'pending') servedBy.set(view.planId!, [...(servedBy.get(view.planId!) ?? []), serial]);
        }
        for (const [planId, serials] of servedBy) expect([planId, serials]).toEqual([planId, serials.slice(0, 1)]);
      }
    });
  });

  test('I1/I2: replacement chains never fork: each issued unit replaces the unit that held the chain just before it', async () => {
    await property(8, (h) => {
      for (const chain of chains(fullWorld(h), h)) {
        const serials = chain.units.map((u) => u.serial);
        expect(new Set(serials).size).toBe(serials.length);
        const linear = chain.units.every(
          (u, i) => i === 0 || (u.via === 'replacement' && (u.fact as Fact<ClaimFulfilled>).event.data.serial === chain.units[i - 1].serial),
        );
        if (linear) continue;
        // Only a correction (a voided or amended fulfilment) may break the line, and then the view says so (X2).
        expect(h.hasCorrections).toBe(true);
        expect(h.ledger.entitlements(serials[serials.length - 1]).conflicts.length).toBeGreaterThan(0);
      }
    });
  });

  test('T4/X1: the timeline last entry equals the view at that event (its business time, known at its recording)', async () => {
    await property(6, (h) => {
      const events = h.ledger.events;
      const last = events[events.length - 1];
      const lastTime = last.type === 'EventCorrected' ? Date.parse(last.metadata.recordedAt) : instantMs(businessTimeOf({ type: last.type, data: last.data } as DomainEvent)!);
      for (const serial of h.serials.slice(0, 3)) {
        const entries = h.ledger.timeline(serial);
        expect(entries).toHaveLength(events.length);
        const entry = entries[entries.length - 1];
        expect(entry.eventId).toBe(last.eventId);
        expect(entry.view).toEqual(
          foldEntitlements(catalogue, events, { serial, at: toUtcIso(lastTime), knownAt: last.metadata.recordedAt, now: h.ledger.now }),
        );
      }
    }, 25);
  });
  test('a unit\'s fold kept and reused (UnitFold, the read side\'s cache) answers exactly what a fresh fold answers, at any at and knownAt, in any order', async () => {
    await property(9, (h) => {
      const events = h.ledger.events;
      const recorded = [...new Set(events.map((e) => e.metadata.recordedAt))];
      const knownAts = [undefined, ...recorded.filter((_, i) => i % 3 === 0)];
      const ats = [undefined, ...samples(h, 4).map(toUtcIso), ...samples(h, 3).map((t) => toUtcIso(t).slice(0, 10))];
      for (const serial of h.serials) {
        const fold = new UnitFold(catalogue, serial, events);
        // each query twice, interleaved, so that a reused world must give the same answer as a fresh one
        const queries = [...ats.flatMap((at) => knownAts.map((knownAt) => ({ at, knownAt })))];
        for (const q of [...queries, ...queries.reverse()]) {
          const query = { serial, at: q.at, knownAt: q.knownAt, now: h.ledger.now };
          expect(fold.view(query)).toEqual(foldEntitlements(catalogue, events, query));
        }
      }
    }, 40);
  });
});
