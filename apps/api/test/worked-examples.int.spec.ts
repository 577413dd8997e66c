/** RULES.md section 9 through the HTTP API, on a real app and a temporary SQLite file. */
import { scenario, TestServer } from './harness';

const usd = (amount: string) => ({ amount, currency: 'USD' });

describe('worked examples over HTTP', () => {
  let server: TestServer;
  let s: ReturnType<typeof scenario>;

  beforeAll(async () => {
    server = await TestServer.start();
    s = scenario(server);
    await s.center('SC-1', 'US');
  });
  afterAll(() => server.stop());

  test('1. Mavic 3 1-Year bundle bought 2024-03-01 (US), activated 2024-03-10T14:22-07:00', async () => {
    const bought = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'bundle', purchasedAt: '2024-03-01T12:00:00-08:00', orderId: 'E1', serial: 'E1-A' });
    expect(bought).toMatchObject({ planId: expect.any(String), eventIds: [expect.any(String), expect.any(String)], revision: 0, position: expect.any(String) });
    await s.activate('E1-A', 'Mavic 3', 'US', '2024-03-10T14:22-07:00');
    const view = await s.entitlements('E1-A', '?at=2024-03-10&explain=true');
    expect(view).toMatchObject({
      coverage: 'active',
      planId: bought.planId,
      replacement: { window: { from: '2024-03-10', until: '2025-03-10' }, remaining: 2, flyawayRemaining: 1, nextFee: { damage: usd('159.00'), flyaway: usd('739.00') } },
    });
    expect(view.explanation.find((e: { field: string }) => e.field === 'replacement.window').rules).toEqual(expect.arrayContaining(['W1', 'T1']));
    const { approval } = await s.replace('E1-A', 'E1-C1', '2024-04-01T10:00:00-07:00', 'E1-B');
    expect(approval).toMatchObject({ fee: usd('159.00'), ordinal: 1 });
    const after = await s.entitlements('E1-B', '?at=2024-04-02');
    expect(after.replacement.nextFee.damage).toEqual(usd('199.00'));
  });

  test('2. aircraft activated 2024-05-01T09:00Z: purchase at +48 h accepted, at +48 h 1 s refused', async () => {
    await s.activate('E2-A', 'Mavic 3', 'US', '2024-05-01T09:00:00Z');
    const late = await server.post('/v1/plans', 'sales', { term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-05-03T09:00:01Z', orderId: 'E2-late', serial: 'E2-A' });
    expect(late.status).toBe(422);
    expect(late.headers.get('content-type')).toContain('application/problem+json');
    expect(late.body).toMatchObject({ code: 'PurchaseWindowClosed', rule: 'P4', status: 422 });
    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-05-03T09:00:00Z', orderId: 'E2', serial: 'E2-A' });
    expect((await s.entitlements('E2-A', '?at=2024-05-03')).replacement.window).toEqual({ from: '2024-05-03', until: '2025-05-03' });
  });

  test('3. 2-Year plan (V2023), D = 2024-03-10, reward model, no claims', async () => {
    await s.buy({ term: '2y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E3', serial: 'E3-A' });
    const view = await s.entitlements('E3-A', '?at=2024-03-10');
    expect(view).toMatchObject({ policyVersion: 'V2023', replacement: { window: { from: '2024-03-10', until: '2026-03-10' }, remaining: 4, flyawayRemaining: 2 } });
    expect(view.warranty.extensions).toEqual(
      expect.arrayContaining([
        { kind: 'plan-year-2', from: '2025-03-10', until: '2026-03-10', status: 'granted' },
        expect.objectContaining({ kind: 'safe-use-reward', from: '2026-03-10', until: '2027-03-10' }),
      ]),
    );
    expect(view.safeUseReward.window).toEqual({ from: '2026-03-10', until: '2027-03-10' });
  });

  test('4. renewal of a 1-Year plan from 2024-03-10 until 2025-03-24T23:59:59-07:00, not at 2025-03-25T00:00-07:00', async () => {
    const { planId } = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E4', serial: 'E4-A' });
    const late = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-25T00:00-07:00', orderId: 'E4-R-late' });
    expect(late.body).toMatchObject({ code: 'RenewalWindowClosed', rule: 'N2' });
    const ok = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-24T23:59:59-07:00', orderId: 'E4-R' });
    expect(ok.status).toBe(201);
    expect(ok.body.chain[1]).toEqual({ kind: 'renewal', from: '2025-03-10', until: '2026-03-10' });
    const refused = await server.get(`/v1/audit/decisions?planId=${planId}&outcome=refused`, 'auditor');
    expect(refused.body.items).toEqual([expect.objectContaining({ code: 'RenewalWindowClosed', rule: 'N2', command: 'RenewPlan' })]);
  });

  test('5. a 1-Year plan from 2024-03-10 renewed twice runs to 2027-03-10; a third renewal is refused', async () => {
    const { planId } = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E5', serial: 'E5-A' });
    await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'E5-R1' });
    const second = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2026-03-01T10:00:00-08:00', orderId: 'E5-R2' });
    expect(second.body.chain.at(-1)).toEqual({ kind: 'renewal', from: '2026-03-10', until: '2027-03-10' });
    const third = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2026-04-01T10:00:00-07:00', orderId: 'E5-R3' });
    expect(third.body).toMatchObject({ code: 'MaxTermExceeded', rule: 'P2' });
  });

  test('6. US Mavic 3, 1-Year from 2024-03-10: reward, forfeited by a replacement, kept after a warranty repair', async () => {
    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E6a', serial: 'E6-A' });
    expect((await s.entitlements('E6-A', '?at=2025-06-01')).safeUseReward.window).toEqual({ from: '2025-03-10', until: '2026-03-10' });

    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E6b', serial: 'E6-B' });
    await s.replace('E6-B', 'E6-C1', '2024-09-01T10:00:00-07:00', 'E6-B2');
    expect(await s.entitlements('E6-B2', '?at=2024-09-02')).toMatchObject({ safeUseReward: { status: 'forfeited', window: null }, replacement: { remaining: 1 } });

    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E6c', serial: 'E6-C' });
    const repair = await server.post('/v1/devices/E6-C/service-records', 'sc1', { kind: 'warranty-repair', at: '2024-09-01T10:00:00-07:00', serviceCenterId: 'SC-1' });
    expect(repair.status).toBe(201);
    expect(await s.entitlements('E6-C', '?at=2024-09-02')).toMatchObject({
      safeUseReward: { status: 'pending', window: { from: '2025-03-10', until: '2026-03-10' } },
      replacement: { remaining: 2 },
    });
  });

  test('7. flyaway needs the account and the remote controller bound before it', async () => {
    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E7', serial: 'E7-A' });
    await s.pair('E7-A', 'account', 'bind', '2024-03-11T10:00:00-07:00');
    const flyaway = (ref: string) =>
      s.open({ claimRef: ref, serial: 'E7-A', kind: 'flyaway', cause: 'flyaway', incidentAt: '2024-06-01T12:00:00-07:00', openedAt: '2024-06-02T12:00:00-07:00', flightRecordsSynced: true });
    expect((await flyaway('E7-1')).body).toMatchObject({ code: 'FlyawayBindingMissing', rule: 'R4' });
    await s.pair('E7-A', 'remote-controller', 'bind', '2024-06-01T12:30:00-07:00');
    expect((await flyaway('E7-2')).body).toMatchObject({ code: 'FlyawayBindingMissing' });
    await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E7b', serial: 'E7-B' });
    await s.pair('E7-B', 'account', 'bind', '2024-03-11T10:00:00-07:00');
    await s.pair('E7-B', 'remote-controller', 'bind', '2024-03-11T10:00:00-07:00');
    await s.pair('E7-B', 'remote-controller', 'unbind', '2024-05-01T10:00:00-07:00');
    const unbound = await s.open({ claimRef: 'E7-3', serial: 'E7-B', kind: 'flyaway', cause: 'flyaway', incidentAt: '2024-06-01T12:00:00-07:00', openedAt: '2024-06-02T12:00:00-07:00', flightRecordsSynced: true });
    expect(unbound.body).toMatchObject({ code: 'FlyawayBindingMissing' });
  });

  test('8. A on a 2-Year plan from 2024-03-10, replaced by B on 2024-06-01 and B by C on 2025-01-15', async () => {
    const { planId } = await s.buy({ term: '2y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E8', serial: 'E8-A' });
    await s.replace('E8-A', 'E8-C1', '2024-06-01T10:00:00-07:00', 'E8-B');
    await s.replace('E8-B', 'E8-C2', '2025-01-15T10:00:00-08:00', 'E8-C');
    const view = await s.entitlements('E8-C', '?at=2025-01-16');
    expect(view).toMatchObject({
      coverage: 'active',
      planId,
      inheritedFrom: ['E8-A', 'E8-B'],
      replacement: { window: { from: '2024-03-10', until: '2026-03-10' }, remaining: 2, used: 2 },
    });
    for (const serial of ['E8-A', 'E8-B']) {
      const refused = await s.open({ claimRef: `E8-X-${serial}`, serial, incidentAt: '2025-02-01T10:00:00-08:00', openedAt: '2025-02-01T10:00:00-08:00' });
      expect(refused.body).toMatchObject({ code: 'DeviceNotCovered', rule: 'R3' });
    }
    const again = await server.post('/v1/plans', 'sales', { term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2025-02-01T10:00:00-08:00', orderId: 'E8-P2', serial: 'E8-C' });
    expect(again.body).toMatchObject({ code: 'AlreadyCoveredByInheritedPlan', rule: 'P7' });
    const history = await server.get('/v1/devices/E8-C/history', 'auditor');
    expect(history.body.events.filter((e: { type: string }) => e.type === 'ClaimFulfilled')).toHaveLength(2);
  });

  test('9. one replacement left, two approvals at the same moment: exactly one succeeds', async () => {
    const { planId } = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'E9', serial: 'E9-A' });
    await s.replace('E9-A', 'E9-C1', '2024-04-01T10:00:00-07:00', 'E9-B');
    const ids: string[] = [];
    for (const ref of ['E9-C2', 'E9-C3']) {
      const opened = await s.open({ claimRef: ref, serial: 'E9-B', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' });
      expect(opened.status).toBe(201);
      ids.push(opened.body.claimId);
    }
    const answers = await Promise.all(ids.map((id) => server.post(`/v1/claims/${id}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 422]);
    expect(answers.find((a) => a.status === 422)!.body).toMatchObject({ code: 'NoReplacementsRemaining', rule: 'R1' });
    const approvals = await server.get(`/v1/audit/events?planId=${planId}&type=ClaimApproved`, 'auditor');
    expect(approvals.body.items).toHaveLength(2); // the first replacement's and exactly one of the two
  });
});
