/**
 * RULES section 2 (C1-C9): the catalogue is data (categories, flyaway, reward and international
 * models, regions, fees, policy versions, warranty, service quotas), and the deciders read it.
 */
import {
  activate, approve, cancel, claim, DAYS, deny, givenHistory, MemoryLedger, money, on, pair, plusMs, purchase, refusalOf,
  registerCenter, replaceUnit, service, usd, verify,
} from '@careledger/testing';
import { Catalogue, CatalogueData, REGIONS } from '../catalogue/catalogue';
import { defaultCatalogue } from '../catalogue/default';

const catalogue = defaultCatalogue();

/** A catalogue replaced by configuration: a deep copy of the shipped one, changed by `edit`. */
function configured(edit: (data: CatalogueData) => void): Catalogue {
  const data = structuredClone(catalogue.data);
  edit(data);
  return new Catalogue(data);
}

const AIRCRAFT = [
  'Mavic 3', 'Mavic 3 Cine', 'Mavic 3 Classic', 'Mavic 3 Pro', 'Mavic 3 Pro Cine', 'Air 3', 'Air 2S', 'Mavic Air 2', 'Mini 4 Pro',
  'Mini 3', 'Mini 3 Pro', 'Mini 2', 'Mini 2 SE', 'Mini SE', 'Avata', 'Avata 2',
];
const HANDHELD = [
  'Osmo Pocket 3', 'Pocket 2', 'Osmo Action 4', 'Osmo Action 3', 'Action 2', 'Osmo Mobile 6', 'Osmo Mobile SE', 'OM 4', 'OM 4 SE', 'OM 5',
  'RS 4', 'RS 4 Pro', 'RS 4 Mini', 'RS 3', 'RS 3 Pro', 'RS 3 Mini', 'RS 2', 'RSC 2',
];
const FLYAWAY = [
  'Avata 2', 'Mini 4 Pro', 'Air 3', 'Mavic 3 Pro', 'Mavic 3 Pro Cine', 'Mini 2 SE', 'Mini 3', 'Mavic 3 Classic', 'Avata', 'Mini 3 Pro',
  'Mavic 3', 'Mavic 3 Cine', 'Air 2S', 'Mavic Air 2', 'Mini 2', 'Mini SE',
];
const REWARD = [
  'Osmo Action 4', 'Air 3', 'Mavic 3 Pro', 'Mavic 3 Pro Cine', 'Mini 2 SE', 'RS 3 Mini', 'Mini 3', 'Mavic 3 Classic', 'Osmo Mobile 6',
  'Osmo Mobile SE', 'Osmo Action 3', 'Avata', 'RS 3', 'RS 3 Pro', 'Mini 3 Pro', 'Mavic 3', 'Mavic 3 Cine', 'Action 2',
];
const INTERNATIONAL = [
  'RS 4', 'RS 4 Pro', 'Osmo Pocket 3', 'Osmo Action 4', 'RS 3 Mini', 'Osmo Mobile 6', 'Osmo Mobile SE', 'Osmo Action 3', 'Action 2',
  'OM 4', 'OM 4 SE', 'OM 5', 'RS 2', 'RSC 2', 'RS 3', 'RS 3 Pro', 'Pocket 2',
];

describe('C1: model categories are catalogue data', () => {
  test('C1: every listed aircraft is category aircraft and every listed handheld (Ronin RS/RSC included) is handheld', () => {
    expect(catalogue.modelNames().sort()).toEqual([...AIRCRAFT, ...HANDHELD].sort());
    for (const m of AIRCRAFT) expect([m, catalogue.model(m).category]).toEqual([m, 'aircraft']);
    for (const m of HANDHELD) expect([m, catalogue.model(m).category]).toEqual([m, 'handheld']);
  });

  test('C1: a handheld (RS 4 Mini) bought 29 days after activation is accepted (30-day rule)', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z', 'RS 4 Mini'));
    await h.when(purchase({ model: 'RS 4 Mini', purchasedAt: plusMs('2024-05-01T09:00:00Z', 29 * DAYS) })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased', data: { model: 'RS 4 Mini' } },
    ]);
  });

  test('C1: an aircraft (Mini 4 Pro) bought 3 days after activation is refused (48-hour rule)', async () => {
    const h = await givenHistory(activate('A', '2024-05-01T09:00:00Z', 'Mini 4 Pro'));
    const err = await h.when(purchase({ model: 'Mini 4 Pro', purchasedAt: plusMs('2024-05-01T09:00:00Z', 3 * DAYS) })).thenRejects('PurchaseWindowClosed');
    expect((err as { rule?: string }).rule).toBe('P4');
  });

  test('C1: a gimbal model added by configuration follows the 48-hour rule, not the 30-day one', async () => {
    const withGimbal = configured((d) => {
      d.models['Zenmuse X'] = { ...d.models['Osmo Pocket 3'], category: 'gimbal', international: false };
      for (const t of d.fees.filter((f) => f.model === 'Osmo Pocket 3')) d.fees.push({ ...t, model: 'Zenmuse X' });
    });
    const ledger = new MemoryLedger(withGimbal);
    await ledger.run(activate('A', '2024-05-01T09:00:00Z', 'Zenmuse X'));
    const h = on(ledger);
    await h.when(purchase({ model: 'Zenmuse X', purchasedAt: plusMs('2024-05-01T09:00:00Z', 48 * 3_600_000) })).then([
      { type: 'DeviceBoundToPlan' },
      { type: 'PlanPurchased' },
    ]);
    await h.when(purchase({ model: 'Zenmuse X', purchasedAt: plusMs('2024-05-01T09:00:00Z', 48 * 3_600_000 + 1) })).thenRejects('PurchaseWindowClosed');
  });

  test('C1: a model the catalogue does not know is refused with UnknownModel (names are normalised, never guessed)', async () => {
    const h = await givenHistory();
    await h.when(purchase({ model: 'DJI  mavic 3' })).then([{ type: 'DeviceBoundToPlan' }, { type: 'PlanPurchased', data: { model: 'Mavic 3' } }]);
    const err = await h.when(purchase({ model: 'Phantom 4' })).thenRejects('UnknownModel');
    expect((err as { rule?: string }).rule).toBe('C1');
    await h.when(activate('B', '2024-05-01T09:00:00Z', 'Mavic 4')).thenRejects('UnknownModel');
  });
});

