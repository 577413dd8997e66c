/**
 * RULES section 3 (P1-P7): plan types, chains of at most 36 months, one binding per unit in its
 * life, the purchase window, regions, the effective date D by channel, inherited plans; and R10's
 * order for a purchase or binding refused by several rules.
 */
import {
  activate, bindPlan, carePlus, DAYS, given, givenHistory, HOURS, lastEvent, MemoryLedger, on, plusMs, purchase, refusalOf, renew,
  replaceUnit, stream, sweep, verify, correct,
} from '@careledger/testing';
import { Catalogue, CatalogueData } from '../catalogue/catalogue';
import { defaultCatalogue } from '../catalogue/default';
import { deviceStream, planStream } from '../events';
import { RESERVATION_LEASE_MS } from '../device/rules';

const DEVICE_AND_PLAN = [{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased' }];

describe('P1: plan types 1-Year, 2-Year, Care Refresh+', () => {
  test('P1: 1-Year and 2-Year plans are sold; Care Refresh+ extends a (V2021) 1-Year plan', async () => {
    const h = await givenHistory();
    await h.when(purchase({ term: '1y' })).then(DEVICE_AND_PLAN);
    await h.when(purchase({ term: '2y' })).then([...DEVICE_AND_PLAN, { type: 'WarrantyExtensionGranted', data: { kind: 'plan-year-2' } }]);
    const v2021 = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await v2021.when(carePlus('P1', '2023-12-01T10:00:00-08:00')).then([
      { type: 'CarePlusPurchased' },
      { type: 'WarrantyExtensionGranted', data: { kind: 'care-plus', from: '2024-03-10', until: '2025-03-10' } },
    ]);
  });

  test('P1: any other plan is refused with UnknownPlan ("3y" at purchase, "care-plus" as a renewal term)', async () => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(purchase({ planId: 'P2', serial: 'B', term: '3y' })).thenRejects('UnknownPlan');
    expect((err as { rule?: string }).rule).toBe('P1');
    await h.when(renew('P1', '2025-02-01T10:00:00-08:00', { term: 'care-plus' })).thenRejects('UnknownPlan');
  });

  test('P1: a plan term the catalogue does not sell for the model is refused with UnknownPlan', async () => {
    const data = structuredClone(defaultCatalogue().data) as CatalogueData;
    data.models['Mini 4 Pro'].plans = ['1y'];
    const ledger = new MemoryLedger(new Catalogue(data));
    expect(await refusalOf(ledger, purchase({ model: 'Mini 4 Pro', term: '2y' }))).toMatchObject({ code: 'UnknownPlan' });
    await on(ledger).when(purchase({ model: 'Mini 4 Pro', term: '1y' })).then(DEVICE_AND_PLAN);
  });
});

describe('P2: a chain covers at most 36 months (1Y+1Y+1Y, 2Y+1Y, 1Y+CR++1Y)', () => {
  test('P2: 1Y+1Y+1Y is accepted and runs 36 months; a 4th year is refused with MaxTermExceeded', async () => {
    const h = await givenHistory(purchase({}), renew('P1', '2025-02-01T10:00:00-08:00'));
    await h.when(renew('P1', '2026-02-01T10:00:00-08:00')).then([{ type: 'PlanRenewed' }]);
    await h.ledger.run(renew('P1', '2026-02-01T10:00:00-08:00'));
    const err = await h.when(renew('P1', '2026-06-01T10:00:00-07:00')).thenRejects('MaxTermExceeded');
    expect((err as { rule?: string }).rule).toBe('P2');
  });

  test('P2: 2Y+1Y is accepted; a further renewal is refused with MaxTermExceeded', async () => {
    const h = await givenHistory(purchase({ term: '2y' }));
    await h.when(renew('P1', '2026-03-01T10:00:00-08:00')).then([{ type: 'PlanRenewed' }]);
    await h.ledger.run(renew('P1', '2026-03-01T10:00:00-08:00'));
    expect(h.ledger.entitlements('A', '2026-03-02').chain.map((t) => [t.kind, t.from, t.until])).toEqual([
      ['2y', '2024-03-10', '2026-03-10'],
      ['renewal', '2026-03-10', '2027-03-10'],
    ]);
    await h.when(renew('P1', '2026-03-02T10:00:00-08:00')).thenRejects('MaxTermExceeded');
  });

  test('P2: 1Y+CR++1Y (V2021) is accepted and runs 36 months; then MaxTermExceeded', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), carePlus('P1', '2024-01-10T10:00:00-08:00'));
    await h.when(renew('P1', '2025-02-01T10:00:00-08:00')).then([{ type: 'PlanRenewed' }]);
    await h.ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    expect(h.ledger.entitlements('A', '2025-03-11').chain.map((t) => t.kind)).toEqual(['1y', 'care-plus', 'renewal']);
    expect(h.ledger.entitlements('A', '2025-03-11').chain.at(-1)).toMatchObject({ until: '2026-03-10' });
    await h.when(renew('P1', '2025-06-01T10:00:00-07:00')).thenRejects('MaxTermExceeded');
  });

  test('P2: a 2-Year plan only as the first purchase: a 2-Year renewal is refused with RenewalMustBe1Year', async () => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(renew('P1', '2025-02-01T10:00:00-08:00', { term: '2y' })).thenRejects('RenewalMustBe1Year');
    expect((err as { rule?: string }).rule).toBe('P2');
  });

  test('P2: Care Refresh+ only as the 2nd element: after a renewal (1Y+1Y+CR+) or a second time, MaxTermExceeded', async () => {
    const renewed = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), renew('P1', '2024-01-10T10:00:00-08:00'));
    await renewed.when(carePlus('P1', '2024-06-01T10:00:00-07:00')).thenRejects('MaxTermExceeded');
    const twice = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), carePlus('P1', '2024-01-10T10:00:00-08:00'));
    await twice.when(carePlus('P1', '2024-06-01T10:00:00-07:00')).thenRejects('MaxTermExceeded');
  });
});

