/** Parallel commands on one plan: the store's expected revision decides, nothing is lost or doubled. */
import { scenario, TestServer } from './harness';

describe('parallel commands on one plan', () => {
  let server: TestServer;
  let s: ReturnType<typeof scenario>;

  beforeAll(async () => {
    server = await TestServer.start();
    s = scenario(server);
    await s.center('SC-1', 'US');
  });
  afterAll(() => server.stop());

  test('12 claims opened at once on one plan are all recorded, each once', async () => {
    const { planId } = await s.buy({ term: '2y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'PC-1', serial: 'PC-A' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.open({ claimRef: `PC-${i}`, serial: 'PC-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(201));
    const plan = await server.get(`/v1/plans/${planId}`, 'sales');
    expect(plan.body.claims).toHaveLength(12);

    // 4 replacements in a V2023 2-Year term: of 12 approvals at once, exactly 4 are accepted
    const approvals = await Promise.all(answers.map((a) => server.post(`/v1/claims/${a.body.claimId}/approval`, 'sc1', { at: '2024-05-02T10:00:00-07:00' })));
    const accepted = approvals.filter((a) => a.status === 201);
    expect(accepted).toHaveLength(4);
    expect(approvals.filter((a) => a.status === 422).every((a) => a.body.code === 'NoReplacementsRemaining')).toBe(true);
    expect(accepted.map((a) => a.body.ordinal).sort()).toEqual([1, 2, 3, 4]);
    const events = await server.get(`/v1/audit/events?planId=${planId}&type=ClaimApproved`, 'auditor');
    expect(events.body.items).toHaveLength(4);
  });

  test('two plans bought at once for one serial: exactly one binds it (P3)', async () => {
    const answers = await Promise.all(
      ['PB-1', 'PB-2', 'PB-3', 'PB-4'].map((orderId) =>
        server.post('/v1/plans', 'sales', { term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId, serial: 'PB-A' }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 422).map((a) => a.body.code)).toEqual(['AlreadyBound', 'AlreadyBound', 'AlreadyBound']);
  });
});
