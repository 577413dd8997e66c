/**
 * The nine worked examples of RULES.md section 9, exactly as written, on the pure domain.
 * (Example 9's race is also run against the real store and over HTTP.)
 */
import { MemoryLedger } from '@careledger/testing';
import { Command } from './commands';

const usd = (amount: string) => ({ amount, currency: 'USD' });

function purchase(over: Partial<Extract<Command, { type: 'PurchasePlan' }>>): Command {
  return {
    type: 'PurchasePlan',
    planId: 'P1',
    term: '1y',
    model: 'Mavic 3',
    region: 'US',
    channel: 'online',
    purchasedAt: '2024-03-10T10:00:00-07:00',
    orderId: 'O-1',
    serial: 'A',
    deliveredAt: null,
    price: null,
    ...over,
  } as Command;
}

async function replace(ledger: MemoryLedger, planId: string, serial: string, claimId: string, at: string, next: string) {
  await ledger.run({
    type: 'OpenClaim', claimId, claimRef: claimId, serial, kind: 'damage', cause: 'collision', incidentAt: at, openedAt: at,
    serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false,
  });
  const { decision } = await ledger.run({ type: 'ApproveClaim', planId, claimId, at });
  const fee = (decision.outcome as { fee: { amount: string; currency: string } }).fee;
  await ledger.run({ type: 'PayClaim', planId, claimId, at, amount: fee.amount, currency: fee.currency });
  await ledger.run({ type: 'FulfilClaim', planId, claimId, at, replacementSerial: next });
  return fee;
}