describe('P3: a unit is bound to a plan chain once in its life', () => {
  test('P3: a unit that never had a plan can be bought a plan', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(purchase({ planId: 'P2', serial: 'B' })).then([
      { stream: deviceStream('B'), type: 'DeviceBoundToPlan', data: { planId: 'P2', via: 'purchase' } },
      { stream: planStream('P2'), type: 'PlanPurchased' },
    ]);
  });

  test('P3: a second first purchase for a unit that had a plan (even long expired) is refused with AlreadyBound', async () => {
    const h = await givenHistory(purchase({}));
    h.ledger.advanceTo('2026-11-02T00:00:00Z');
    const err = await h.when(purchase({ planId: 'P2', purchasedAt: '2026-11-01T10:00:00-07:00' })).thenRejects('AlreadyBound');
    expect((err as { rule?: string }).rule).toBe('P3');
  });

  test('P3: a unit that lost its plan to a replacement is still refused a new plan (AlreadyBound)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, purchase({ planId: 'P2', purchasedAt: '2024-04-02T10:00:00-07:00' }))).toMatchObject({ code: 'AlreadyBound' });
  });

  test('P3: a card plan cannot be bound to a unit bound to another chain (AlreadyBound)', async () => {
    const h = await givenHistory(purchase({}), purchase({ planId: 'P2', channel: 'card', serial: null, purchasedAt: '2024-03-09T10:00:00-08:00' }));
    await h.when(bindPlan('P2', 'A', '2024-03-11T10:00:00-07:00')).thenRejects('AlreadyBound');
    await h.when(bindPlan('P2', 'B', '2024-03-11T10:00:00-07:00')).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanBound' }]);
  });

  test('P3 (reservation): a reservation of the unit by another plan still in flight refuses the purchase (AlreadyBound)', async () => {
    const h = given(stream(deviceStream('A'), {
      type: 'DeviceBoundToPlan',
      data: { serial: 'A', planId: 'PX', via: 'purchase', at: '2024-03-10T09:00:00-07:00', claimId: null },
    }));
    await h.when(purchase({})).thenRejects('AlreadyBound');
  });

  test('P3 (reservation): a reservation never confirmed by its plan stops blocking once its lease has passed', async () => {
    const h = given(stream(deviceStream('A'), {
      type: 'DeviceBoundToPlan',
      data: { serial: 'A', planId: 'PX', via: 'purchase', at: '2024-03-10T09:00:00-07:00', claimId: null },
    }));
    h.ledger.tick(RESERVATION_LEASE_MS - 1);
    await h.when(purchase({})).thenRejects('AlreadyBound');
    h.ledger.tick(1);
    await h.when(purchase({})).then(DEVICE_AND_PLAN);
  });

  test('P3 (reservation): the plan own reservation (a retried purchase after the device write) is reused, not written twice', async () => {
    const h = given(stream(deviceStream('A'), {
      type: 'DeviceBoundToPlan',
      data: { serial: 'A', planId: 'P1', via: 'purchase', at: '2024-03-10T10:00:00-07:00', claimId: null },
    }));
    await h.when(purchase({})).then([{ stream: planStream('P1'), type: 'PlanPurchased' }]);
  });

  test('P3/X1: a voided purchase frees the unit (once the reservation lease has passed)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(correct(lastEvent(ledger, 'PlanPurchased'), 'void'));
    ledger.tick(RESERVATION_LEASE_MS);
    await on(ledger).when(purchase({ planId: 'P2' })).then(DEVICE_AND_PLAN);
  });
});

