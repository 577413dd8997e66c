/**
 * RULES section 4 (W1-W6): replacement windows per plan kind, warranty while a plan is valid,
 * renewals and Care Refresh+ without gap, the safe-use reward, extensions as their own events,
 * quotas per term.
 */
import {
  activate, approve, cancel, carePlus, claim, givenHistory, goodwill, lastEvent, MemoryLedger, on, plusMs, purchase, refusalOf,
  renew, replaceUnit, service, sweep,
} from '@careledger/testing';
import { planStream } from '../events';

describe('W1: 1-Year plan: replacement and discounted repairs [D, D+12m); warranty while valid', () => {
  test('W1: a claim and a discounted repair inside [2024-03-10, 2025-03-10) are accepted', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2025-03-01T10:00:00-08:00' })).then([{ type: 'ClaimOpened' }]);
    await h.when(service('A', 'discounted-repair', '2025-03-09T23:00:00-07:00')).then([{ type: 'ServiceRecorded', data: { planId: 'P1' } }]);
  });

  test('W1: a discounted repair after the window is refused with OutsideValidity', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(service('A', 'discounted-repair', '2025-03-10T00:00:00-07:00')).thenRejects('OutsideValidity');
  });

  test('W1: the unit is under warranty while the plan is valid, even after its official year ended', async () => {
    const h = await givenHistory(
      activate('A', '2024-03-01T10:00:00-08:00', 'Mini 4 Pro'),
      { type: 'RecordVerification', serial: 'A', method: 'video', notifiedAt: '2024-05-31T10:00:00-07:00' },
      purchase({ model: 'Mini 4 Pro', purchasedAt: '2024-06-01T10:00:00-07:00' }),
    );
    const view = h.ledger.entitlements('A', '2025-05-31');
    expect(view.warranty.official).toEqual({ from: '2024-03-01', until: '2025-03-01' });
    expect(view.warranty.coveredUntil).toBe('2025-06-01');
    await h.when(service('A', 'warranty-repair', '2025-05-31T23:59:59.999-07:00')).then([{ type: 'ServiceRecorded' }]);
    await h.when(service('A', 'warranty-repair', '2025-06-01T00:00:00-07:00')).thenRejects('NotUnderWarranty');
  });
});