describe('C2: flyaway-capable models', () => {
  test('C2: exactly the listed models are flyaway-capable', () => {
    for (const m of catalogue.modelNames()) expect([m, catalogue.model(m).flyaway]).toEqual([m, FLYAWAY.includes(m)]);
  });

  test('C2: a flyaway claim on a Mini 4 Pro (paired account and controller, records synced) is accepted', async () => {
    const h = await givenHistory(
      purchase({ model: 'Mini 4 Pro' }),
      pair('A', 'account', 'bind', '2024-03-11T10:00:00-07:00'),
      pair('A', 'remote-controller', 'bind', '2024-03-11T10:00:00-07:00'),
    );
    await h.when(claim({ kind: 'flyaway', cause: 'flyaway', incidentAt: '2024-06-01T12:00:00-07:00', flightRecordsSynced: true })).then([
      { type: 'ClaimOpened', data: { kind: 'flyaway' } },
    ]);
  });

  test('C2: a flyaway claim on an Osmo Pocket 3 is refused with FlyawayNotSupported', async () => {
    const h = await givenHistory(purchase({ model: 'Osmo Pocket 3' }));
    await h.when(claim({ kind: 'flyaway', cause: 'flyaway', incidentAt: '2024-06-01T12:00:00-07:00', flightRecordsSynced: true })).thenRejects(
      'FlyawayNotSupported',
    );
  });
});

describe('C3: safe-use-reward models', () => {
  test('C3: exactly the listed models earn the reward (not Pocket 3, not RS 4 Mini)', () => {
    for (const m of catalogue.modelNames()) expect([m, catalogue.model(m).safeUseReward]).toEqual([m, REWARD.includes(m)]);
  });

  test('C3: an Osmo Action 4 plan without claims shows the reward pending', async () => {
    const h = await givenHistory(purchase({ model: 'Osmo Action 4' }));
    expect(h.ledger.entitlements('A', '2024-06-01').safeUseReward).toEqual({ status: 'pending', window: { from: '2025-03-10', until: '2026-03-10' } });
  });

  test('C3: Osmo Pocket 3 and RS 4 Mini plans never earn it (not-applicable, no extension)', async () => {
    for (const model of ['Osmo Pocket 3', 'RS 4 Mini']) {
      const h = await givenHistory(purchase({ model }));
      const view = h.ledger.entitlements('A', '2025-06-01');
      expect(view.safeUseReward).toEqual({ status: 'not-applicable', window: null });
      expect(view.warranty.extensions).toEqual([]);
    }
  });
});

describe('C4: international coverage', () => {
  test('C4: exactly the listed models have international coverage', () => {
    for (const m of catalogue.modelNames()) expect([m, catalogue.model(m).international]).toEqual([m, INTERNATIONAL.includes(m)]);
  });

  test('C4: a US Osmo Pocket 3 may be serviced at an EU service center', async () => {
    const h = await givenHistory(registerCenter('SC-EU', 'EU'), purchase({ model: 'Osmo Pocket 3' }));
    await h.when(claim({ incidentAt: '2024-06-01T12:00:00-07:00', serviceCenterId: 'SC-EU' })).then([
      { type: 'ClaimOpened', data: { serviceRegion: 'EU' } },
    ]);
  });

  test('C4: a US RS 4 Mini (no international coverage) at an EU service center is refused with OutOfServiceRegion', async () => {
    const h = await givenHistory(registerCenter('SC-EU', 'EU'), purchase({ model: 'RS 4 Mini' }));
    await h.when(claim({ incidentAt: '2024-06-01T12:00:00-07:00', serviceCenterId: 'SC-EU' })).thenRejects('OutOfServiceRegion');
  });
});

describe('C5: sales regions', () => {
  const ZONES = {
    US: 'America/Los_Angeles', CA: 'America/Toronto', EU: 'Europe/Berlin', UK: 'Europe/London', CH: 'Europe/Zurich', NO: 'Europe/Oslo',
    AU: 'Australia/Sydney', HK: 'Asia/Hong_Kong', TW: 'Asia/Taipei', JP: 'Asia/Tokyo', KR: 'Asia/Seoul', CN: 'Asia/Shanghai',
  };

  test('C5: the twelve regions and their reference zones (T2)', () => {
    expect([...REGIONS].sort()).toEqual(Object.keys(ZONES).sort());
    for (const r of REGIONS) expect([r, catalogue.zone(r)]).toEqual([r, ZONES[r]]);
  });

  test('C5: a plan can be bought in every region, its D taken in that region zone', async () => {
    for (const region of REGIONS) {
      const h = await givenHistory(purchase({ region, purchasedAt: '2024-06-15T12:00:00Z' }));
      expect([region, h.ledger.entitlements('A', '2024-06-20').chain[0].from]).toEqual([region, '2024-06-15']);
    }
  });

  test('C5: a region outside the list is refused as an invalid command, nothing appended', async () => {
    const ledger = new MemoryLedger();
    for (const command of [
      purchase({ region: 'MX' as never }),
      activate('A', '2024-05-01T09:00:00Z', 'Mavic 3', 'MX' as never),
      registerCenter('SC-MX', 'MX' as never),
    ]) {
      expect(await refusalOf(ledger, command)).toMatchObject({ code: 'InvalidCommand' });
    }
    expect(ledger.events).toHaveLength(0);
  });
});