describe('RULES section 9: worked examples', () => {
  test('1. P6/W1/R1/C6: Mavic 3 1-Year bundle bought 2024-03-01 in the US, activated 2024-03-10T14:22-07:00', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ channel: 'bundle', purchasedAt: '2024-03-01T12:00:00-08:00' }));
    expect(ledger.entitlements('A', '2024-03-05').coverage).toBe('pending');
    await ledger.run({ type: 'ActivateDevice', serial: 'A', model: 'Mavic 3', region: 'US', activatedAt: '2024-03-10T14:22-07:00' });
    const view = ledger.entitlements('A', '2024-03-11');
    expect(view.coverage).toBe('active');
    expect(view.replacement.window).toEqual({ from: '2024-03-10', until: '2025-03-10' });
    expect(view.replacement.remaining).toBe(2);
    expect(view.replacement.flyawayRemaining).toBe(1);
    expect(view.replacement.nextFee).toEqual({ damage: usd('159.00'), flyaway: usd('739.00') });

    const first = await replace(ledger, 'P1', 'A', 'C1', '2024-04-01T10:00:00-07:00', 'B');
    expect(first).toEqual(usd('159.00'));
    expect(ledger.entitlements('B', '2024-04-02').replacement.nextFee.damage).toEqual(usd('199.00'));
    await ledger.run({
      type: 'OpenClaim', claimId: 'C2', claimRef: 'C2', serial: 'B', kind: 'damage', cause: 'water',
      incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00', serviceCenterId: 'SC-1',
      express: false, flightRecordsSynced: false,
    });
    const { decision } = await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: 'C2', at: '2024-05-02T10:00:00-07:00' });
    expect(decision.outcome).toMatchObject({ fee: usd('199.00'), ordinal: 2 });
  });

  test('2. P4: aircraft activated 2024-05-01T09:00Z; separate purchase at +48 h accepted, at +48 h 1 s refused', async () => {
    const ledger = new MemoryLedger();
    await ledger.run({ type: 'ActivateDevice', serial: 'A', model: 'Mavic 3', region: 'US', activatedAt: '2024-05-01T09:00:00Z' });
    await expect(ledger.decide(purchase({ purchasedAt: '2024-05-03T09:00:01Z' }))).rejects.toMatchObject({ code: 'PurchaseWindowClosed', rule: 'P4' });
    await ledger.run(purchase({ purchasedAt: '2024-05-03T09:00:00Z' }));
    expect(ledger.entitlements('A', '2024-05-04').replacement.window).toEqual({ from: '2024-05-03', until: '2025-05-03' });
  });

  test('3. W2/W4/C7: 2-Year plan (V2023), D = 2024-03-10, reward model, no claims', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ term: '2y' }));
    const view = ledger.entitlements('A', '2024-03-10');
    expect(view.policyVersion).toBe('V2023');
    expect(view.replacement.window).toEqual({ from: '2024-03-10', until: '2026-03-10' });
    expect(view.replacement.remaining).toBe(4);
    expect(view.replacement.flyawayRemaining).toBe(2);
    expect(view.warranty.extensions).toEqual([
      { kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', status: 'granted' },
      { kind: 'safe-use-reward', from: '2026-03-10', until: '2027-03-10', status: 'pending' },
    ]);
    expect(view.safeUseReward).toEqual({ status: 'pending', window: { from: '2026-03-10', until: '2027-03-10' } });
  });

  test('4. N2: a 1-Year plan from 2024-03-10 (US) can be renewed until 2025-03-24T23:59:59-07:00', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    expect(ledger.entitlements('A', '2025-03-09').renewal.deadline).toBe('2025-03-25T00:00:00.000-07:00');
    await expect(
      ledger.decide({ type: 'RenewPlan', planId: 'P1', purchasedAt: '2025-03-25T00:00:00-07:00', orderId: 'R-1', term: '1y', price: null }),
    ).rejects.toMatchObject({ code: 'RenewalWindowClosed', rule: 'N2' });
    await ledger.run({ type: 'RenewPlan', planId: 'P1', purchasedAt: '2025-03-24T23:59:59-07:00', orderId: 'R-1', term: '1y', price: null });
    const view = ledger.entitlements('A', '2025-03-25');
    expect(view.chain[1]).toEqual({ kind: 'renewal', from: '2025-03-10', until: '2026-03-10' });
    expect(view.replacement.window).toEqual({ from: '2025-03-10', until: '2026-03-10' });
  });

  test('5. P2: a 1-Year plan from 2024-03-10 renewed twice runs to 2027-03-10; a third renewal is refused', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await ledger.run({ type: 'RenewPlan', planId: 'P1', purchasedAt: '2025-02-01T10:00:00-08:00', orderId: 'R-1', term: '1y', price: null });
    await ledger.run({ type: 'RenewPlan', planId: 'P1', purchasedAt: '2026-02-01T10:00:00-08:00', orderId: 'R-2', term: '1y', price: null });
    expect(ledger.entitlements('A', '2026-03-01').chain.at(-1)).toEqual({ kind: 'renewal', from: '2026-03-10', until: '2027-03-10' });
    await expect(
      ledger.decide({ type: 'RenewPlan', planId: 'P1', purchasedAt: '2026-03-01T10:00:00-08:00', orderId: 'R-3', term: '1y', price: null }),
    ).rejects.toMatchObject({ code: 'MaxTermExceeded', rule: 'P2' });
  });

  describe('6. W4/R8: US Mavic 3 on a 1-Year plan from 2024-03-10', () => {
    test('no claims: reward [2025-03-10, 2026-03-10)', async () => {
      const ledger = new MemoryLedger();
      await ledger.run(purchase({}));
      const view = ledger.entitlements('A', '2025-06-01');
      expect(view.safeUseReward.window).toEqual({ from: '2025-03-10', until: '2026-03-10' });
      expect(view.warranty.coveredUntil).toBe('2026-03-10');
    });

    test('one damage replacement on 2024-09-01: no reward and 1 replacement left', async () => {
      const ledger = new MemoryLedger();
      await ledger.run(purchase({}));
      await replace(ledger, 'P1', 'A', 'C1', '2024-09-01T10:00:00-07:00', 'B');
      const view = ledger.entitlements('B', '2024-09-02');
      expect(view.safeUseReward).toEqual({ status: 'forfeited', window: null });
      expect(view.replacement.remaining).toBe(1);
    });

    test('a standard-warranty repair instead: reward kept and 2 left', async () => {
      const ledger = new MemoryLedger();
      await ledger.run(purchase({}));
      await ledger.run({ type: 'RecordService', serial: 'A', kind: 'warranty-repair', at: '2024-09-01T10:00:00-07:00', serviceCenterId: 'SC-1' });
      const view = ledger.entitlements('A', '2024-09-02');
      expect(view.safeUseReward).toEqual({ status: 'pending', window: { from: '2025-03-10', until: '2026-03-10' } });
      expect(view.replacement.remaining).toBe(2);
    });
  });

  describe('7. R4: flyaway needs account and remote controller bound before it', () => {
    const flyaway = (claimId: string): Command => ({
      type: 'OpenClaim', claimId, claimRef: claimId, serial: 'A', kind: 'flyaway', cause: 'flyaway',
      incidentAt: '2024-06-01T12:00:00-07:00', openedAt: '2024-06-02T12:00:00-07:00', serviceCenterId: 'SC-1',
      express: false, flightRecordsSynced: true,
    });
    const pair = (kind: 'account' | 'remote-controller', action: 'bind' | 'unbind', at: string): Command => ({
      type: 'ChangePairing', serial: 'A', kind, ref: `${kind}-1`, action, at,
    });

    async function setup() {
      const ledger = new MemoryLedger();
      await ledger.run(purchase({}));
      await ledger.run(pair('account', 'bind', '2024-03-11T10:00:00-07:00'));
      return ledger;
    }

    test('controller never bound: FlyawayBindingMissing', async () => {
      const ledger = await setup();
      await expect(ledger.decide(flyaway('F1'))).rejects.toMatchObject({ code: 'FlyawayBindingMissing', rule: 'R4' });
    });

    test('controller bound only after the flyaway: FlyawayBindingMissing', async () => {
      const ledger = await setup();
      await ledger.run(pair('remote-controller', 'bind', '2024-06-01T12:30:00-07:00'));
      await expect(ledger.decide(flyaway('F1'))).rejects.toMatchObject({ code: 'FlyawayBindingMissing' });
    });

    test('controller unbound before the flyaway: FlyawayBindingMissing; bound and kept: accepted', async () => {
      const ledger = await setup();
      await ledger.run(pair('remote-controller', 'bind', '2024-04-01T12:00:00-07:00'));
      await ledger.decide(flyaway('F0'));
      await ledger.run(pair('remote-controller', 'unbind', '2024-05-01T12:00:00-07:00'));
      await expect(ledger.decide(flyaway('F1'))).rejects.toMatchObject({ code: 'FlyawayBindingMissing' });
    });
  });

  test('8. I1/I2/P7/R3: A on a 2-Year plan from 2024-03-10, replaced by B on 2024-06-01 and B by C on 2025-01-15', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({ term: '2y' }));
    await replace(ledger, 'P1', 'A', 'C1', '2024-06-01T10:00:00-07:00', 'B');
    await replace(ledger, 'P1', 'B', 'C2', '2025-01-15T10:00:00-08:00', 'C');
    const view = ledger.entitlements('C', '2025-01-16');
    expect(view.coverage).toBe('active');
    expect(view.replacement.window).toEqual({ from: '2024-03-10', until: '2026-03-10' });
    expect(view.replacement.remaining).toBe(2);
    expect(view.replacement.used).toBe(2);
    expect(view.inheritedFrom).toEqual(['A', 'B']);
    expect(ledger.entitlements('A', '2025-01-16')).toMatchObject({ coverage: 'transferred', transferredTo: 'B' });
    expect(ledger.entitlements('B', '2025-01-16')).toMatchObject({ coverage: 'transferred', transferredTo: 'C', inheritedFrom: ['A'] });
    for (const serial of ['A', 'B']) {
      await expect(
        ledger.decide({
          type: 'OpenClaim', claimId: `X-${serial}`, claimRef: `X-${serial}`, serial, kind: 'damage', cause: 'drop',
          incidentAt: '2025-02-01T10:00:00-08:00', openedAt: '2025-02-01T10:00:00-08:00', serviceCenterId: 'SC-1',
          express: false, flightRecordsSynced: false,
        }),
      ).rejects.toMatchObject({ code: 'DeviceNotCovered', rule: 'R3' });
    }
    await expect(ledger.decide(purchase({ planId: 'P2', orderId: 'O-2', serial: 'C', purchasedAt: '2025-02-01T10:00:00-08:00' }))).rejects.toMatchObject({
      code: 'AlreadyCoveredByInheritedPlan',
      rule: 'P7',
    });
  });

  test('9. R1/R7: one replacement left and two approvals decided on the same state: the second, re-decided, is refused', async () => {
    const ledger = new MemoryLedger();
    await ledger.run(purchase({}));
    await replace(ledger, 'P1', 'A', 'C1', '2024-04-01T10:00:00-07:00', 'B');
    for (const id of ['C2', 'C3']) {
      await ledger.run({
        type: 'OpenClaim', claimId: id, claimRef: id, serial: 'B', kind: 'damage', cause: 'drop', incidentAt: '2024-05-01T10:00:00-07:00',
        openedAt: '2024-05-01T10:00:00-07:00', serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false,
      });
    }
    const a = await ledger.decide({ type: 'ApproveClaim', planId: 'P1', claimId: 'C2', at: '2024-05-02T10:00:00-07:00' });
    const b = await ledger.decide({ type: 'ApproveClaim', planId: 'P1', claimId: 'C3', at: '2024-05-02T10:00:00-07:00' });
    expect(a.appends).toHaveLength(1);
    expect(b.appends).toHaveLength(1); // both pass on the same revision: the store's expected revision decides
    await ledger.run({ type: 'ApproveClaim', planId: 'P1', claimId: 'C2', at: '2024-05-02T10:00:00-07:00' });
    await expect(ledger.decide({ type: 'ApproveClaim', planId: 'P1', claimId: 'C3', at: '2024-05-02T10:00:00-07:00' })).rejects.toMatchObject({
      code: 'NoReplacementsRemaining',
    });
    expect(ledger.events.filter((e) => e.type === 'ClaimApproved')).toHaveLength(2);
  });
});
