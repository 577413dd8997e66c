/**
 * RULES section 7 (I1-I3): a replacement unit inherits the chain (windows, remaining quota, the
 * official warranty period), the unit it replaced loses it, down a chain of replacements; a unit
 * bought outside the plan is a new device.
 */
import {
  activate, claim, DAYS, MemoryLedger, on, plusMs, purchase, refusalOf, renew, replaceUnit, service, usd,
} from '@careledger/testing';
import { deviceStream, planStream } from '../events';

async function bundleReplacedOnce() {
  const ledger = new MemoryLedger();
  await ledger.run(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T10:00:00-08:00' }));
  await ledger.run(activate('A', '2024-03-10T14:22:00-07:00'));
  await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-06-01T10:00:00-07:00', next: 'B' });
  return ledger;
}

describe('I1: a replacement unit inherits the chain; the original unit loses it', () => {
  test('I1: the fulfilment binds the replacement unit to the same chain (device reservation, then the plan fact)', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ incidentAt: '2024-06-01T10:00:00-07:00' }));
    await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: 'C1', at: '2024-06-01T11:00:00-07:00' });
    await ledger.run({ type: 'PayClaim', planId: 'P1', claimId: 'C1', at: '2024-06-01T12:00:00-07:00', amount: '159.00', currency: 'USD' });
    await on(ledger).when({ type: 'FulfilClaim', planId: 'P1', claimId: 'C1', at: '2024-06-02T10:00:00-07:00', replacementSerial: 'B' }).then([
      { stream: deviceStream('B'), type: 'DeviceBoundToPlan', data: { planId: 'P1', via: 'replacement', claimId: 'C1' } },
      { stream: planStream('P1'), type: 'ClaimFulfilled', data: { serial: 'A', replacementSerial: 'B' } },
    ]);
  });

  test('I1: B inherits every window, the remaining quota and the official warranty period of A', async () => {
    const ledger = await bundleReplacedOnce();
    const b = ledger.entitlements('B', '2024-06-02');
    expect(b).toMatchObject({
      coverage: 'active',
      planId: 'P1',
      inheritedFrom: ['A'],
      transferredTo: null,
      chain: [{ kind: '1y', from: '2024-03-10', until: '2025-03-10' }],
      replacement: { window: { from: '2024-03-10', until: '2025-03-10' }, remaining: 1, used: 1, nextFee: { damage: usd('199.00') } },
      warranty: { official: { from: '2024-03-10', until: '2025-03-10' } },
    });
  });

  test('I1: B own activation later does not restart the official warranty it inherited', async () => {
    const ledger = await bundleReplacedOnce();
    await ledger.run(activate('B', '2024-06-03T10:00:00-07:00'));
    expect(ledger.entitlements('B', '2024-06-04').warranty.official).toEqual({ from: '2024-03-10', until: '2025-03-10' });
  });

  test('I1: A has lost the plan: transferred to B, no window, no renewal, its claims refused (DeviceNotCovered)', async () => {
    const ledger = await bundleReplacedOnce();
    expect(ledger.entitlements('A', '2024-06-02')).toMatchObject({
      coverage: 'transferred',
      transferredTo: 'B',
      replacement: { window: null, remaining: 0 },
      renewal: { eligible: false, blockedBy: 'DeviceNotCovered' },
      safeUseReward: { status: 'not-applicable' },
    });
    expect(await refusalOf(ledger, claim({ claimId: 'C2', serial: 'A', incidentAt: '2024-07-01T10:00:00-07:00' }))).toMatchObject({ code: 'DeviceNotCovered' });
    expect(await refusalOf(ledger, service('A', 'discounted-repair', '2024-07-01T10:00:00-07:00'))).toMatchObject({ code: 'DeviceNotCovered' });
  });

  test('I1: before the fulfilment instant, A still held the plan (views as of then)', async () => {
    const ledger = await bundleReplacedOnce();
    expect(ledger.entitlements('A', '2024-05-31T10:00:00-07:00')).toMatchObject({ coverage: 'active', transferredTo: null });
  });

  test('I1: B may claim, use plan services and renew the chain', async () => {
    const ledger = await bundleReplacedOnce();
    const h = on(ledger);
    await h.when(claim({ claimId: 'C2', serial: 'B', incidentAt: '2024-07-01T10:00:00-07:00' })).then([{ type: 'ClaimOpened', data: { planId: 'P1', serial: 'B' } }]);
    await h.when(service('B', 'discounted-repair', '2024-07-01T10:00:00-07:00')).then([{ type: 'ServiceRecorded', data: { planId: 'P1' } }]);
    await ledger.run(renew('P1', '2025-02-01T10:00:00-08:00'));
    expect(ledger.entitlements('B', '2025-03-10').replacement).toMatchObject({ window: { from: '2025-03-10', until: '2026-03-10' }, remaining: 2 });
  });
});

