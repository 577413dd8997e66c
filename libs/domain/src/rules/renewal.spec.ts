/**
 * RULES section 5 (N1-N3): 1-Year renewals of an existing chain within 15 calendar days of its end
 * (across DST changes), Care Refresh+ under V2021 only; and R10's order for renewals and Care Refresh+.
 */
import {
  activate, carePlus, givenHistory, MemoryLedger, on, purchase, refusalOf, renew, replaceUnit, verify,
} from '@careledger/testing';
import { planStream } from '../events';

const RENEWED = [{ stream: planStream('P1'), type: 'PlanRenewed', data: { term: '1y' } }];

async function twoReplacementsUsed(purchasedAt: string) {
  const ledger = new MemoryLedger();
  await ledger.run(purchase({ purchasedAt }));
  await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2023-04-01T10:00:00-07:00', next: 'B' });
  await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2023-05-01T10:00:00-07:00', next: 'C' });
  return ledger;
}

describe('N1: a 1-Year renewal needs an existing chain', () => {
  test('N1: a 1-Year plan, a 2-Year plan, 1Y+CR+ and 1Y+1Y can each be renewed', async () => {
    await (await givenHistory(purchase({}))).when(renew('P1', '2025-02-01T10:00:00-08:00')).then(RENEWED);
    await (await givenHistory(purchase({ term: '2y' }))).when(renew('P1', '2026-02-01T10:00:00-08:00')).then(RENEWED);
    await (await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), carePlus('P1', '2024-01-10T10:00:00-08:00')))
      .when(renew('P1', '2025-02-01T10:00:00-08:00'))
      .then(RENEWED);
    await (await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'))).when(renew('P1', '2026-02-01T10:00:00-08:00')).then(RENEWED);
  });

  test('N1: a plan not yet in effect (unactivated bundle) cannot be renewed: NoPlanToRenew', async () => {
    const h = await givenHistory(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T10:00:00-08:00' }));
    const err = await h.when(renew('P1', '2024-06-01T10:00:00-07:00')).thenRejects('NoPlanToRenew');
    expect((err as { rule?: string }).rule).toBe('N1');
  });

  test('N1: a renewal dated before the plan existed is refused with NoPlanToRenew', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(renew('P1', '2024-03-01T10:00:00-08:00')).thenRejects('NoPlanToRenew');
  });

  test('N1: renewing a plan the ledger does not know is NotFound (PlanNotFound)', async () => {
    const h = await givenHistory();
    await h.when(renew('P404', '2024-03-01T10:00:00-08:00')).thenRejects('PlanNotFound');
  });
});