describe('W2: 2-Year plan: replacement [D, D+24m), extended warranty [D+12m, D+24m)', () => {
  test('W2: a claim in the second year is accepted; the purchase records the plan-year-2 extension', async () => {
    const h = await givenHistory();
    await h.when(purchase({ term: '2y' })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased' },
      { stream: planStream('P1'), type: 'WarrantyExtensionGranted', data: { kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', months: 12 } },
    ]);
    await h.ledger.run(purchase({ term: '2y' }));
    await h.when(claim({ incidentAt: '2026-03-09T12:00:00-07:00' })).then([{ type: 'ClaimOpened' }]);
  });

  test('W2: an incident at D+24m is refused with OutsideValidity', async () => {
    const h = await givenHistory(purchase({ term: '2y' }));
    await h.when(claim({ incidentAt: '2026-03-10T00:00:00-07:00' })).thenRejects('OutsideValidity');
  });

  test('W2: a US Mini 4 Pro 2-Year plan is covered by warranty until D+24m (official 12m + extended year)', async () => {
    const h = await givenHistory(purchase({ model: 'Mini 4 Pro', term: '2y', channel: 'bundle' }), activate('A', '2024-03-10T14:00:00-07:00', 'Mini 4 Pro'));
    const view = h.ledger.entitlements('A', '2025-06-01');
    expect(view.warranty.official).toEqual({ from: '2024-03-10', until: '2025-03-10' });
    // A bundle bought before activation: the activation makes D known and records the extension (W5).
    expect(view.warranty.extensions).toEqual([{ kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', status: 'granted' }]);
    expect(view.warranty.coveredUntil).toBe('2026-03-10');
    expect(h.ledger.events.filter((e) => e.type === 'WarrantyExtensionGranted')).toHaveLength(1);
    await h.when(sweep('P1', ['plan-year-2'])).then([]);
  });
});

describe('W3: renewal and Care Refresh+ start at the previous end, without gap', () => {
  test('W3: a renewal bought in the grace period covers [E, E+12m), same planId', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(renew('P1', '2025-03-20T10:00:00-07:00')).then([{ stream: planStream('P1'), type: 'PlanRenewed' }]);
    await h.ledger.run(renew('P1', '2025-03-20T10:00:00-07:00'));
    const view = h.ledger.entitlements('A', '2025-03-21');
    expect(view.planId).toBe('P1');
    expect(view.chain).toEqual([
      { kind: '1y', from: '2024-03-10', until: '2025-03-10' },
      { kind: 'renewal', from: '2025-03-10', until: '2026-03-10' },
    ]);
  });

  test('W3: an incident in the grace period before the renewal purchase is not covered (IncidentBeforeCoverage)', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-03-20T10:00:00-07:00'));
    await h.when(claim({ incidentAt: '2025-03-15T10:00:00-07:00', openedAt: '2025-03-21T10:00:00-07:00' })).thenRejects('IncidentBeforeCoverage');
    await h.when(claim({ incidentAt: '2025-03-20T10:00:00-07:00' })).then([{ type: 'ClaimOpened' }]);
  });

  test('W3: even as of a date in the gap, the renewal bought later shows no gap once known', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-03-20T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2025-03-15').coverage).toBe('expired');
    expect(h.ledger.entitlements('A', '2025-03-20')).toMatchObject({ coverage: 'active', replacement: { window: { from: '2025-03-10', until: '2026-03-10' } } });
  });

  test('W3 (product decision): a claim for a first-term incident opened after that term ended is refused (OutsideValidity)', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-20T10:00:00-08:00'));
    await h.when(claim({ incidentAt: '2025-03-05T10:00:00-08:00', openedAt: '2025-03-12T10:00:00-07:00' })).thenRejects('OutsideValidity');
  });

  test('W3: Care Refresh+ adds one year of warranty (its own extension) and one replacement, same chain', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), carePlus('P1', '2024-01-10T10:00:00-08:00'));
    const view = h.ledger.entitlements('A', '2024-03-10');
    expect(view.planId).toBe('P1');
    expect(view.chain.map((t) => t.kind)).toEqual(['1y', 'care-plus']);
    expect(view.replacement).toMatchObject({ window: { from: '2024-03-10', until: '2025-03-10' }, remaining: 1, flyawayRemaining: 1 });
    expect(view.warranty.extensions).toContainEqual({ kind: 'care-plus', from: '2024-03-10', until: '2025-03-10', status: 'granted' });
  });
});