describe('C6: replacement fees by model, region, policy version, kind and ordinal', () => {
  test('C6: every model has a fee table in every region under every policy version, flyaway fee for flyaway models', () => {
    for (const m of catalogue.modelNames()) {
      for (const r of REGIONS) {
        for (const pv of catalogue.policyVersions) {
          const table = catalogue.feeTable(m, r, pv.id);
          expect(table.damage.length).toBeGreaterThan(0);
          expect(table.flyaway !== null).toBe(catalogue.model(m).flyaway);
        }
      }
    }
  });

  test('C6: known points: Mavic 3 US $159, $199, flyaway $739; Osmo Action 4 EU PLN 119/185/249; RS 4 Mini EU PLN 199', () => {
    for (const pv of ['V2021', 'V2023']) {
      expect(catalogue.fee('Mavic 3', 'US', pv, 'damage', 1)).toEqual(usd('159.00'));
      expect(catalogue.fee('Mavic 3', 'US', pv, 'damage', 2)).toEqual(usd('199.00'));
      expect(catalogue.fee('Mavic 3', 'US', pv, 'flyaway', 1)).toEqual(usd('739.00'));
      expect([1, 2, 3].map((n) => catalogue.fee('Osmo Action 4', 'EU', pv, 'damage', n))).toEqual(
        ['119.00', '185.00', '249.00'].map((a) => money(a, 'PLN')),
      );
      expect(catalogue.fee('RS 4 Mini', 'EU', pv, 'damage', 1)).toEqual(money('199.00', 'PLN'));
      expect(catalogue.fee('RS 4 Mini', 'EU', pv, 'damage', 2)).toEqual(money('199.00', 'PLN'));
    }
    expect(catalogue.feeTable('Mavic 3', 'US', 'V2023').placeholder).toBe(false);
    expect(catalogue.feeTable('Mavic 3', 'UK', 'V2023').placeholder).toBe(true);
  });

  test('C6: Osmo Action 4 (EU, 2-Year V2023): approvals cost PLN 119, 185, 249 and the 4th, beyond the last listed ordinal, 249', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ model: 'Osmo Action 4', region: 'EU', term: '2y', purchasedAt: '2024-03-10T10:00:00+01:00' }));
    const fees = [];
    let serial = 'A';
    for (const [i, at] of ['2024-04-01', '2024-06-01', '2024-09-01', '2025-01-10'].entries()) {
      const next = `A${i + 1}`;
      fees.push(await replaceUnit(ledger, { serial, claimId: `C${i + 1}`, at: `${at}T10:00:00+01:00`, next }));
      serial = next;
    }
    expect(fees).toEqual(['119.00', '185.00', '249.00', '249.00'].map((a) => money(a, 'PLN')));
  });

  test('C6: RS 4 Mini (EU): PLN 199 for each replacement', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ model: 'RS 4 Mini', region: 'EU', purchasedAt: '2024-03-10T10:00:00+01:00' }));
    const first = await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00+02:00', next: 'B' });
    const second = await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-05-01T10:00:00+02:00', next: 'C' });
    expect([first, second]).toEqual([money('199.00', 'PLN'), money('199.00', 'PLN')]);
  });

  test('C6: a flyaway always costs the flyaway fee, whatever its ordinal, and counts in the ordinal', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(pair('A', 'account', 'bind', '2024-03-11T10:00:00-07:00'));
    await ledger.run(pair('A', 'remote-controller', 'bind', '2024-03-11T10:00:00-07:00'));
    await ledger.run(claim({ claimId: 'D1', incidentAt: '2024-04-01T10:00:00-07:00' }));
    expect((await ledger.run(approve('P1', 'D1', '2024-04-02T10:00:00-07:00'))).decision.outcome).toMatchObject({ ordinal: 1, fee: usd('159.00') });
    await ledger.run(claim({ claimId: 'F1', kind: 'flyaway', cause: 'flyaway', incidentAt: '2024-05-01T10:00:00-07:00', flightRecordsSynced: true }));
    expect((await ledger.run(approve('P1', 'F1', '2024-05-02T10:00:00-07:00'))).decision.outcome).toMatchObject({ ordinal: 2, fee: usd('739.00') });
  });

  test('C6: a flyaway as the first replacement costs $739 and the damage replacement after it is ordinal 2 ($199)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(pair('A', 'account', 'bind', '2024-03-11T10:00:00-07:00'));
    await ledger.run(pair('A', 'remote-controller', 'bind', '2024-03-11T10:00:00-07:00'));
    expect(await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' })).toEqual(usd('739.00'));
    expect(ledger.entitlements('B', '2024-04-02').replacement.nextFee).toEqual({ damage: usd('199.00'), flyaway: null });
    expect(await replaceUnit(ledger, { serial: 'B', claimId: 'D2', at: '2024-05-01T10:00:00-07:00', next: 'C' })).toEqual(usd('199.00'));
  });

  test('C6/R7: the 2nd approval must be paid at the 2nd fee: $159 is refused (PaymentMismatch), $199 accepted', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await ledger.run(claim({ claimId: 'C2', serial: 'B', incidentAt: '2024-05-01T10:00:00-07:00' }));
    await ledger.run(approve('P1', 'C2', '2024-05-02T10:00:00-07:00'));
    const h = on(ledger);
    await h.when({ type: 'PayClaim', planId: 'P1', claimId: 'C2', at: '2024-05-03T10:00:00-07:00', amount: '159.00', currency: 'USD' }).thenRejects('PaymentMismatch');
    await h.when({ type: 'PayClaim', planId: 'P1', claimId: 'C2', at: '2024-05-03T10:00:00-07:00', amount: '199.00', currency: 'USD' }).then([{ type: 'ClaimPaid' }]);
  });

  test('C6: a cancelled approval releases its ordinal: the next approval is ordinal 1 again ($159)', async () => {
    const h = await givenHistory(
      purchase({}),
      claim({ claimId: 'C1', incidentAt: '2024-04-01T10:00:00-07:00' }),
      approve('P1', 'C1', '2024-04-02T10:00:00-07:00'),
      cancel('P1', 'C1', '2024-04-03T10:00:00-07:00'),
      claim({ claimId: 'C2', incidentAt: '2024-05-01T10:00:00-07:00' }),
    );
    await h.when(approve('P1', 'C2', '2024-05-02T10:00:00-07:00')).then([{ type: 'ClaimApproved', data: { ordinal: 1, fee: usd('159.00') } }]);
  });

  test('C6: a denied approval releases its ordinal too; an earlier live approval keeps the count (ordinal 2, $199)', async () => {
    const h = await givenHistory(
      purchase({}),
      claim({ claimId: 'C1', incidentAt: '2024-04-01T10:00:00-07:00' }),
      approve('P1', 'C1', '2024-04-02T10:00:00-07:00'),
      claim({ claimId: 'C2', incidentAt: '2024-04-05T10:00:00-07:00' }),
      approve('P1', 'C2', '2024-04-06T10:00:00-07:00'),
      deny('P1', 'C2', '2024-04-07T10:00:00-07:00'),
      claim({ claimId: 'C3', incidentAt: '2024-05-01T10:00:00-07:00' }),
    );
    await h.when(approve('P1', 'C3', '2024-05-02T10:00:00-07:00')).then([{ type: 'ClaimApproved', data: { ordinal: 2, fee: usd('199.00') } }]);
  });
});

