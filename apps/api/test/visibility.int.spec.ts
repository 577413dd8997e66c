/**
 * Issue 14 item 10: one rule for what a service center reads of other centers' claims (see
 * apps/api/src/http/visibility.ts). SC-2 at its desk sees the unit's claims at SC-1 (kind, status,
 * dates, center) but never SC-1's reference, its free-text reasons or its staff, on any route.
 */
import { scenario, TestServer } from './harness';

const AT = (day: string, time = '10:00:00') => `2024-${day}T${time}-07:00`;
const SC1_REF = 'SC1-TICKET-4711';
const SC1_REASON = 'customer was rude, see internal note 88';
const SC1_REF_2 = 'SC1-TICKET-4712';
const CORRECTION_REASON = 'approval entered by mistake per SC-1 supervisor';
const SC2_REF = 'SC2-OWN-1';

describe('what a service center reads of other centers\' claims (issue 14, item 10)', () => {
  let server: TestServer;
  let planId: string;
  let denied: string;
  let fulfilled: string;
  let own: string;

  beforeAll(async () => {
    server = await TestServer.start();
    const s = scenario(server);
    await s.center('SC-1', 'US');
    await s.center('SC-2', 'US');
    ({ planId } = await s.buy({ term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: AT('03-10'), orderId: 'VIS-1', serial: 'VIS-A' }));
    // SC-1 (a named agent): a denied claim, a fulfilled one, a service record
    denied = (await server.post('/v1/claims', 'alice', { claimRef: SC1_REF, serial: 'VIS-A', kind: 'damage', cause: 'collision', incidentAt: AT('04-01'), openedAt: AT('04-01'), serviceCenterId: 'SC-1' })).body.claimId;
    expect((await server.post(`/v1/claims/${denied}/denial`, 'alice', { at: AT('04-02'), reason: SC1_REASON })).status).toBe(201);
    expect((await server.post('/v1/devices/VIS-A/service-records', 'alice', { kind: 'warranty-repair', at: AT('04-03'), serviceCenterId: 'SC-1' })).status).toBe(201);
    const opened = await server.post('/v1/claims', 'alice', { claimRef: SC1_REF_2, serial: 'VIS-A', kind: 'damage', cause: 'drop', incidentAt: AT('05-01'), openedAt: AT('05-01'), serviceCenterId: 'SC-1' });
    fulfilled = opened.body.claimId;
    const approval = await server.post(`/v1/claims/${fulfilled}/approval`, 'alice', { at: AT('05-02') });
    await server.post(`/v1/claims/${fulfilled}/payment`, 'alice', { at: AT('05-02'), ...approval.body.fee });
    expect((await server.post(`/v1/claims/${fulfilled}/fulfilment`, 'alice', { at: AT('05-03'), replacementSerial: 'VIS-B' })).status).toBe(201);
    // the approval voided afterwards: a conflict (X2) whose detail names the claim
    expect((await server.post('/v1/corrections', 'admin', { eventId: approval.body.eventIds[0], action: 'void', reason: CORRECTION_REASON })).status).toBe(201);
    // SC-2's own claim on the replacement unit
    own = (await server.post('/v1/claims', 'sc2', { claimRef: SC2_REF, serial: 'VIS-B', kind: 'damage', cause: 'water', incidentAt: AT('06-01'), openedAt: AT('06-01'), serviceCenterId: 'SC-2' })).body.claimId;
    expect(own).toBeDefined();
  });
  afterAll(() => server.stop());

  const routes = () => [
    '/v1/devices/VIS-A/history',
    '/v1/devices/VIS-B/history',
    '/v1/devices/VIS-A/timeline',
    '/v1/devices/VIS-B/timeline',
    '/v1/devices/VIS-A/entitlements?explain=true',
    '/v1/devices/VIS-B/entitlements?explain=true',
    `/v1/plans/${planId}`,
  ];

  test('SC-2 reads none of SC-1\'s references, reasons or staff on any route', async () => {
    for (const path of routes()) {
      const answer = await server.get(path, 'sc2');
      expect([path, answer.status]).toEqual([path, 200]);
      const text = JSON.stringify(answer.body);
      for (const secret of [SC1_REF, SC1_REF_2, SC1_REASON, CORRECTION_REASON, 'alice@sc-1']) expect([path, text.includes(secret)]).toEqual([path, false]);
    }
  });

  test('but sees the claims themselves: kind, status, dates, which center; and its own in full', async () => {
    const history = (await server.get('/v1/devices/VIS-B/history', 'sc2')).body.events as any[];
    const openedAtSc1 = history.find((e) => e.type === 'ClaimOpened' && e.data.claimId === denied);
    expect(openedAtSc1).toMatchObject({
      actor: 'service-center:SC-1',
      data: { claimId: denied, kind: 'damage', cause: 'collision', openedAt: AT('04-01'), serviceCenterId: 'SC-1', serial: 'VIS-A' },
      redacted: ['data.claimRef', 'actor'],
    });
    expect(openedAtSc1.data).not.toHaveProperty('claimRef');
    expect(history.find((e) => e.type === 'ClaimDenied')).toMatchObject({ data: { claimId: denied, at: AT('04-02') }, redacted: ['data.reason', 'actor'] });
    expect(history.find((e) => e.type === 'EventCorrected')).toMatchObject({ actor: 'admin', data: { action: 'void' }, redacted: ['data.reason'] });
    expect(history.find((e) => e.type === 'ServiceRecorded')).toMatchObject({ actor: 'service-center:SC-1', redacted: ['actor'] });
    const mine = history.find((e) => e.type === 'ClaimOpened' && e.data.claimId === own);
    expect(mine.data.claimRef).toBe(SC2_REF);
    expect(mine).not.toHaveProperty('redacted');

    const plan = (await server.get(`/v1/plans/${planId}`, 'sc2')).body;
    expect(plan.claims).toEqual([
      { claimId: denied, claimRef: null, serial: 'VIS-A', kind: 'damage', status: 'denied', serviceCenterId: 'SC-1', redacted: ['claimRef'] },
      { claimId: fulfilled, claimRef: null, serial: 'VIS-A', kind: 'damage', status: 'fulfilled', serviceCenterId: 'SC-1', redacted: ['claimRef'] },
      { claimId: own, claimRef: SC2_REF, serial: 'VIS-B', kind: 'damage', status: 'open', serviceCenterId: 'SC-2' },
    ]);

    const conflicts = (await server.get('/v1/devices/VIS-B/entitlements', 'sc2')).body.conflicts;
    expect(conflicts).toEqual([expect.objectContaining({ rule: 'X2', detail: expect.stringContaining(`Claim ${fulfilled} was fulfilled`) })]);
    const timeline = (await server.get('/v1/devices/VIS-B/timeline', 'sc2')).body.entries as any[];
    expect(timeline.at(-1).view.conflicts.length + timeline.flatMap((e) => e.view.conflicts).length).toBeGreaterThan(0);
  });

  test('SC-1 reads its own claims in full; admin, auditor and sales read everything, nothing redacted', async () => {
    for (const as of ['alice', 'sc1', 'admin', 'auditor', 'sales'] as const) {
      const history = (await server.get('/v1/devices/VIS-B/history', as)).body.events as any[];
      expect(history.some((e) => 'redacted' in e && e.data.claimId !== own)).toBe(false);
      expect(history.find((e) => e.type === 'ClaimOpened' && e.data.claimId === denied).data.claimRef).toBe(SC1_REF);
      expect(history.find((e) => e.type === 'ClaimDenied').data.reason).toBe(SC1_REASON);
      const plan = (await server.get(`/v1/plans/${planId}`, as)).body;
      expect(plan.claims[0]).toEqual({ claimId: denied, claimRef: SC1_REF, serial: 'VIS-A', kind: 'damage', status: 'denied', serviceCenterId: 'SC-1' });
      expect((await server.get('/v1/devices/VIS-B/entitlements', as)).body.conflicts[0].detail).toContain(`Claim ${SC1_REF_2} was fulfilled`);
    }
    // SC-1 does not read SC-2's reference either
    expect(JSON.stringify((await server.get('/v1/devices/VIS-B/history', 'sc1')).body)).not.toContain(SC2_REF);
  });

  test('a claim, the dashboards and the claim queues of another center stay 403', async () => {
    for (const path of [`/v1/claims/${denied}`, '/v1/service-centers/SC-1/dashboard', '/v1/service-centers/SC-1/claims']) {
      expect([path, (await server.get(path, 'sc2')).status]).toEqual([path, 403]);
    }
    expect((await server.get(`/v1/claims/${own}`, 'sc2')).status).toBe(200);
    expect((await server.get('/v1/audit/events', 'sc2')).status).toBe(403);
    expect((await server.get('/v1/audit/decisions', 'sc2')).status).toBe(403);
  });
});