describe('P4: when a first purchase or binding is allowed', () => {
  test('P4 (a): a never-activated unit can be bought a plan at any time', async () => {
    const h = await givenHistory();
    await h.when(purchase({ purchasedAt: '2026-10-01T10:00:00-07:00' })).then(DEVICE_AND_PLAN);
  });

  test('P4 (d): an aircraft activated 10 days earlier with a passed video verification 72 h before is accepted', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'), verify('A', '2024-05-08T09:00:00Z', 'video'));
    await h.when(purchase({ purchasedAt: '2024-05-11T09:00:00Z' })).then(DEVICE_AND_PLAN);
  });

  test('P4 (e): a handheld (default: every category) with an online repair inspection 71 h before is accepted', async () => {
    const h = await givenHistory(activate('A', '2024-01-01T09:00:00Z', 'Osmo Pocket 3'), verify('A', '2024-05-08T09:00:00Z', 'inspection'));
    await h.when(purchase({ model: 'Osmo Pocket 3', purchasedAt: plusMs('2024-05-08T09:00:00Z', 71 * HOURS) })).then(DEVICE_AND_PLAN);
  });

  test('P4: a passed verification whose 72 h have elapsed answers VerificationExpired', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'), verify('A', '2024-05-08T09:00:00Z', 'inspection'));
    const err = await h.when(purchase({ purchasedAt: plusMs('2024-05-08T09:00:00Z', 72 * HOURS + 1) })).thenRejects('VerificationExpired');
    expect((err as { rule?: string }).rule).toBe('P4');
  });

  test('P4: without any verification the late purchase answers PurchaseWindowClosed', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    await h.when(purchase({ purchasedAt: '2024-05-11T09:00:00Z' })).thenRejects('PurchaseWindowClosed');
  });

  test('P4: a verification notified after the purchase instant does not open the window for it', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'), verify('A', '2024-05-12T09:00:00Z'));
    await h.when(purchase({ purchasedAt: '2024-05-11T09:00:00Z' })).thenRejects('PurchaseWindowClosed');
  });

  test('P4 (card): measured at the binding: bound exactly 48 h after activation is accepted, D = binding date', async () => {
    const h = await givenHistory(
      purchase({ channel: 'card', serial: null, purchasedAt: '2024-04-01T10:00:00-07:00' }),
      activate('A', '2024-05-01T09:00:00Z'),
    );
    await h.when(bindPlan('P1', 'A', '2024-05-03T09:00:00Z')).then([{ type: 'DeviceBoundToPlan', data: { via: 'binding' } }, { type: 'PlanBound' }]);
    await h.ledger.run(bindPlan('P1', 'A', '2024-05-03T09:00:00Z'));
    expect(h.ledger.entitlements('A', '2024-05-04').chain).toEqual([{ kind: '1y', from: '2024-05-03', until: '2025-05-03' }]);
  });

  test('P4 (card): a card bought before activation but bound 48 h + 1 ms after it is refused with PurchaseWindowClosed', async () => {
    const h = await givenHistory(
      purchase({ channel: 'card', serial: null, purchasedAt: '2024-04-01T10:00:00-07:00' }),
      activate('A', '2024-05-01T09:00:00Z'),
    );
    await h.when(bindPlan('P1', 'A', '2024-05-03T09:00:00.001Z')).thenRejects('PurchaseWindowClosed');
  });

  test('P4 (bundle): measured at the purchase: a bundle bought 3 days after the aircraft was activated is refused', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    await h.when(purchase({ channel: 'bundle', purchasedAt: '2024-05-04T09:00:00Z' })).thenRejects('PurchaseWindowClosed');
    await h.when(purchase({ channel: 'bundle', purchasedAt: '2024-05-02T09:00:00Z' })).then(DEVICE_AND_PLAN);
  });
});