/**
 * The fee points of ../shared/domain/FEES-SOURCED.md, transcribed: model, region, policy versions,
 * kind, ordinal (1-based; `each` is ordinal 1 of a one-point table), amount, currency, and a page
 * that states it. Tiered figures are V2021 and flat ones V2023 where a model has both, else both.
 */
const BOTH = ['V2021', 'V2023'];
const SOURCED: [string, string, string[], 'damage' | 'flyaway', number, string, string, string][] = [
  ['Mavic 3', 'US', BOTH, 'damage', 1, '159.00', 'USD', 'https://advexure.com/collections/dji-care-refresh/products/dji-care-refresh-for-mavic-3'],
  ['Mavic 3', 'US', BOTH, 'damage', 2, '199.00', 'USD', 'S003'],
  ['Mavic 3', 'US', BOTH, 'flyaway', 1, '739.00', 'USD', 'S003'],
  ['Mavic 3', 'EU', BOTH, 'damage', 1, '759.00', 'PLN', 'https://poistomyynti.com/ga/products/dji-care-refresh-dji-mavic-3-2-year-plan'],
  ['Mavic 3', 'EU', BOTH, 'damage', 2, '949.00', 'PLN', 'https://poistomyynti.com/ga/products/dji-care-refresh-dji-mavic-3-2-year-plan'],
  ['Mavic 3', 'EU', BOTH, 'damage', 3, '1049.00', 'PLN', 'https://poistomyynti.com/ga/products/dji-care-refresh-dji-mavic-3-2-year-plan'],
  ['Mavic 3', 'EU', BOTH, 'flyaway', 1, '3349.00', 'PLN', 'https://poistomyynti.com/ga/products/dji-care-refresh-dji-mavic-3-2-year-plan'],
  ['Mavic 3 Classic', 'EU', BOTH, 'damage', 1, '829.00', 'PLN', 'https://merivirta.com/products/dji-care-refresh-2-year-mavic-3-classic'],
  ['Mavic 3 Classic', 'EU', BOTH, 'damage', 2, '999.00', 'PLN', 'https://merivirta.com/products/dji-care-refresh-2-year-mavic-3-classic'],
  ['Mavic 3 Classic', 'EU', BOTH, 'damage', 3, '1299.00', 'PLN', 'https://merivirta.com/products/dji-care-refresh-2-year-mavic-3-classic'],
  ['Mavic 3 Classic', 'EU', BOTH, 'flyaway', 1, '3349.00', 'PLN', 'https://merivirta.com/products/dji-care-refresh-2-year-mavic-3-classic'],
  ['Mavic 3 Pro', 'EU', BOTH, 'damage', 1, '1019.00', 'PLN', 'https://vepor.eu/it/products/dji-care-refresh-piano-2-anni-dji-mavic-3-pro-code'],
  ['Mavic 3 Pro', 'EU', BOTH, 'damage', 2, '1279.00', 'PLN', 'https://vepor.eu/it/products/dji-care-refresh-piano-2-anni-dji-mavic-3-pro-code'],
  ['Mavic 3 Pro', 'EU', BOTH, 'damage', 3, '1399.00', 'PLN', 'https://vepor.eu/it/products/dji-care-refresh-piano-2-anni-dji-mavic-3-pro-code'],
  ['Mavic 3 Pro', 'EU', BOTH, 'flyaway', 1, '4499.00', 'PLN', 'https://vepor.eu/it/products/dji-care-refresh-piano-2-anni-dji-mavic-3-pro-code'],
  ['Mini 4 Pro', 'EU', BOTH, 'damage', 1, '375.00', 'PLN', 'https://merivirta.com/de/products/dji-care-refresh-dji-mini-4-pro-dwuletni-plan-kod-elektroniczny'],
  ['Mini 4 Pro', 'EU', BOTH, 'flyaway', 1, '1275.00', 'PLN', 'https://merivirta.com/de/products/dji-care-refresh-dji-mini-4-pro-dwuletni-plan-kod-elektroniczny'],
  ['Mini 3', 'EU', ['V2021'], 'damage', 1, '289.00', 'PLN', 'https://gearpro.ro/product-rum-3242-DJI-Care-Refresh-Asigurare-DJI-Mini-3-cod-electronic.html'],
  ['Mini 3', 'EU', ['V2021'], 'damage', 2, '349.00', 'PLN', 'https://baby.co.ua/product/14013019891'],
  ['Mini 3', 'EU', ['V2023'], 'damage', 1, '289.00', 'PLN', 'https://lemona.ee/en/dji-care-refresh-dji-mini-3-dji.html'],
  ['Mini 3', 'EU', BOTH, 'flyaway', 1, '1149.00', 'PLN', 'https://lemona.ee/en/dji-care-refresh-dji-mini-3-dji.html'],
  ['Mini 2 SE', 'EU', BOTH, 'damage', 1, '209.00', 'PLN', 'https://vepor.eu/lt/products/dji-care-refresh-dji-mini-2-se-kodas-elektroninis'],
  ['Mini 2 SE', 'EU', BOTH, 'damage', 2, '249.00', 'PLN', 'https://vepor.eu/lt/products/dji-care-refresh-dji-mini-2-se-kodas-elektroninis'],
  ['Avata', 'EU', BOTH, 'damage', 1, '349.00', 'PLN', 'https://vepor.eu/de/products/dji-care-refresh-dji-avata-elektronisch-code'],
  ['Avata', 'EU', BOTH, 'damage', 2, '379.00', 'PLN', 'https://vepor.eu/de/products/dji-care-refresh-dji-avata-elektronisch-code'],
  ['Avata', 'EU', BOTH, 'flyaway', 1, '1349.00', 'PLN', 'https://vepor.eu/de/products/dji-care-refresh-dji-avata-elektronisch-code'],
  ['Osmo Action 4', 'EU', BOTH, 'damage', 1, '119.00', 'PLN', 'https://www.lemona.ee/en/dji-care-refresh-dji-osmo-action-4-dwuletni-plan-kod-elektroniczny-dji.html'],
  ['Osmo Action 4', 'EU', BOTH, 'damage', 2, '185.00', 'PLN', 'S002'],
  ['Osmo Action 4', 'EU', BOTH, 'damage', 3, '249.00', 'PLN', 'https://beautychest.lt/products/dji-care-refresh-dji-osmo-action-4-roczny-plan-kod-elektroniczny-dji-care-refresh-dji-osmo-action-4-roczny-plan-kod-elektroniczny'],
  ['Osmo Action 3', 'EU', ['V2021'], 'damage', 1, '119.00', 'PLN', 'https://cdon.se/produkt/dji-care-refresh-dji-osmo-action-3-kod-elektroniczny-16b31b9807ee52b4'],
  ['Osmo Action 3', 'EU', ['V2021'], 'damage', 2, '185.00', 'PLN', 'https://cdon.se/produkt/dji-care-refresh-dji-osmo-action-3-kod-elektroniczny-16b31b9807ee52b4'],
  ['Osmo Action 3', 'EU', ['V2023'], 'damage', 1, '95.00', 'PLN', 'https://wasserman.eu/pl/p/dji-care-refresh-dji-osmo-action-3-797106'],
  ['Action 2', 'EU', BOTH, 'damage', 1, '89.00', 'PLN', 'https://vepor.eu/sk/products/dji-care-refresh-action-2-2-rocna-ochrana-kod-elektronicky'],
  ['Action 2', 'EU', BOTH, 'damage', 2, '150.00', 'PLN', 'https://merivirta.com/products/dji-care-refresh-action-2-2-vuotias-suojaus-koodi-elektroninen'],
  ['Action 2', 'EU', BOTH, 'damage', 3, '185.00', 'PLN', 'https://vepor.eu/sk/products/dji-care-refresh-action-2-2-rocna-ochrana-kod-elektronicky'],
  ['Pocket 2', 'EU', BOTH, 'damage', 1, '149.00', 'PLN', 'https://merivirta.com/de/products/dji-care-refresh-pocket-2-osmo-pocket-2-code'],
  ['Pocket 2', 'EU', BOTH, 'damage', 2, '199.00', 'PLN', 'https://merivirta.com/de/products/dji-care-refresh-pocket-2-osmo-pocket-2-code'],
  ['Osmo Mobile SE', 'EU', BOTH, 'damage', 1, '49.00', 'PLN', 'https://megadron.pl/en/products/dji-care-refresh-2-years-om-se-insurance-27089.html?selected_size=onesize'],
  ['Osmo Mobile SE', 'EU', BOTH, 'damage', 2, '75.00', 'PLN', 'https://megadron.pl/en/products/dji-care-refresh-2-years-om-se-insurance-27089.html?selected_size=onesize'],
  ['Osmo Mobile SE', 'EU', BOTH, 'damage', 3, '99.00', 'PLN', 'https://megadron.pl/en/products/dji-care-refresh-2-years-om-se-insurance-27089.html?selected_size=onesize'],
  ['RS 3', 'EU', BOTH, 'damage', 1, '289.00', 'PLN', 'https://vepor.eu/pl/products/dji-care-refresh-2-letni-plan-dji-rs-3-kod'],
  ['RS 3 Mini', 'EU', BOTH, 'damage', 1, '209.00', 'PLN', 'https://merivirta.com/pl/products/dji-care-refresh-2-year-plan-dji-rs-3-mini-code'],
  ['RS 4', 'EU', BOTH, 'damage', 1, '225.00', 'PLN', 'https://megadron.pl/pl/products/dji-care-refresh-rs-4-2-lata-29382.html?selected_size=onesize'],
  ['RS 4 Pro', 'EU', BOTH, 'damage', 1, '345.00', 'PLN', 'https://digitehnika.ee/en/products/domyslna-nazwa-41/?add-to-cart=3170509'],
  ['RS 4 Mini', 'EU', BOTH, 'damage', 1, '199.00', 'PLN', 'S004'],
  ['Mavic Air 2', 'HK', BOTH, 'damage', 1, '569.00', 'HKD', 'https://suburban.com.hk/pages/otg-care-refresh-mavic-air2-hk'],
  ['Mavic Air 2', 'HK', BOTH, 'damage', 2, '669.00', 'HKD', 'https://suburban.com.hk/pages/otg-care-refresh-mavic-air2-hk'],
  ['Mini 2', 'JP', BOTH, 'damage', 1, '5990', 'JPY', 'https://drone-journey.com/dji-care-refresh'],
  ['Mini 2', 'JP', BOTH, 'damage', 2, '6990', 'JPY', 'https://drone-journey.com/dji-care-refresh'],
];