describe('N2: the latest plan unexpired or expired at most 15 calendar days (t < E + 15 days in the region zone)', () => {
  test('N2: renewal at E + 15 days minus 1 ms is accepted (US, E = 2025-03-10)', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(renew('P1', '2025-03-24T23:59:59.999-07:00')).then(RENEWED);
  });

  test('N2: renewal at E + 15 days (0:00 of the 16th day) is refused with RenewalWindowClosed', async () => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(renew('P1', '2025-03-25T00:00:00-07:00')).thenRejects('RenewalWindowClosed');
    expect((err as { rule?: string }).rule).toBe('N2');
  });

  test('N2: the view announces the deadline and flips eligibility exactly there', async () => {
    const h = await givenHistory(purchase({}));
    expect(h.ledger.entitlements('A', '2025-03-24T23:59:59.999-07:00').renewal).toEqual({
      eligible: true, deadline: '2025-03-25T00:00:00.000-07:00', blockedBy: null,
    });
    expect(h.ledger.entitlements('A', '2025-03-25').renewal).toEqual({
      eligible: false, deadline: '2025-03-25T00:00:00.000-07:00', blockedBy: 'RenewalWindowClosed',
    });
  });

  test('N2 (DST, Los Angeles 2024-03-10): E = 2024-02-25 (PST), the deadline is 2024-03-11 0:00 PDT: 23:59:59.999 PDT accepted', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-02-25T10:00:00-08:00' }));
    expect(h.ledger.entitlements('A', '2024-03-01').renewal.deadline).toBe('2024-03-11T00:00:00.000-07:00');
    await h.when(renew('P1', '2024-03-11T06:59:59.999Z')).then(RENEWED);
  });

  test('N2 (DST, Los Angeles 2024-03-10): 00:30 PDT on 2024-03-11 is refused although fewer than 15 x 24 h have elapsed', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-02-25T10:00:00-08:00' }));
    await h.when(renew('P1', '2024-03-11T00:30:00-07:00')).thenRejects('RenewalWindowClosed');
  });

  test('N2 (DST, Los Angeles 2024-11-03): E = 2024-10-25 (PDT), 23:30 PST on 2024-11-08 is accepted although 15 x 24 h have elapsed', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-10-25T10:00:00-07:00' }));
    await h.when(renew('P1', '2024-11-08T23:30:00-08:00')).then(RENEWED);
    await h.when(renew('P1', '2024-11-09T00:00:00-08:00')).thenRejects('RenewalWindowClosed');
  });

  test('N2 (DST, Berlin 2024-03-31): E = 2024-03-20 (CET), 00:30 CEST on 2024-04-04 is refused; 23:59 CEST on 04-03 accepted', async () => {
    const h = await givenHistory(purchase({ region: 'EU', purchasedAt: '2023-03-20T10:00:00+01:00' }));
    await h.when(renew('P1', '2024-04-04T00:30:00+02:00')).thenRejects('RenewalWindowClosed');
    await h.when(renew('P1', '2024-04-03T23:59:59.999+02:00')).then(RENEWED);
  });

  test('N2 (DST, Berlin 2024-10-27): E = 2024-10-20 (CEST), 23:30 CET on 2024-11-03 is accepted; 0:00 CET on 11-04 refused', async () => {
    const h = await givenHistory(purchase({ region: 'EU', purchasedAt: '2023-10-20T10:00:00+02:00' }));
    await h.when(renew('P1', '2024-11-03T23:30:00+01:00')).then(RENEWED);
    await h.when(renew('P1', '2024-11-04T00:00:00+01:00')).thenRejects('RenewalWindowClosed');
  });

  test('N2: the grace is measured from the end of the latest term (after a renewal, from the renewal end)', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-03-20T10:00:00-07:00'));
    await h.when(renew('P1', '2026-03-24T23:59:59-07:00')).then(RENEWED);
    await h.when(renew('P1', '2026-03-25T00:00:00-07:00')).thenRejects('RenewalWindowClosed');
  });
});

describe('N3: Care Refresh+ (V2021 only, unexpired 1-Year plan, a replacement left, no 2-Year plan)', () => {
  test('N3: accepted on a V2021 1-Year plan up to 1 ms before its end', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await h.when(carePlus('P1', '2024-03-09T23:59:59.999-08:00')).then([{ type: 'CarePlusPurchased' }, { type: 'WarrantyExtensionGranted' }]);
  });

  test('N3: at the 1-Year plan end there is no grace: PlanExpired', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }));
    const err = await h.when(carePlus('P1', '2024-03-10T00:00:00-08:00')).thenRejects('PlanExpired');
    expect((err as { rule?: string }).rule).toBe('N3');
  });

  test('N3: with no replacement left it is refused with NoReplacementsRemaining; with one left it is accepted', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2023-04-01T10:00:00-07:00', next: 'B' });
    await on(ledger).when(carePlus('P1', '2023-04-15T10:00:00-07:00')).then([{ type: 'CarePlusPurchased' }, { type: 'WarrantyExtensionGranted' }]);
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2023-05-01T10:00:00-07:00', next: 'C' });
    expect(await refusalOf(ledger, carePlus('P1', '2023-06-01T10:00:00-07:00'))).toMatchObject({ code: 'NoReplacementsRemaining', rule: 'R1' });
  });

  test('N3: with a 2-Year plan in the chain it is refused with NotAllowedWith2YearPlan', async () => {
    const h = await givenHistory(purchase({ term: '2y', purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await h.when(carePlus('P1', '2023-06-01T10:00:00-07:00')).thenRejects('NotAllowedWith2YearPlan');
  });

  test('N3: under V2023 it is not sold: ProductDiscontinued; the view says so', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-07-13T10:00:00-07:00' }));
    await h.when(carePlus('P1', '2023-09-01T10:00:00-07:00')).thenRejects('ProductDiscontinued');
    expect(h.ledger.entitlements('A', '2023-09-01').carePlus).toEqual({ eligible: false, blockedBy: 'ProductDiscontinued' });
  });

  test('N3: the policy is the first plan version: a V2021 plan gets Care Refresh+ bought after 2023-07-13', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-07-12T10:00:00-07:00' }));
    expect(h.ledger.entitlements('A', '2024-06-01').carePlus).toEqual({ eligible: true, blockedBy: null });
    await h.when(carePlus('P1', '2024-06-01T10:00:00-07:00')).then([{ type: 'CarePlusPurchased' }, { type: 'WarrantyExtensionGranted' }]);
  });
});