describe('P5: plan and product bought in the same region', () => {
  test('P5: a US plan for a unit sold (activated) in the US is accepted', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z', 'Mavic 3', 'US'));
    await h.when(purchase({ purchasedAt: '2024-05-02T09:00:00Z' })).then(DEVICE_AND_PLAN);
  });

  test('P5: a US plan for a unit sold in the EU is refused with RegionMismatch', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z', 'Mavic 3', 'EU'));
    const err = await h.when(purchase({ purchasedAt: '2024-05-02T09:00:00Z' })).thenRejects('RegionMismatch');
    expect((err as { rule?: string }).rule).toBe('P5');
  });

  test('P5: a card plan bound to a unit of another region is refused with RegionMismatch', async () => {
    const h = await givenHistory(
      purchase({ channel: 'card', serial: null, region: 'UK', purchasedAt: '2024-04-01T10:00:00+01:00' }),
      activate('A', '2024-05-01T09:00:00Z', 'Mavic 3', 'EU'),
    );
    await h.when(bindPlan('P1', 'A', '2024-05-02T09:00:00Z')).thenRejects('RegionMismatch');
  });

  test('P5: a plan for another model than the unit is refused with ModelMismatch', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z', 'Mini 4 Pro', 'US'));
    await h.when(purchase({ purchasedAt: '2024-05-02T09:00:00Z' })).thenRejects('ModelMismatch');
  });
});