/** The sources of one point of a table (null: a placeholder point). */
function pointSources(model: string, region: string, pv: string, kind: 'damage' | 'flyaway', ordinal: number): string[] | null {
  const table = catalogue.feeTable(model, region, pv);
  if (!table.sources) return null;
  return kind === 'flyaway' ? table.sources.flyaway : table.sources.damage[Math.min(ordinal, table.damage.length) - 1];
}

describe('C6: fee points from public pages (FEES-SOURCED.md), each with its source; the rest marked placeholders', () => {
  test.each(SOURCED)('%s %s %j: %s #%i is %s %s, sourced', (model, region, versions, kind, ordinal, amount, currency, source) => {
    for (const pv of versions) {
      expect([pv, catalogue.fee(model, region, pv, kind, ordinal)]).toEqual([pv, money(amount, currency)]);
      expect([pv, pointSources(model, region, pv, kind, ordinal)]).toEqual([pv, expect.arrayContaining([source])]);
    }
  });

  test('a sourced table lists exactly the sourced points: its last fee is the last one a page states (later ordinals repeat it)', () => {
    const lastOrdinal = new Map<string, number>();
    for (const [model, region, versions, kind, ordinal] of SOURCED) {
      if (kind !== 'damage') continue;
      for (const pv of versions) lastOrdinal.set(`${model}|${region}|${pv}`, Math.max(ordinal, lastOrdinal.get(`${model}|${region}|${pv}`) ?? 0));
    }
    for (const [key, last] of lastOrdinal) {
      const [model, region, pv] = key.split('|');
      expect([key, catalogue.feeTable(model, region, pv).damage.length]).toEqual([key, last]);
    }
  });

  test('every point carries a source or is a placeholder; a table is marked placeholder exactly when one of its points is', () => {
    let sourced = 0;
    let placeholders = 0;
    for (const table of catalogue.data.fees) {
      const points = table.sources ? [...table.sources.damage, ...(table.flyaway === null ? [] : [table.sources.flyaway])] : [null];
      const withoutSource = points.filter((s) => s === null).length;
      const label = `${table.model}/${table.region}/${table.policyVersions.join('+')}`;
      expect([label, table.placeholder]).toEqual([label, withoutSource > 0]);
      for (const s of points) {
        if (s === null) continue;
        sourced++;
        expect(s.length).toBeGreaterThan(0);
        for (const one of s) expect([label, one]).toEqual([label, expect.stringMatching(/^(https:\/\/\S+|S00[0-4])$/)]);
      }
      if (!table.sources) placeholders++;
    }
    // the 49 transcribed points are in the catalogue (more as points, since some tables serve both versions)
    expect(sourced).toBeGreaterThanOrEqual(SOURCED.length);
    expect(placeholders).toBeGreaterThan(300);
  });

  test('sources point at the points they state: the sourced points are exactly those of FEES-SOURCED.md and the seeds', () => {
    const expected = new Set(SOURCED.flatMap(([model, region, versions, kind, ordinal]) => versions.map((pv) => `${model}|${region}|${pv}|${kind}|${ordinal}`)));
    const actual = new Set<string>();
    for (const table of catalogue.data.fees) {
      if (!table.sources) continue;
      for (const pv of table.policyVersions) {
        table.sources.damage.forEach((s, i) => s && actual.add(`${table.model}|${table.region}|${pv}|damage|${i + 1}`));
        if (table.sources.flyaway) actual.add(`${table.model}|${table.region}|${pv}|flyaway|1`);
      }
    }
    expect([...actual].sort()).toEqual([...expected].sort());
  });

  test('the doubtful statements are not loaded: Air 3 EU stays a placeholder, no GBP Mini 3 Pro fee of 479', () => {
    for (const pv of BOTH) {
      expect(catalogue.feeTable('Air 3', 'EU', pv)).toMatchObject({ placeholder: true });
      expect(catalogue.feeTable('Air 3', 'EU', pv).sources).toBeUndefined();
      expect(catalogue.fee('Mini 3 Pro', 'UK', pv, 'damage', 1).amount).not.toBe('479.00');
      expect(catalogue.feeTable('Osmo Mobile 6', 'EU', pv).sources).toBeUndefined();
    }
  });

  test('a partly sourced table keeps its unsourced point as a placeholder in the table currency (Mini 2 SE EU flyaway)', () => {
    const table = catalogue.feeTable('Mini 2 SE', 'EU', 'V2023');
    expect(table).toMatchObject({ currency: 'PLN', placeholder: true, damage: ['209.00', '249.00'] });
    expect(table.sources?.flyaway).toBeNull();
    expect(table.flyaway).toMatch(/^\d+\.00$/);
  });

  test('C6/C7: Mini 3 EU: a V2021 plan pays the tiered PLN 289 then 349, a V2023 plan PLN 289 for every replacement', async () => {
    const fees: Record<string, unknown[]> = {};
    for (const [pv, purchasedAt, year] of [['V2021', '2023-03-10T10:00:00+01:00', '2023'], ['V2023', '2024-03-10T10:00:00+01:00', '2024']] as const) {
      const ledger = new MemoryLedger();
      await ledger.run(purchase({ model: 'Mini 3', region: 'EU', purchasedAt }));
      expect(ledger.entitlements('A', `${year}-03-11`).policyVersion).toBe(pv);
      fees[pv] = [
        await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: `${year}-04-01T10:00:00+02:00`, next: 'B' }),
        await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: `${year}-05-01T10:00:00+02:00`, next: 'C' }),
      ];
    }
    expect(fees).toEqual({ V2021: [money('289.00', 'PLN'), money('349.00', 'PLN')], V2023: [money('289.00', 'PLN'), money('289.00', 'PLN')] });
  });

  test('the catalogue refuses a table whose placeholder mark contradicts its sources, or whose sources do not match its points', () => {
    const table = (d: CatalogueData) => d.fees.find((f) => f.model === 'Mavic 3' && f.region === 'EU')!;
    expect(() => configured((d) => { table(d).sources!.damage[1] = null; })).toThrow(/placeholder is false but a point has no source/);
    expect(() => configured((d) => { table(d).placeholder = true; })).toThrow(/placeholder is true but every point has a source/);
    expect(() => configured((d) => { table(d).sources!.damage.pop(); })).toThrow(/2 damage sources for 3 damage fees/);
    // a catalogue supplied by configuration may carry real fees without sources
    expect(() => configured((d) => { delete table(d).sources; })).not.toThrow();
  });
});

