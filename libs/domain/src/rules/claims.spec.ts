/**
 * RULES section 6 (R1-R10): quotas, windows, the unit that may claim, flyaway conditions,
 * exclusions, service regions, reservation at approval, warranty repairs, express; and R10's order
 * when several rules refuse one claim.
 */
import {
  approve, cancel, carePlus, claim, deny, fulfil, givenHistory, MemoryLedger, on, pair, pay, purchase, refusalOf, registerCenter,
  renew, replaceUnit, service, usd,
} from '@careledger/testing';
import { CAUSES } from '../events';
import { defaultCatalogue } from '../catalogue/default';
import { Command } from '../commands';

const OPENED = [{ type: 'ClaimOpened' }];

/** Account and remote controller bound to a unit before its flyaways. */
const paired = (serial = 'A', at = '2024-03-11T10:00:00-07:00'): Command[] => [
  pair(serial, 'account', 'bind', at),
  pair(serial, 'remote-controller', 'bind', at),
];

const flyaway = (over: Partial<Extract<Command, { type: 'OpenClaim' }>> & { incidentAt: string }) =>
  claim({ kind: 'flyaway', cause: 'flyaway', flightRecordsSynced: true, ...over });

describe('R1: quotas (1-Year 2 with at most 1 flyaway; 2-Year per C7; Care Refresh+ 1)', () => {
  test('R1: a flyaway uses one of the total and the flyaway sub-quota: 1 damage replacement left, no flyaway', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const c of paired()) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(ledger.entitlements('B', '2024-04-02').replacement).toMatchObject({ remaining: 1, used: 1, flyawayRemaining: 0 });
    await on(ledger).when(claim({ claimId: 'D2', serial: 'B', incidentAt: '2024-05-01T10:00:00-07:00' })).then(OPENED);
  });

  test('R1: a second flyaway in a 1-Year term is refused with FlyawayQuotaExhausted', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const c of [...paired(), ...paired('B', '2024-04-02T10:00:00-07:00')]) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    const err = await refusalOf(ledger, flyaway({ claimId: 'F2', serial: 'B', incidentAt: '2024-05-01T10:00:00-07:00' }));
    expect(err).toMatchObject({ code: 'FlyawayQuotaExhausted', rule: 'R1' });
  });

  test('R1: a third replacement in a 1-Year term is refused with NoReplacementsRemaining', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    expect(await refusalOf(ledger, claim({ claimId: 'C3', serial: 'C', incidentAt: '2024-06-01T10:00:00-07:00' }))).toMatchObject({
      code: 'NoReplacementsRemaining',
      rule: 'R1',
    });
  });

  test('R1: a 2-Year (V2023) term allows 2 flyaways; the 3rd is refused with FlyawayQuotaExhausted', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ term: '2y' }));
    for (const c of [...paired(), ...paired('B', '2024-04-02T10:00:00-07:00'), ...paired('C', '2024-05-02T10:00:00-07:00')]) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'F2', kind: 'flyaway', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    expect(ledger.entitlements('C', '2024-05-02').replacement).toMatchObject({ remaining: 2, flyawayRemaining: 0 });
    expect(await refusalOf(ledger, flyaway({ claimId: 'F3', serial: 'C', incidentAt: '2024-06-01T10:00:00-07:00' }))).toMatchObject({ code: 'FlyawayQuotaExhausted' });
  });

  test('R1: the Care Refresh+ term has 1 replacement: the second is refused with NoReplacementsRemaining', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ purchasedAt: '2023-03-10T10:00:00-08:00' }));
    await ledger.run(carePlus('P1', '2024-01-10T10:00:00-08:00'));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(ledger.entitlements('B', '2024-04-02').replacement).toMatchObject({ remaining: 0, used: 1, window: { from: '2024-03-10', until: '2025-03-10' } });
    expect(await refusalOf(ledger, claim({ claimId: 'C2', serial: 'B', incidentAt: '2024-05-01T10:00:00-07:00' }))).toMatchObject({ code: 'NoReplacementsRemaining' });
  });
});