describe('W4: the safe-use reward', () => {
  test('W4: no replacement used in the first term: reward [end, end+12m) pending (US)', async () => {
    const h = await givenHistory(purchase({}));
    expect(h.ledger.entitlements('A', '2025-01-01').safeUseReward).toEqual({ status: 'pending', window: { from: '2025-03-10', until: '2026-03-10' } });
  });

  test('W4: in the EU the reward starts when the 24-month official warranty ends', async () => {
    const h = await givenHistory(
      purchase({ region: 'EU', channel: 'bundle', purchasedAt: '2024-03-01T10:00:00+01:00' }),
      activate('A', '2024-03-10T10:00:00+01:00', 'Mavic 3', 'EU'),
    );
    const view = h.ledger.entitlements('A', '2024-06-01');
    expect(view.warranty.official).toEqual({ from: '2024-03-10', until: '2026-03-10' });
    expect(view.safeUseReward).toEqual({ status: 'pending', window: { from: '2026-03-10', until: '2027-03-10' } });
    expect(view.warranty.coveredUntil).toBe('2027-03-10');
  });

  test('W4: in the UK too (official 24 months), for a 2-Year plan the reward follows the official end', async () => {
    const h = await givenHistory(
      purchase({ region: 'UK', channel: 'bundle', term: '2y', purchasedAt: '2024-03-01T10:00:00Z' }),
      activate('A', '2024-03-12T10:00:00Z', 'Mavic 3', 'UK'),
    );
    expect(h.ledger.entitlements('A', '2024-06-01').safeUseReward.window).toEqual({ from: '2026-03-12', until: '2027-03-12' });
  });

  test('W4: an approved but unfulfilled replacement does not forfeit it; once fulfilled it does', async () => {
    const h = await givenHistory(
      purchase({}),
      claim({ incidentAt: '2024-09-01T10:00:00-07:00' }),
      approve('P1', 'C1', '2024-09-02T10:00:00-07:00'),
    );
    expect(h.ledger.entitlements('A', '2024-09-03').safeUseReward.status).toBe('pending');
    await h.ledger.run({ type: 'PayClaim', planId: 'P1', claimId: 'C1', at: '2024-09-03T10:00:00-07:00', amount: '159.00', currency: 'USD' });
    await h.ledger.run({ type: 'FulfilClaim', planId: 'P1', claimId: 'C1', at: '2024-09-04T10:00:00-07:00', replacementSerial: 'B' });
    expect(h.ledger.entitlements('B', '2024-09-05').safeUseReward).toEqual({ status: 'forfeited', window: null });
    expect(h.ledger.entitlements('A', '2024-09-03').safeUseReward.status).toBe('pending');
  });

  test('W4: a cancelled claim keeps the reward', async () => {
    const h = await givenHistory(
      purchase({}),
      claim({ incidentAt: '2024-09-01T10:00:00-07:00' }),
      approve('P1', 'C1', '2024-09-02T10:00:00-07:00'),
      cancel('P1', 'C1', '2024-09-03T10:00:00-07:00'),
    );
    expect(h.ledger.entitlements('A', '2025-01-01').safeUseReward.status).toBe('pending');
  });

  test('W4: a replacement in the renewal term (not the first plan) does not forfeit it', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2025-06-01T10:00:00-07:00', next: 'B' });
    expect(ledger.entitlements('B', '2025-06-02').safeUseReward).toEqual({ status: 'pending', window: { from: '2025-03-10', until: '2026-03-10' } });
  });

  test('W4: a first-term incident fulfilled after the first term ended still forfeits it', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ incidentAt: '2025-03-01T10:00:00-08:00' }));
    await ledger.run(approve('P1', 'C1', '2025-03-20T10:00:00-07:00'));
    await ledger.run({ type: 'PayClaim', planId: 'P1', claimId: 'C1', at: '2025-03-21T10:00:00-07:00', amount: '159.00', currency: 'USD' });
    await ledger.run({ type: 'FulfilClaim', planId: 'P1', claimId: 'C1', at: '2025-03-22T10:00:00-07:00', replacementSerial: 'B' });
    expect(ledger.entitlements('B', '2025-03-23').safeUseReward.status).toBe('forfeited');
  });

  test('W4/R8: standard-warranty repairs never forfeit it, even under V2021', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), service('A', 'warranty-repair', '2023-06-01T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2023-06-02').safeUseReward.status).toBe('pending');
  });

  test('W4: a 2-Year plan reward starts when its 24-month replacement window ends (US)', async () => {
    const h = await givenHistory(purchase({ term: '2y' }));
    expect(h.ledger.entitlements('A', '2024-06-01').safeUseReward.window).toEqual({ from: '2026-03-10', until: '2027-03-10' });
  });
});