describe('Plan prices stated on public pages, each with its source', () => {
  test('every plan price names a known model, a source page and a currency; the transcribed ones are there', () => {
    const prices = catalogue.data.planPrices ?? [];
    expect(prices).toHaveLength(40);
    for (const p of prices) {
      expect(catalogue.findModel(p.model)).toBeDefined();
      expect(p.source).toMatch(/^https:\/\/\S+$/);
      expect(p.price.amount).toMatch(/^\d+(\.\d{2})?$/);
    }
    expect(catalogue.planPrices('Mavic 3', 'US')).toEqual([
      { model: 'Mavic 3', region: 'US', term: '1y', price: usd('239.00'), source: 'https://advexure.com/collections/dji-care-refresh/products/dji-care-refresh-for-mavic-3', date: null },
    ]);
    expect(catalogue.planPrices('Mini 3', 'EU').map((p) => [p.term, p.price, p.date])).toEqual([
      ['1y', money('299.00', 'PLN'), '2023'],
      ['2y', money('499.00', 'PLN'), '2023'],
    ]);
    expect(catalogue.planPrices('Osmo Action 3', 'EU').map((p) => p.price)).toEqual([money('454.00', 'SEK'), money('154.39', 'PLN')]);
    expect(catalogue.planPrices('RS 4 Pro', 'EU')[0]).toMatchObject({ term: null, price: money('110.35', 'EUR') });
    expect(catalogue.planPrices('Mini 2', 'JP').map((p) => [p.term, p.price.amount])).toEqual([['1y', '6160'], ['2y', '9680']]);
  });

  test('a plan price for a model the catalogue does not know is refused when the catalogue loads', () => {
    expect(() => configured((d) => { d.planPrices!.push({ model: 'Phantom 4', region: 'US', term: '1y', price: usd('99.00'), source: 'https://example.invalid', date: null }); })).toThrow(/unknown model Phantom 4/);
  });
});