describe('R2: the incident inside a replacement window of the chain, the claim opened inside it', () => {
  test('R2: an incident before D is refused with IncidentBeforeCoverage', async () => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(claim({ incidentAt: '2024-03-09T12:00:00-08:00', openedAt: '2024-03-11T10:00:00-07:00' })).thenRejects('IncidentBeforeCoverage');
    expect((err as { rule?: string }).rule).toBe('R2');
  });

  test('R2 (product decision): an incident on D but before the purchase instant is not covered (IncidentBeforeCoverage)', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2024-03-10T09:59:59.999-07:00', openedAt: '2024-03-10T11:00:00-07:00' })).thenRejects('IncidentBeforeCoverage');
    await h.when(claim({ incidentAt: '2024-03-10T10:00:00-07:00' })).then(OPENED);
  });

  test('R2: an incident after the chain ended is refused with OutsideValidity', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2025-04-01T10:00:00-07:00' })).thenRejects('OutsideValidity');
  });

  test('R2: approval, payment and fulfilment after the window ended are accepted, with the quota and fee of the incident term', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    await ledger.run(claim({ claimId: 'C2', serial: 'B', incidentAt: '2025-03-08T10:00:00-08:00', openedAt: '2025-03-09T10:00:00-07:00' }));
    const h = on(ledger);
    await h.when(approve('P1', 'C2', '2025-04-01T10:00:00-07:00')).then([{ type: 'ClaimApproved', data: { ordinal: 2, fee: usd('199.00') } }]);
    await ledger.run(approve('P1', 'C2', '2025-04-01T10:00:00-07:00'));
    await ledger.run(pay('P1', 'C2', '2025-04-02T10:00:00-07:00', usd('199.00')));
    await h.when(fulfil('P1', 'C2', '2025-04-03T10:00:00-07:00', 'C')).then([{ type: 'DeviceBoundToPlan' }, { type: 'ClaimFulfilled' }]);
    await ledger.run(fulfil('P1', 'C2', '2025-04-03T10:00:00-07:00', 'C'));
    expect(ledger.entitlements('C', '2025-04-04').replacement).toMatchObject({ window: { from: '2025-03-10', until: '2026-03-10' }, remaining: 2, used: 0 });
  });

  test('R2: an incident before a replacement unit joined the chain is not covered for it (IncidentBeforeCoverage)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, claim({ claimId: 'C2', serial: 'B', incidentAt: '2024-03-20T10:00:00-07:00', openedAt: '2024-04-02T10:00:00-07:00' }))).toMatchObject({
      code: 'IncidentBeforeCoverage',
    });
  });
});

describe('R3: only the unit currently bound to the plan can claim', () => {
  test('R3: the current unit can claim; a unit that never had a plan cannot (DeviceNotCovered)', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2024-04-01T10:00:00-07:00' })).then(OPENED);
    const err = await h.when(claim({ serial: 'Z', incidentAt: '2024-04-01T10:00:00-07:00' })).thenRejects('DeviceNotCovered');
    expect((err as { rule?: string }).rule).toBe('R3');
  });

  test('R3: an open claim of a unit replaced in the meantime cannot be approved (DeviceNotCovered at approval)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ claimId: 'C9', incidentAt: '2024-03-30T10:00:00-07:00' }));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, approve('P1', 'C9', '2024-04-02T10:00:00-07:00'))).toMatchObject({ code: 'DeviceNotCovered' });
  });
});

describe('R4: flyaway needs C2, account and controller bound before it (not unbound), flight records synced', () => {
  test('R4: with both bindings before the flyaway and the records synced it is accepted', async () => {
    const h = await givenHistory(purchase({}), ...paired());
    await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00' })).then(OPENED);
  });

  test('R4: the account missing (controller bound) is refused with FlyawayBindingMissing', async () => {
    const h = await givenHistory(purchase({}), pair('A', 'remote-controller', 'bind', '2024-03-11T10:00:00-07:00'));
    const err = await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00' })).thenRejects('FlyawayBindingMissing');
    expect((err as { rule?: string }).rule).toBe('R4');
  });

  test('R4: a binding at the very instant of the flyaway is not "before" it (FlyawayBindingMissing)', async () => {
    const h = await givenHistory(purchase({}), pair('A', 'account', 'bind', '2024-03-11T10:00:00-07:00'), pair('A', 'remote-controller', 'bind', '2024-06-01T12:00:00-07:00'));
    await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00' })).thenRejects('FlyawayBindingMissing');
  });

  test('R4: a controller unbound and bound again before the flyaway counts as bound', async () => {
    const h = await givenHistory(
      purchase({}),
      ...paired(),
      pair('A', 'remote-controller', 'unbind', '2024-04-01T10:00:00-07:00'),
      pair('A', 'remote-controller', 'bind', '2024-04-02T10:00:00-07:00', 'remote-controller-2'),
    );
    await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00' })).then(OPENED);
  });

  test('R4: flight records not synced: FlightRecordsMissing', async () => {
    const h = await givenHistory(purchase({}), ...paired());
    await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00', flightRecordsSynced: false })).thenRejects('FlightRecordsMissing');
  });

  test('R4: a replacement unit needs its own bindings (those of the unit it replaced do not count)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const c of paired()) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, flyaway({ claimId: 'F1', serial: 'B', incidentAt: '2024-06-01T12:00:00-07:00' }))).toMatchObject({ code: 'FlyawayBindingMissing' });
    for (const c of paired('B', '2024-04-05T10:00:00-07:00')) await ledger.run(c);
    await on(ledger).when(flyaway({ claimId: 'F1', serial: 'B', incidentAt: '2024-06-01T12:00:00-07:00' })).then(OPENED);
  });
});