describe('P3/P7 (reservation) for a replacement unit', () => {
  async function paidClaim() {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run(claim({ incidentAt: '2024-06-01T10:00:00-07:00' }));
    await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: 'C1', at: '2024-06-01T11:00:00-07:00' });
    await ledger.run({ type: 'PayClaim', planId: 'P1', claimId: 'C1', at: '2024-06-01T12:00:00-07:00', amount: '159.00', currency: 'USD' });
    return ledger;
  }
  const fulfilB = { type: 'FulfilClaim', planId: 'P1', claimId: 'C1', at: '2024-06-02T10:00:00-07:00', replacementSerial: 'B' } as const;

  test('P3 (reservation): a unit reserved by another plan purchase still in flight cannot be issued (AlreadyBound)', async () => {
    const ledger = await paidClaim();
    ledger.record(deviceStream('B'), { type: 'DeviceBoundToPlan', data: { serial: 'B', planId: 'P9', via: 'purchase', at: '2024-06-02T09:00:00-07:00', claimId: null } });
    await on(ledger).when(fulfilB).thenRejects('AlreadyBound');
  });

  test('P7 (reservation): the claim own reservation of the unit (a retried fulfilment) is reused, not written twice', async () => {
    const ledger = await paidClaim();
    ledger.record(deviceStream('B'), { type: 'DeviceBoundToPlan', data: { serial: 'B', planId: 'P1', via: 'replacement', at: '2024-06-02T10:00:00-07:00', claimId: 'C1' } });
    await on(ledger).when(fulfilB).then([{ stream: planStream('P1'), type: 'ClaimFulfilled' }]);
    await ledger.run(fulfilB);
    expect(ledger.entitlements('B', '2024-06-03')).toMatchObject({ coverage: 'active', inheritedFrom: ['A'] });
    expect(await refusalOf(ledger, purchase({ planId: 'P2', serial: 'B', purchasedAt: '2024-06-03T10:00:00-07:00' }))).toMatchObject({ code: 'AlreadyCoveredByInheritedPlan' });
  });
});