describe('R10 for a renewal: RenewalMustBe1Year, MaxTermExceeded, RenewalWindowClosed, NoPlanToRenew', () => {
  async function fullAndLongExpired() {
    return givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'), renew('P1', '2026-02-01T10:00:00-08:00'));
  }

  test('R10 (renewal): RenewalMustBe1Year answers before MaxTermExceeded and RenewalWindowClosed', async () => {
    const h = await fullAndLongExpired();
    h.ledger.advanceTo('2027-06-02T00:00:00Z');
    await h.when(renew('P1', '2027-06-01T10:00:00-07:00', { term: '2y' })).thenRejects('RenewalMustBe1Year');
  });

  test('R10 (renewal): MaxTermExceeded answers before RenewalWindowClosed', async () => {
    const h = await fullAndLongExpired();
    h.ledger.advanceTo('2027-06-02T00:00:00Z');
    await h.when(renew('P1', '2027-06-01T10:00:00-07:00')).thenRejects('MaxTermExceeded');
  });

  test('R10 (renewal): RenewalWindowClosed answers before NoPlanToRenew', async () => {
    // A bundle whose D is an activation long before its (verified) sale: its term ended before it was sold.
    const h = await givenHistory(
      activate('A', '2022-01-10T10:00:00-08:00'),
      verify('A', '2023-05-30T10:00:00-07:00'),
      purchase({ channel: 'bundle', purchasedAt: '2023-06-01T10:00:00-07:00' }),
    );
    expect(h.ledger.entitlements('A', '2023-06-02').chain).toEqual([{ kind: '1y', from: '2022-01-10', until: '2023-01-10' }]);
    // 2023-05-15 is after E + 15 days and before the plan existed: both rules refuse.
    await h.when(renew('P1', '2023-05-15T10:00:00-07:00')).thenRejects('RenewalWindowClosed');
  });

  test('R10 (renewal): NoPlanToRenew when nothing else refuses', async () => {
    const h = await givenHistory(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T10:00:00-08:00' }));
    await h.when(renew('P1', '2024-04-01T10:00:00-07:00')).thenRejects('NoPlanToRenew');
  });
});

describe('R10 for Care Refresh+: ProductDiscontinued, NotAllowedWith2YearPlan, PlanExpired, NoReplacementsRemaining', () => {
  test('R10 (Care Refresh+): ProductDiscontinued answers before NotAllowedWith2YearPlan and PlanExpired', async () => {
    const h = await givenHistory(purchase({ term: '2y', purchasedAt: '2023-07-13T10:00:00-07:00' }));
    await h.when(carePlus('P1', '2026-01-01T10:00:00-08:00')).thenRejects('ProductDiscontinued');
  });

  test('R10 (Care Refresh+): NotAllowedWith2YearPlan answers before PlanExpired', async () => {
    const h = await givenHistory(purchase({ term: '2y', purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await h.when(carePlus('P1', '2025-06-01T10:00:00-07:00')).thenRejects('NotAllowedWith2YearPlan');
  });

  test('R10 (Care Refresh+): PlanExpired answers before NoReplacementsRemaining', async () => {
    const ledger = await twoReplacementsUsed('2023-03-10T10:00:00-08:00');
    expect(await refusalOf(ledger, carePlus('P1', '2024-03-10T00:00:00-08:00'))).toMatchObject({ code: 'PlanExpired' });
  });

  test('R10 (Care Refresh+): NoReplacementsRemaining when nothing else refuses', async () => {
    const ledger = await twoReplacementsUsed('2023-03-10T10:00:00-08:00');
    expect(await refusalOf(ledger, carePlus('P1', '2024-03-09T10:00:00-08:00'))).toMatchObject({ code: 'NoReplacementsRemaining' });
  });
});