describe('R5: exclusions', () => {
  const excluded = ['loss', 'theft', 'abandonment', 'intentional', 'cosmetic', 'force-majeure', 'modification'];

  test('R5: the excluded causes are catalogue data', () => {
    expect(defaultCatalogue().rules.excludedCauses.sort()).toEqual([...excluded].sort());
  });

  test.each(excluded)('R5: cause "%s" is refused with Excluded', async (cause) => {
    const h = await givenHistory(purchase({}));
    const err = await h.when(claim({ cause: cause as never, incidentAt: '2024-06-01T12:00:00-07:00' })).thenRejects('Excluded');
    expect((err as { rule?: string }).rule).toBe('R5');
  });

  test('R5: every other damage cause is accepted', async () => {
    const h = await givenHistory(purchase({}));
    for (const cause of CAUSES.filter((c) => !excluded.includes(c) && c !== 'flyaway')) {
      await h.when(claim({ cause, incidentAt: '2024-06-01T12:00:00-07:00' })).then(OPENED);
    }
  });
});

describe('R6: service in the purchase region unless the model has international coverage', () => {
  test('R6: a US Mavic 3 at a US service center is accepted', async () => {
    const h = await givenHistory(registerCenter('SC-US', 'US'), purchase({}));
    await h.when(claim({ incidentAt: '2024-06-01T12:00:00-07:00', serviceCenterId: 'SC-US' })).then([{ type: 'ClaimOpened', data: { serviceRegion: 'US' } }]);
  });

  test('R6: a US Mavic 3 at a Japanese service center is refused with OutOfServiceRegion', async () => {
    const h = await givenHistory(registerCenter('SC-JP', 'JP'), purchase({}));
    const err = await h.when(claim({ incidentAt: '2024-06-01T12:00:00-07:00', serviceCenterId: 'SC-JP' })).thenRejects('OutOfServiceRegion');
    expect((err as { rule?: string }).rule).toBe('R6');
  });

  test('R6 (product decision): an unknown service center skips the check (serviceRegion null)', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(claim({ incidentAt: '2024-06-01T12:00:00-07:00', serviceCenterId: 'SC-unknown' })).then([{ type: 'ClaimOpened', data: { serviceRegion: null } }]);
  });
});

describe('R7: quota reserved at approval, released on cancel or deny; the fee of the approval ordinal', () => {
  test('R7: the approval reserves quota (before any fulfilment) and answers the fee and ordinal', async () => {
    const h = await givenHistory(purchase({}), claim({ incidentAt: '2024-06-01T12:00:00-07:00' }));
    expect(h.ledger.entitlements('A', '2024-06-02').replacement.remaining).toBe(2);
    const decision = await h.when(approve('P1', 'C1', '2024-06-02T10:00:00-07:00')).then([{ type: 'ClaimApproved', data: { ordinal: 1, fee: usd('159.00') } }]);
    expect(decision.outcome).toMatchObject({ ordinal: 1, fee: usd('159.00'), status: 'approved' });
    await h.ledger.run(approve('P1', 'C1', '2024-06-02T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2024-06-03').replacement).toMatchObject({ remaining: 1, used: 1 });
  });

  test('R7: a cancelled (even paid) or denied approval releases its quota', async () => {
    const h = await givenHistory(
      purchase({}),
      claim({ claimId: 'C1', incidentAt: '2024-06-01T12:00:00-07:00' }),
      approve('P1', 'C1', '2024-06-02T10:00:00-07:00'),
      pay('P1', 'C1', '2024-06-02T11:00:00-07:00', usd('159.00')),
      cancel('P1', 'C1', '2024-06-03T10:00:00-07:00'),
      claim({ claimId: 'C2', incidentAt: '2024-06-05T12:00:00-07:00' }),
      approve('P1', 'C2', '2024-06-06T10:00:00-07:00'),
      deny('P1', 'C2', '2024-06-07T10:00:00-07:00'),
    );
    expect(h.ledger.entitlements('A', '2024-06-08').replacement).toMatchObject({ remaining: 2, used: 0 });
  });

  test('R7 (product decision): a payment that differs from the approval fee is refused with PaymentMismatch', async () => {
    const h = await givenHistory(purchase({}), claim({ incidentAt: '2024-06-01T12:00:00-07:00' }), approve('P1', 'C1', '2024-06-02T10:00:00-07:00'));
    const err = await h.when(pay('P1', 'C1', '2024-06-02T11:00:00-07:00', usd('158.99'))).thenRejects('PaymentMismatch');
    expect((err as { rule?: string }).rule).toBe('R7');
    await h.when(pay('P1', 'C1', '2024-06-02T11:00:00-07:00', { amount: '159.00', currency: 'EUR' })).thenRejects('PaymentMismatch');
    await h.when(pay('P1', 'C1', '2024-06-02T11:00:00-07:00', usd('159'))).then([{ type: 'ClaimPaid', data: { amount: '159.00', currency: 'USD' } }]);
  });

  test('R7: a denied claim cannot be approved afterwards (InvalidClaimState)', async () => {
    const h = await givenHistory(purchase({}), claim({ incidentAt: '2024-06-01T12:00:00-07:00' }), deny('P1', 'C1', '2024-06-02T10:00:00-07:00'));
    await h.when(approve('P1', 'C1', '2024-06-03T10:00:00-07:00')).thenRejects('InvalidClaimState');
  });
});