describe('C7: policy versions V2021 (before 2023-07-13) and V2023', () => {
  test('C7: a US purchase at 2023-07-12T23:59:59.999-07:00 is V2021; at 2023-07-13T00:00-07:00 it is V2023', async () => {
    const a = await givenHistory(purchase({ purchasedAt: '2023-07-12T23:59:59.999-07:00' }));
    expect(a.ledger.entitlements('A', '2023-07-20').policyVersion).toBe('V2021');
    const b = await givenHistory(purchase({ purchasedAt: '2023-07-13T00:00:00-07:00' }));
    expect(b.ledger.entitlements('A', '2023-07-20').policyVersion).toBe('V2023');
  });

  test('C7: the date is taken in the region zone: 2023-07-12T22:30Z is V2023 in the EU (00:30 CEST on the 13th), V2021 in the US', async () => {
    const instant = '2023-07-12T22:30:00Z';
    const eu = await givenHistory(purchase({ region: 'EU', purchasedAt: instant }));
    expect(eu.ledger.entitlements('A', '2023-07-20').policyVersion).toBe('V2023');
    const us = await givenHistory(purchase({ region: 'US', purchasedAt: instant }));
    expect(us.ledger.entitlements('A', '2023-07-20').policyVersion).toBe('V2021');
  });

  test('C7: a V2021 2-Year plan has 3 replacements (2 flyaway); the 4th claim is refused with NoReplacementsRemaining', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ term: '2y', purchasedAt: '2023-03-10T10:00:00-08:00' }));
    expect(ledger.entitlements('A', '2023-03-11').replacement).toMatchObject({ remaining: 3, flyawayRemaining: 2 });
    let serial = 'A';
    for (const [i, at] of ['2023-04-01', '2023-06-01', '2024-01-10'].entries()) {
      await replaceUnit(ledger, { serial, claimId: `C${i + 1}`, at: `${at}T10:00:00-07:00`, next: `U${i + 1}` });
      serial = `U${i + 1}`;
    }
    expect(await refusalOf(ledger, claim({ claimId: 'C4', serial, incidentAt: '2024-06-01T10:00:00-07:00' }))).toMatchObject({ code: 'NoReplacementsRemaining' });
  });

  test('C7: a V2023 2-Year plan has 4 replacements (2 flyaway)', async () => {
    const h = await givenHistory(purchase({ term: '2y', purchasedAt: '2023-07-13T10:00:00-07:00' }));
    expect(h.ledger.entitlements('A', '2023-07-14').replacement).toMatchObject({ remaining: 4, flyawayRemaining: 2 });
  });

  test('C7: under V2021 a discounted repair in the first term forfeits the reward', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }), service('A', 'discounted-repair', '2023-06-01T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2023-06-02').safeUseReward).toEqual({ status: 'forfeited', window: null });
  });

  test('C7: under V2023 a discounted repair keeps the reward (only replacements forfeit it)', async () => {
    const h = await givenHistory(purchase({ purchasedAt: '2023-07-13T10:00:00-07:00' }), service('A', 'discounted-repair', '2023-09-01T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2023-09-02').safeUseReward).toEqual({ status: 'pending', window: { from: '2024-07-13', until: '2025-07-13' } });
  });
});