describe('I2: down a chain of replacements (A to B to C)', () => {
  async function abc() {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ term: '2y' }));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-06-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2025-01-15T10:00:00-08:00', next: 'C' });
    return ledger;
  }

  test('I2: C coverage equals the chain; the ordinal goes on (3rd replacement costs the last listed fee)', async () => {
    const ledger = await abc();
    expect(ledger.entitlements('C', '2025-01-16')).toMatchObject({
      coverage: 'active', inheritedFrom: ['A', 'B'], replacement: { window: { from: '2024-03-10', until: '2026-03-10' }, remaining: 2, used: 2 },
    });
    expect(await replaceUnit(ledger, { serial: 'C', claimId: 'C3', at: '2025-06-01T10:00:00-07:00', next: 'D' })).toEqual(usd('199.00'));
    expect(ledger.entitlements('D', '2025-06-02')).toMatchObject({ inheritedFrom: ['A', 'B', 'C'], replacement: { remaining: 1 } });
  });

  test('I2: A and B are no longer covered: their claims are refused with DeviceNotCovered', async () => {
    const ledger = await abc();
    for (const serial of ['A', 'B']) {
      expect(await refusalOf(ledger, claim({ claimId: `X-${serial}`, serial, incidentAt: '2025-02-01T10:00:00-08:00' }))).toMatchObject({ code: 'DeviceNotCovered' });
    }
    expect(ledger.entitlements('B', '2025-02-01')).toMatchObject({ coverage: 'transferred', transferredTo: 'C', inheritedFrom: ['A'] });
  });

  test('I2: a late-reported fulfilment for a unit already replaced is refused (DeviceNotCovered): the chain never forks', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    for (const [id, at, fee] of [['C1', '2024-04-01', '159.00'], ['C2', '2024-04-02', '199.00']] as const) {
      await ledger.run(claim({ claimId: id, incidentAt: `${at}T10:00:00-07:00` }));
      await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: id, at: `${at}T11:00:00-07:00` });
      await ledger.run({ type: 'PayClaim', planId: 'P1', claimId: id, at: `${at}T12:00:00-07:00`, amount: fee, currency: 'USD' });
    }
    await ledger.run({ type: 'FulfilClaim', planId: 'P1', claimId: 'C1', at: '2024-04-10T10:00:00-07:00', replacementSerial: 'B' });
    // C2 (also A's) fulfilled "on 2024-04-05", reported after B was issued on 04-10 for A.
    expect(await refusalOf(ledger, { type: 'FulfilClaim', planId: 'P1', claimId: 'C2', at: '2024-04-05T10:00:00-07:00', replacementSerial: 'C' })).toMatchObject({
      code: 'DeviceNotCovered',
    });
    expect(ledger.entitlements('B', '2024-05-01')).toMatchObject({ coverage: 'active', inheritedFrom: ['A'], transferredTo: null });
  });

  test('I2: a unit already in the chain cannot be issued again as a replacement (AlreadyBound)', async () => {
    const ledger = await abc();
    await ledger.run(claim({ claimId: 'C3', serial: 'C', incidentAt: '2025-06-01T10:00:00-07:00' }));
    await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: 'C3', at: '2025-06-01T11:00:00-07:00' });
    await ledger.run({ type: 'PayClaim', planId: 'P1', claimId: 'C3', at: '2025-06-01T12:00:00-07:00', amount: '199.00', currency: 'USD' });
    expect(await refusalOf(ledger, { type: 'FulfilClaim', planId: 'P1', claimId: 'C3', at: '2025-06-02T10:00:00-07:00', replacementSerial: 'A' })).toMatchObject({
      code: 'AlreadyBound',
    });
  });
});

describe('I3: a replacement bought at a discount outside the plan is a new device for P4', () => {
  async function usedUp() {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replaceUnit(ledger, { serial: 'A', claimId: 'C1', at: '2024-04-01T10:00:00-07:00', next: 'B' });
    await replaceUnit(ledger, { serial: 'B', claimId: 'C2', at: '2024-05-01T10:00:00-07:00', next: 'C' });
    await ledger.run(activate('D', '2024-07-01T10:00:00-07:00'));
    return ledger;
  }

  test('I3: the discounted unit D gets its own first plan within 48 h of its activation', async () => {
    const ledger = await usedUp();
    await on(ledger).when(purchase({ planId: 'P2', serial: 'D', purchasedAt: plusMs('2024-07-01T17:00:00Z', 2 * DAYS) })).then([
      { type: 'DeviceBoundToPlan', data: { serial: 'D', planId: 'P2', via: 'purchase' } },
      { type: 'PlanPurchased' },
    ]);
  });

  test('I3: after 48 h it is refused like any new aircraft (PurchaseWindowClosed), and it is not covered by the old chain', async () => {
    const ledger = await usedUp();
    expect(await refusalOf(ledger, purchase({ planId: 'P2', serial: 'D', purchasedAt: plusMs('2024-07-01T17:00:00Z', 2 * DAYS + 1) }))).toMatchObject({
      code: 'PurchaseWindowClosed',
    });
    expect(await refusalOf(ledger, claim({ claimId: 'C3', serial: 'D', incidentAt: '2024-07-02T10:00:00-07:00' }))).toMatchObject({ code: 'DeviceNotCovered' });
  });
});