describe('R8: standard-warranty repairs use no replacement or discounted-repair balance', () => {
  test('R8: a warranty repair leaves replacements and discounted repairs untouched', async () => {
    const h = await givenHistory(purchase({}), service('A', 'warranty-repair', '2024-06-01T10:00:00-07:00'), service('A', 'warranty-repair', '2024-07-01T10:00:00-07:00'));
    expect(h.ledger.entitlements('A', '2024-07-02')).toMatchObject({ replacement: { remaining: 2, used: 0 }, discountedRepairs: { remaining: 2 }, factoryMaintenance: { remaining: 1 } });
  });

  test('R8: a warranty repair outside any warranty coverage is refused with NotUnderWarranty', async () => {
    const h = await givenHistory(purchase({ model: 'Mini 4 Pro' }));
    const err = await h.when(service('A', 'warranty-repair', '2025-03-10T00:00:00-07:00')).thenRejects('NotUnderWarranty');
    expect((err as { rule?: string }).rule).toBe('R8');
  });
});

describe('R9: express replacement', () => {
  test('R9: an express damage claim is accepted and uses quota like any replacement', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'X1', at: '2024-06-01T10:00:00-07:00', next: 'B', express: true });
    expect(ledger.entitlements('B', '2024-06-02').replacement).toMatchObject({ remaining: 1, used: 1 });
  });

  test('R9 (product decision): the unit ships only once the fee is paid (StateConflict PaymentRequired)', async () => {
    const h = await givenHistory(purchase({}), claim({ incidentAt: '2024-06-01T12:00:00-07:00', express: true }), approve('P1', 'C1', '2024-06-01T13:00:00-07:00'));
    await h.when(fulfil('P1', 'C1', '2024-06-01T14:00:00-07:00', 'B')).thenRejects('PaymentRequired');
  });

  test('R9: an express flyaway is refused with ExpressNotAvailable', async () => {
    const h = await givenHistory(purchase({}), ...paired());
    const err = await h.when(flyaway({ incidentAt: '2024-06-01T12:00:00-07:00', express: true })).thenRejects('ExpressNotAvailable');
    expect((err as { rule?: string }).rule).toBe('R9');
  });
});