describe('C8: official warranty 12 months, 24 in EU and UK, configurable per model', () => {
  test('C8: US official warranty is 12 months from activation', async () => {
    const h = await givenHistory(purchase({ channel: 'bundle', model: 'Mini 4 Pro' }), activate('A', '2024-03-10T14:22:00-07:00', 'Mini 4 Pro'));
    expect(h.ledger.entitlements('A', '2024-03-11').warranty.official).toEqual({ from: '2024-03-10', until: '2025-03-10' });
  });

  test('C8: EU and UK official warranty is 24 months', async () => {
    for (const [region, offset] of [['EU', '+01:00'], ['UK', '+00:00']] as const) {
      const h = await givenHistory(
        purchase({ region, channel: 'bundle', model: 'Mini 4 Pro', purchasedAt: `2024-03-01T10:00:00${offset}` }),
        activate('A', `2024-03-10T14:22:00${offset}`, 'Mini 4 Pro', region),
      );
      const view = h.ledger.entitlements('A', '2024-03-11');
      expect([region, view.warranty.official, view.warranty.coveredUntil]).toEqual([region, { from: '2024-03-10', until: '2026-03-10' }, '2026-03-10']);
    }
  });

  test('C8: a per-model override by configuration (18 months for Mini 4 Pro in the US) is honoured', async () => {
    const custom = configured((d) => {
      d.models['Mini 4 Pro'].officialWarrantyMonths = { US: 18 };
    });
    const ledger = new MemoryLedger(custom);
    await ledger.run(activate('A', '2024-03-10T14:22:00-07:00', 'Mini 4 Pro'));
    expect(ledger.entitlements('A', '2024-03-11').warranty.official).toEqual({ from: '2024-03-10', until: '2025-09-10' });
  });

  test('C8: warranty is the union of the official period and plan-valid periods: a repair after the official year but in the plan is covered', async () => {
    // Activated 2024-03-01, verified, plan bought online 2024-06-01: official until 2025-03-01, plan until 2025-06-01.
    const h = await givenHistory(
      activate('A', '2024-03-01T10:00:00-08:00', 'Mini 4 Pro'),
      verify('A', '2024-05-31T10:00:00-07:00'),
      purchase({ model: 'Mini 4 Pro', purchasedAt: '2024-06-01T10:00:00-07:00' }),
    );
    expect(h.ledger.entitlements('A', '2025-04-01').warranty.coveredUntil).toBe('2025-06-01');
    await h.when(service('A', 'warranty-repair', '2025-04-01T10:00:00-07:00')).then([{ type: 'ServiceRecorded', data: { kind: 'warranty-repair' } }]);
  });

  test('C8: after both the official period and the plan ended, a warranty repair is refused with NotUnderWarranty', async () => {
    const h = await givenHistory(
      activate('A', '2024-03-01T10:00:00-08:00', 'Mini 4 Pro'),
      verify('A', '2024-05-31T10:00:00-07:00'),
      purchase({ model: 'Mini 4 Pro', purchasedAt: '2024-06-01T10:00:00-07:00' }),
    );
    await h.when(service('A', 'warranty-repair', '2025-06-01T00:00:00-07:00')).thenRejects('NotUnderWarranty');
  });

  test('C8: a device with no plan has its official warranty only: repair inside accepted, after refused', async () => {
    const h = await givenHistory(activate('A', '2024-03-01T10:00:00-08:00', 'Mini 4 Pro'));
    await h.when(service('A', 'warranty-repair', '2025-02-28T23:59:59.999-08:00')).then([{ type: 'ServiceRecorded', data: { planId: null } }]);
    await h.when(service('A', 'warranty-repair', '2025-03-01T00:00:00-08:00')).thenRejects('NotUnderWarranty');
  });
});

describe('C9: discounted-repair and factory-maintenance quotas per model and plan', () => {
  test('C9: Mavic 3 1-Year plan: 2 discounted repairs and 1 factory maintenance; the 3rd repair and 2nd maintenance are refused', async () => {
    const h = await givenHistory(
      purchase({}),
      service('A', 'discounted-repair', '2024-04-01T10:00:00-07:00'),
      service('A', 'discounted-repair', '2024-05-01T10:00:00-07:00'),
      service('A', 'factory-maintenance', '2024-05-02T10:00:00-07:00'),
    );
    expect(h.ledger.entitlements('A', '2024-05-03')).toMatchObject({ discountedRepairs: { remaining: 0 }, factoryMaintenance: { remaining: 0 } });
    await h.when(service('A', 'discounted-repair', '2024-06-01T10:00:00-07:00')).thenRejects('NoDiscountedRepairsRemaining');
    await h.when(service('A', 'factory-maintenance', '2024-06-01T10:00:00-07:00')).thenRejects('NoFactoryMaintenanceRemaining');
  });

  test('C9: Mavic 3 Cine 2-Year plan: 3 discounted repairs and 2 factory maintenance', async () => {
    const h = await givenHistory(purchase({ model: 'Mavic 3 Cine', term: '2y' }));
    expect(h.ledger.entitlements('A', '2024-03-11')).toMatchObject({ discountedRepairs: { remaining: 3 }, factoryMaintenance: { remaining: 2 } });
    await h.when(service('A', 'factory-maintenance', '2025-06-01T10:00:00-07:00')).then([{ type: 'ServiceRecorded' }]);
  });

  test('C9: other models have 0 unless configured: a Mini 4 Pro discounted repair is refused', async () => {
    const h = await givenHistory(purchase({ model: 'Mini 4 Pro' }));
    expect(h.ledger.entitlements('A', '2024-03-11').discountedRepairs.remaining).toBe(0);
    await h.when(service('A', 'discounted-repair', '2024-04-01T10:00:00-07:00')).thenRejects('NoDiscountedRepairsRemaining');
  });

  test('C9: configured quotas are honoured (Mini 4 Pro with 1 discounted repair)', async () => {
    const custom = configured((d) => {
      d.models['Mini 4 Pro'].quotas = { '1y': { discountedRepairs: 1, factoryMaintenance: 0 } };
    });
    const ledger = new MemoryLedger(custom);
    await ledger.run(purchase({ model: 'Mini 4 Pro' }));
    await ledger.run(service('A', 'discounted-repair', '2024-04-01T10:00:00-07:00'));
    expect(await refusalOf(ledger, service('A', 'discounted-repair', '2024-05-01T10:00:00-07:00'))).toMatchObject({ code: 'NoDiscountedRepairsRemaining' });
  });
});