describe('P6: the effective date D by channel', () => {
  test('P6 (bundle): D is the activation date; pending (no coverage) before it', async () => {
    const h = await givenHistory(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T12:00:00-08:00' }));
    expect(h.ledger.entitlements('A', '2024-03-05')).toMatchObject({ coverage: 'pending', chain: [], replacement: { window: null, remaining: 0 } });
    await h.ledger.run(activate('A', '2024-03-10T14:22:00-07:00'));
    expect(h.ledger.entitlements('A', '2024-03-05').coverage).toBe('pending');
    expect(h.ledger.entitlements('A', '2024-03-10')).toMatchObject({ coverage: 'active', chain: [{ kind: '1y', from: '2024-03-10', until: '2025-03-10' }] });
  });

  test('P6 (bundle OM 4): never activated, it takes effect 45 days after delivery', async () => {
    const h = await givenHistory(
      purchase({ model: 'OM 4', channel: 'bundle', purchasedAt: '2024-01-05T10:00:00-08:00', deliveredAt: '2024-01-10T15:00:00-08:00' }),
    );
    expect(h.ledger.entitlements('A', '2024-02-23').coverage).toBe('pending');
    expect(h.ledger.entitlements('A', '2024-02-24')).toMatchObject({ coverage: 'active', chain: [{ kind: '1y', from: '2024-02-24', until: '2025-02-24' }] });
  });

  test('P6 (bundle OM 5): activated before day 45, D is the activation date', async () => {
    const h = await givenHistory(
      purchase({ model: 'OM 5', channel: 'bundle', purchasedAt: '2024-01-05T10:00:00-08:00', deliveredAt: '2024-01-10T15:00:00-08:00' }),
      activate('A', '2024-01-20T10:00:00-08:00', 'OM 5'),
    );
    expect(h.ledger.entitlements('A', '2024-01-21').chain).toEqual([{ kind: '1y', from: '2024-01-20', until: '2025-01-20' }]);
  });

  test('P6 (bundle OM 5): activated only after day 45, D stays the 45th day after delivery', async () => {
    const h = await givenHistory(
      purchase({ model: 'OM 5', channel: 'bundle', purchasedAt: '2024-01-05T10:00:00-08:00', deliveredAt: '2024-01-10T15:00:00-08:00' }),
      activate('A', '2024-03-20T10:00:00-07:00', 'OM 5'),
    );
    expect(h.ledger.entitlements('A', '2024-03-21').chain).toEqual([{ kind: '1y', from: '2024-02-24', until: '2025-02-24' }]);
  });

  test('P6 (bundle, other models): an unactivated Osmo Pocket 3 bundle stays pending whatever its delivery', async () => {
    const h = await givenHistory(
      purchase({ model: 'Osmo Pocket 3', channel: 'bundle', purchasedAt: '2024-01-05T10:00:00-08:00', deliveredAt: '2024-01-10T15:00:00-08:00' }),
    );
    expect(h.ledger.entitlements('A', '2025-06-01')).toMatchObject({ coverage: 'pending', chain: [] });
    await h.when(renew('P1', '2024-06-01T10:00:00-07:00')).thenRejects('NoPlanToRenew');
  });

  test('P6 (bundle 2-Year, pending): no plan-year-2 at purchase; the activation that makes D known records it', async () => {
    const h = await givenHistory(purchase({ channel: 'bundle', term: '2y', purchasedAt: '2024-03-01T12:00:00-08:00' }));
    expect(h.ledger.events.map((e) => e.type)).toEqual(['DeviceBoundToPlan', 'PlanPurchased']);
    await h.when(sweep('P1', ['plan-year-2'])).then([]);
    await h.when(activate('A', '2024-03-10T14:22:00-07:00')).then([
      { stream: deviceStream('A'), type: 'DeviceActivated' },
      { stream: planStream('P1'), type: 'WarrantyExtensionGranted', data: { kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', at: '2024-03-10T14:22:00-07:00' } },
    ]);
    await h.ledger.run(activate('A', '2024-03-10T14:22:00-07:00'));
    expect(h.ledger.entitlements('A', '2024-03-11').warranty.extensions[0]).toMatchObject({ kind: 'plan-year-2', status: 'granted' });
    await h.when(sweep('P1', ['plan-year-2'])).then([]);
  });

  test('P6 (bundle 2-Year): a year-2 extension an activation did not record (a partial append) is granted by the sweep once D is known', async () => {
    const h = await givenHistory(
      purchase({ channel: 'bundle', term: '2y', purchasedAt: '2024-03-01T12:00:00-08:00' }),
      stream(deviceStream('A'), { type: 'DeviceActivated', data: { serial: 'A', model: 'Mavic 3', region: 'US', activatedAt: '2024-03-10T14:22:00-07:00' } }),
    );
    expect(h.ledger.entitlements('A', '2024-03-11').warranty.extensions[0]).toMatchObject({ kind: 'plan-year-2', status: 'pending' });
    await h.when(sweep('P1', ['plan-year-2'])).then([
      { type: 'WarrantyExtensionGranted', data: { kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', at: '2024-03-10T21:22:00.000Z' } },
    ]);
  });

  test('P6 (online): D is the purchase date in the region zone', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z'));
    await h.ledger.run(purchase({ purchasedAt: '2024-05-02T23:30:00-07:00' }));
    expect(h.ledger.entitlements('A', '2024-05-03').chain).toEqual([{ kind: '1y', from: '2024-05-02', until: '2025-05-02' }]);
  });

  test('P6 (card): D is the binding date; pending between the card sale and the binding', async () => {
    const h = await givenHistory(
      purchase({ channel: 'card', serial: null, purchasedAt: '2024-04-01T10:00:00-07:00' }),
      activate('A', '2024-05-01T09:00:00Z'),
      bindPlan('P1', 'A', '2024-05-02T10:00:00-07:00'),
    );
    expect(h.ledger.entitlements('A', '2024-05-02')).toMatchObject({ coverage: 'active', chain: [{ kind: '1y', from: '2024-05-02', until: '2025-05-02' }] });
    expect(h.ledger.entitlements('A', '2024-05-01').coverage).toBe('none');
  });
});

describe('P7: a unit that holds an inherited plan', () => {
  async function inherited() {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    return ledger;
  }

  test('P7: a replacement unit cannot be bought a new plan (AlreadyCoveredByInheritedPlan)', async () => {
    const ledger = await inherited();
    const err = await refusalOf(ledger, purchase({ planId: 'P2', serial: 'B', purchasedAt: '2024-04-02T10:00:00-07:00' }));
    expect(err).toMatchObject({ code: 'AlreadyCoveredByInheritedPlan', rule: 'P7' });
  });

  test('P7: nor bound to a card plan (AlreadyCoveredByInheritedPlan)', async () => {
    const ledger = await inherited();
    await ledger.run(purchase({ planId: 'P2', channel: 'card', serial: null, purchasedAt: '2024-04-02T10:00:00-07:00' }));
    await on(ledger).when(bindPlan('P2', 'B', '2024-04-03T10:00:00-07:00')).thenRejects('AlreadyCoveredByInheritedPlan');
  });

  test('P7: a unit that never held a plan next to it is accepted', async () => {
    const ledger = await inherited();
    await on(ledger).when(purchase({ planId: 'P2', serial: 'Z', purchasedAt: '2024-04-02T10:00:00-07:00' })).then(DEVICE_AND_PLAN);
  });
});

describe('R10 for a purchase or binding: UnknownModel, P7, P3, P5, then P4', () => {
  /** Unit C: activated in the EU long ago (P5 and P4 would refuse), and the inherited holder of US plan P1. */
  async function inheritedEuUnit() {
    const ledger = new MemoryLedger();
    await ledger.run(activate('C', '2023-01-01T10:00:00+01:00', 'Mavic 3', 'EU'));
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'C' });
    return ledger;
  }

  test('R10 (purchase): UnknownModel answers before AlreadyCoveredByInheritedPlan, RegionMismatch and the window', async () => {
    const ledger = await inheritedEuUnit();
    expect(await refusalOf(ledger, purchase({ planId: 'P2', serial: 'C', model: 'Phantom 4', purchasedAt: '2024-05-01T10:00:00-07:00' }))).toMatchObject({
      code: 'UnknownModel',
    });
  });

  test('R10 (purchase): AlreadyCoveredByInheritedPlan answers before RegionMismatch and PurchaseWindowClosed', async () => {
    const ledger = await inheritedEuUnit();
    expect(await refusalOf(ledger, purchase({ planId: 'P2', serial: 'C', purchasedAt: '2024-05-01T10:00:00-07:00' }))).toMatchObject({
      code: 'AlreadyCoveredByInheritedPlan',
    });
  });

  test('R10 (purchase): AlreadyCoveredByInheritedPlan answers before AlreadyBound for a unit bound twice', async () => {
    const h = given(
      stream(planStream('P0'), {
        type: 'PlanPurchased',
        data: {
          planId: 'P0', term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-01-10T10:00:00-08:00', orderId: 'O-0',
          serial: 'X', deliveredAt: null, price: null,
        },
      }),
      stream(planStream('P1'), {
        type: 'PlanPurchased',
        data: {
          planId: 'P1', term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T10:00:00-07:00', orderId: 'O-1',
          serial: 'A', deliveredAt: null, price: null,
        },
      }, { type: 'ClaimFulfilled', data: { claimId: 'C1', at: '2024-04-01T10:00:00-07:00', serial: 'A', replacementSerial: 'X' } }),
      stream(deviceStream('X'),
        { type: 'DeviceBoundToPlan', data: { serial: 'X', planId: 'P0', via: 'purchase', at: '2024-01-10T10:00:00-08:00', claimId: null } },
        { type: 'DeviceBoundToPlan', data: { serial: 'X', planId: 'P1', via: 'replacement', at: '2024-04-01T10:00:00-07:00', claimId: 'C1' } },
      ),
    );
    await h.when(purchase({ planId: 'P2', serial: 'X', purchasedAt: '2024-05-01T10:00:00-07:00' })).thenRejects('AlreadyCoveredByInheritedPlan');
  });

  test('R10 (purchase): AlreadyBound answers before RegionMismatch and PurchaseWindowClosed', async () => {
    const h = await givenHistory(activate('A', '2024-03-10T09:00:00-07:00', 'Mavic 3', 'US'), purchase({}));
    await h.when(purchase({ planId: 'P2', region: 'EU', purchasedAt: '2024-06-01T10:00:00+02:00' })).thenRejects('AlreadyBound');
  });

  test('R10 (purchase): RegionMismatch answers before PurchaseWindowClosed', async () => {
    const h = await givenHistory(activate('A', '2024-01-01T10:00:00+01:00', 'Mavic 3', 'EU'));
    await h.when(purchase({ purchasedAt: '2024-06-01T10:00:00-07:00' })).thenRejects('RegionMismatch');
  });

  test('R10 (purchase): VerificationExpired when an expired verification exists, else PurchaseWindowClosed, last', async () => {
    const h = await givenHistory(activate('A', '2024-01-01T10:00:00-08:00'), verify('A', '2024-02-01T10:00:00-08:00'));
    await h.when(purchase({ purchasedAt: '2024-06-01T10:00:00-07:00' })).thenRejects('VerificationExpired');
  });

  test('R10 (binding): AlreadyCoveredByInheritedPlan before RegionMismatch and PurchaseWindowClosed on a card binding', async () => {
    const ledger = await inheritedEuUnit();
    await ledger.run(purchase({ planId: 'P2', channel: 'card', serial: null, purchasedAt: '2024-04-02T10:00:00-07:00' }));
    await on(ledger).when(bindPlan('P2', 'C', '2024-05-01T10:00:00-07:00')).thenRejects('AlreadyCoveredByInheritedPlan');
  });

  test('R10 (binding): RegionMismatch before PurchaseWindowClosed on a card binding', async () => {
    const h = await givenHistory(
      activate('A', '2024-01-01T10:00:00+01:00', 'Mavic 3', 'EU'),
      purchase({ channel: 'card', serial: null, purchasedAt: '2024-04-02T10:00:00-07:00' }),
    );
    await h.when(bindPlan('P1', 'A', plusMs('2024-04-02T17:00:00Z', 30 * DAYS))).thenRejects('RegionMismatch');
  });
});