describe('R10 for a claim: DeviceNotCovered, Excluded, FlyawayNotSupported, IncidentBeforeCoverage/OutsideValidity, OutOfServiceRegion, FlyawayBindingMissing, FlightRecordsMissing, ExpressNotAvailable, FlyawayQuotaExhausted, NoReplacementsRemaining', () => {
  test('R10 (claim): DeviceNotCovered answers before Excluded and OutsideValidity', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, claim({ claimId: 'C2', cause: 'theft', incidentAt: '2025-06-01T10:00:00-07:00' }))).toMatchObject({ code: 'DeviceNotCovered' });
  });

  test('R10 (claim): Excluded answers before FlyawayNotSupported and OutsideValidity', async () => {
    const h = await givenHistory(purchase({ model: 'Osmo Pocket 3' }));
    await h.when(claim({ kind: 'flyaway', cause: 'loss', incidentAt: '2025-06-01T10:00:00-07:00' })).thenRejects('Excluded');
  });

  test('R10 (claim): FlyawayNotSupported answers before OutsideValidity', async () => {
    const h = await givenHistory(purchase({ model: 'Osmo Pocket 3' }));
    await h.when(flyaway({ incidentAt: '2025-06-01T10:00:00-07:00' })).thenRejects('FlyawayNotSupported');
  });

  test('R10 (claim): OutsideValidity / IncidentBeforeCoverage answer before OutOfServiceRegion and the flyaway checks', async () => {
    const h = await givenHistory(registerCenter('SC-EU', 'EU'), purchase({}));
    await h.when(flyaway({ incidentAt: '2025-06-01T10:00:00-07:00', serviceCenterId: 'SC-EU', flightRecordsSynced: false })).thenRejects('OutsideValidity');
    await h.when(flyaway({ incidentAt: '2024-03-01T10:00:00-08:00', openedAt: '2024-03-11T10:00:00-07:00', serviceCenterId: 'SC-EU' })).thenRejects(
      'IncidentBeforeCoverage',
    );
  });

  test('R10 (claim): OutOfServiceRegion answers before FlyawayBindingMissing', async () => {
    const h = await givenHistory(registerCenter('SC-EU', 'EU'), purchase({}));
    await h.when(flyaway({ incidentAt: '2024-06-01T10:00:00-07:00', serviceCenterId: 'SC-EU' })).thenRejects('OutOfServiceRegion');
  });

  test('R10 (claim): FlyawayBindingMissing answers before FlightRecordsMissing and ExpressNotAvailable', async () => {
    const h = await givenHistory(purchase({}));
    await h.when(flyaway({ incidentAt: '2024-06-01T10:00:00-07:00', flightRecordsSynced: false, express: true })).thenRejects('FlyawayBindingMissing');
  });

  test('R10 (claim): FlightRecordsMissing answers before ExpressNotAvailable', async () => {
    const h = await givenHistory(purchase({}), ...paired());
    await h.when(flyaway({ incidentAt: '2024-06-01T10:00:00-07:00', flightRecordsSynced: false, express: true })).thenRejects('FlightRecordsMissing');
  });

  test('R10 (claim): ExpressNotAvailable answers before FlyawayQuotaExhausted', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const c of [...paired(), ...paired('B', '2024-04-02T10:00:00-07:00')]) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    expect(await refusalOf(ledger, flyaway({ claimId: 'F2', serial: 'B', incidentAt: '2024-06-01T10:00:00-07:00', express: true }))).toMatchObject({
      code: 'ExpressNotAvailable',
    });
  });

  test('R10 (claim): FlyawayQuotaExhausted answers before NoReplacementsRemaining', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const c of [...paired(), ...paired('C', '2024-05-02T10:00:00-07:00')]) await ledger.run(c);
    await replaceUnit(ledger, { serial: 'A', claimId: 'F1', kind: 'flyaway', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'D2', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    expect(await refusalOf(ledger, flyaway({ claimId: 'F3', serial: 'C', incidentAt: '2024-06-01T10:00:00-07:00' }))).toMatchObject({ code: 'FlyawayQuotaExhausted' });
    expect(await refusalOf(ledger, claim({ claimId: 'D3', serial: 'C', incidentAt: '2024-06-01T10:00:00-07:00' }))).toMatchObject({ code: 'NoReplacementsRemaining' });
  });

  test('R10 (approval): the same order is re-checked at approval: an excluded amended cause answers Excluded, not the quota', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ claimId: 'C1', incidentAt: '2024-04-01T10:00:00-07:00' }));
    await ledger.run(claim({ claimId: 'C2', incidentAt: '2024-04-02T10:00:00-07:00' }));
    await ledger.run(claim({ claimId: 'C3', incidentAt: '2024-04-03T10:00:00-07:00' }));
    await ledger.run(approve('P1', 'C1', '2024-04-05T10:00:00-07:00'));
    await ledger.run(approve('P1', 'C2', '2024-04-05T10:00:00-07:00'));
    const opened = ledger.events.find((e) => e.type === 'ClaimOpened' && (e.data as { claimId: string }).claimId === 'C3')!;
    await ledger.run({ type: 'CorrectEvent', eventId: opened.eventId, streamId: opened.streamId, action: 'amend', reason: 'it was stolen', amendment: { cause: 'theft' } });
    expect(await refusalOf(ledger, approve('P1', 'C3', '2024-04-06T10:00:00-07:00'))).toMatchObject({ code: 'Excluded' });
  });
});