describe('W5: every extension is its own event; the reward is granted by the sweep once settled', () => {
  /** A US Mavic 3 plan whose first term ends 2026-10-20 (0:00 PDT); 30 settlement days end 2026-11-19 0:00 PST. */
  async function endingSoon() {
    return givenHistory(purchase({ purchasedAt: '2025-10-20T10:00:00-07:00' }));
  }

  test('W5: before the settlement the sweep records nothing and the view shows the reward pending', async () => {
    const h = await endingSoon();
    h.ledger.advanceTo('2026-11-19T07:59:59.999Z');
    await h.when(sweep('P1', ['safe-use-reward'])).then([]);
    expect(h.ledger.entitlements('A', '2026-11-01').safeUseReward.status).toBe('pending');
  });

  test('W5: 30 calendar days after the first term ended (0:00 PST 2026-11-19, after the DST change) the sweep grants it', async () => {
    const h = await endingSoon();
    h.ledger.advanceTo('2026-11-19T08:00:00.000Z');
    await h.when(sweep('P1', ['safe-use-reward'])).then([
      { stream: planStream('P1'), type: 'WarrantyExtensionGranted', data: { kind: 'safe-use-reward', from: '2026-10-20', until: '2027-10-20', months: 12 } },
    ]);
  });

  test('W5: once granted, the view says granted (knownAt after the sweep) and pending as known before it; a second sweep adds nothing', async () => {
    const h = await endingSoon();
    h.ledger.advanceTo('2026-11-20T00:00:00Z');
    const before = h.ledger.now;
    await h.ledger.run(sweep('P1', ['safe-use-reward']));
    expect(h.ledger.entitlements('A', '2026-11-20').safeUseReward).toEqual({ status: 'granted', window: { from: '2026-10-20', until: '2027-10-20' } });
    expect(h.ledger.entitlements('A', '2026-11-20', before).safeUseReward.status).toBe('pending');
    expect(h.ledger.entitlements('A', '2026-11-20').warranty.extensions).toContainEqual({
      kind: 'safe-use-reward', from: '2026-10-20', until: '2027-10-20', status: 'granted',
    });
    await h.when(sweep('P1', ['safe-use-reward'])).then([]);
  });

  test('W5: a first-term claim still open blocks the grant; a forfeited reward is never granted', async () => {
    const open = await givenHistory(purchase({}), claim({ incidentAt: '2025-03-01T10:00:00-08:00' }));
    await open.when(sweep('P1', ['safe-use-reward'])).then([]);
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-09-01T10:00:00-07:00', next: 'B' });
    await on(ledger).when(sweep('P1', ['safe-use-reward'])).then([]);
  });

  test('W5: a goodwill extension by an agent is its own event, starting where coverage ends', async () => {
    const h = await givenHistory(purchase({ model: 'Mini 4 Pro' }));
    await h.when(goodwill('A', 6, '2024-09-01T10:00:00-07:00')).then([
      { stream: planStream('P1'), type: 'WarrantyExtensionGranted', data: { kind: 'goodwill', from: '2025-03-10', until: '2025-09-10', months: 6 } },
    ]);
    await h.ledger.run(goodwill('A', 6, '2024-09-01T10:00:00-07:00'));
    const view = h.ledger.entitlements('A', '2024-09-02');
    expect(view.warranty.extensions).toEqual([{ kind: 'goodwill', from: '2025-03-10', until: '2025-09-10', status: 'granted' }]);
    expect(view.warranty.coveredUntil).toBe('2025-09-10');
    expect(lastEvent(h.ledger, 'WarrantyExtensionGranted').metadata.occurredAt).toBe('2024-09-01T10:00:00-07:00');
  });

  test('W5: a goodwill extension of 0 (or more than 36) months is an invalid command', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(goodwill('A', 0, '2024-09-01T10:00:00-07:00')).thenRejects('InvalidCommand');
    await h.when(goodwill('A', 37, '2024-09-01T10:00:00-07:00')).thenRejects('InvalidCommand');
  });
});

describe('W6: quotas belong to each plan term; nothing carries over', () => {
  test('W6: unused replacements do not carry over: the renewal term has 2, not 4', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'));
    expect(h.ledger.entitlements('A', '2025-03-10').replacement).toMatchObject({ remaining: 2, used: 0, window: { from: '2025-03-10' } });
  });

  test('W6: a used-up first term does not limit the renewal term', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    await ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    expect(ledger.entitlements('C', '2025-03-10').replacement).toMatchObject({ remaining: 2, used: 0 });
    await on(ledger).when(claim({ claimId: 'C3', serial: 'C', incidentAt: '2025-04-01T10:00:00-07:00' })).then([{ type: 'ClaimOpened' }]);
  });

  test('W6: the renewal quota cannot be spent on a first-term incident (NoReplacementsRemaining)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    expect(await refusalOf(ledger, claim({ claimId: 'C3', serial: 'C', incidentAt: '2025-03-01T10:00:00-08:00' }))).toMatchObject({ code: 'NoReplacementsRemaining' });
  });

  test('W6: discounted repairs are counted per term too (2 in the first year, 2 again in the renewal)', async () => {
    const h = await givenHistory(
      purchase({}),
      service('A', 'discounted-repair', '2024-04-01T10:00:00-07:00'),
      service('A', 'discounted-repair', '2024-05-01T10:00:00-07:00'),
      renew('P1', '2025-02-01T10:00:00-08:00'),
    );
    await h.when(service('A', 'discounted-repair', '2025-02-02T10:00:00-08:00')).thenRejects('NoDiscountedRepairsRemaining');
    await h.when(service('A', 'discounted-repair', '2025-04-01T10:00:00-07:00')).then([{ type: 'ServiceRecorded' }]);
    expect(h.ledger.entitlements('A', plusMs('2025-04-01T17:00:00Z', 0)).discountedRepairs.remaining).toBe(2);
  });
});
