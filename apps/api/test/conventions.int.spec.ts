/** API.md conventions over HTTP: roles, idempotency, business keys, If-Match, pagination, bad input. */
import { As, scenario, TestServer } from './harness';

const plan = (orderId: string, serial: string, extra: Record<string, unknown> = {}) => ({
  term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId, serial, ...extra,
});

describe('API conventions', () => {
  let server: TestServer;
  let s: ReturnType<typeof scenario>;

  beforeAll(async () => {
    server = await TestServer.start();
    s = scenario(server);
    await s.center('SC-1', 'US');
    await s.center('SC-2', 'EU');
  });
  afterAll(() => server.stop());

  describe('roles', () => {
    // bodies are empty on purpose: an allowed role gets past the guard and meets validation (400),
    // a refused one is stopped first (403), and nothing is ever appended
    const routes: { method: 'POST' | 'PUT' | 'GET'; path: string; allowed: As[] }[] = [
      { method: 'POST', path: '/v1/devices/X1/activation', allowed: ['registry', 'admin'] },
      { method: 'POST', path: '/v1/devices/X1/pairings', allowed: ['registry', 'admin'] },
      { method: 'POST', path: '/v1/devices/X1/verifications', allowed: ['registry', 'admin'] },
      { method: 'POST', path: '/v1/plans', allowed: ['sales', 'admin'] },
      { method: 'POST', path: '/v1/plans/P-X/binding', allowed: ['sales', 'admin'] },
      { method: 'POST', path: '/v1/plans/P-X/renewals', allowed: ['sales', 'admin'] },
      { method: 'POST', path: '/v1/plans/P-X/care-plus', allowed: ['sales', 'admin'] },
      { method: 'POST', path: '/v1/claims', allowed: ['sc1', 'sc2', 'admin'] },
      { method: 'POST', path: '/v1/claims/C-X/approval', allowed: ['sc1', 'sc2', 'admin'] },
      { method: 'POST', path: '/v1/devices/X1/service-records', allowed: ['sc1', 'sc2', 'admin'] },
      { method: 'PUT', path: '/v1/service-centers/SC-9', allowed: ['admin'] },
      { method: 'POST', path: '/v1/corrections', allowed: ['admin'] },
      { method: 'POST', path: '/v1/devices/X1/warranty-extensions', allowed: ['admin'] },
      { method: 'GET', path: '/v1/audit/events', allowed: ['auditor', 'admin'] },
      { method: 'GET', path: '/v1/audit/decisions', allowed: ['auditor', 'admin'] },
      { method: 'GET', path: '/v1/audit/verify', allowed: ['auditor', 'admin'] },
      { method: 'GET', path: '/v1/service-centers/SC-1/dashboard', allowed: ['sc1', 'auditor', 'admin'] },
      { method: 'GET', path: '/v1/service-centers/SC-1/claims', allowed: ['sc1', 'auditor', 'admin'] },
      { method: 'GET', path: '/v1/devices/X1/entitlements', allowed: ['sales', 'registry', 'auditor', 'sc1', 'sc2', 'admin'] },
      { method: 'GET', path: '/v1/devices/X1/history', allowed: ['sales', 'registry', 'auditor', 'sc1', 'sc2', 'admin'] },
      { method: 'GET', path: '/v1/devices/X1/timeline', allowed: ['sales', 'registry', 'auditor', 'sc1', 'sc2', 'admin'] },
      { method: 'GET', path: '/v1/plans/P-X', allowed: ['sales', 'registry', 'auditor', 'sc1', 'sc2', 'admin'] },
      { method: 'GET', path: '/v1/claims/C-X', allowed: ['auditor', 'sc1', 'sc2', 'admin'] },
      { method: 'GET', path: '/v1/audit/checkpoints', allowed: ['auditor', 'admin'] },
      { method: 'GET', path: '/v1/me', allowed: ['sales', 'registry', 'auditor', 'sc1', 'sc2', 'admin', 'integration'] },
      // v1.1 integration: the feed for admin, auditor and the read-only integration role; webhooks for admin (their deliveries for auditors too)
      { method: 'GET', path: '/v1/feed', allowed: ['auditor', 'integration', 'admin'] },
      { method: 'PUT', path: '/v1/webhooks/W-X', allowed: ['admin'] },
      { method: 'GET', path: '/v1/webhooks/W-X', allowed: ['admin'] },
      { method: 'GET', path: '/v1/webhooks/W-X/deliveries', allowed: ['auditor', 'admin'] },
    ];
    const everyone: As[] = ['admin', 'sales', 'registry', 'auditor', 'sc1', 'sc2', 'integration'];

    test.each(routes)('$method $path: 401 without a token, 403 outside its roles', async ({ method, path, allowed }) => {
      const before = await server.eventCount();
      const anonymous = await server.call(method, path, null, method === 'GET' ? undefined : {});
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe('Unauthorized');
      const bogus = await server.call(method, path, null, method === 'GET' ? undefined : {}, { authorization: 'Bearer not-a-token-at-all' });
      expect(bogus.status).toBe(401);
      for (const role of everyone) {
        const answer = await server.call(method, path, role, method === 'GET' ? undefined : {});
        if (allowed.includes(role)) expect([200, 400, 404]).toContain(answer.status);
        else {
          expect(answer.status).toBe(403);
          expect(answer.body).toMatchObject({ code: 'Forbidden', status: 403 });
        }
      }
      expect(await server.eventCount()).toBe(before);
    });

    test('a service center acts and reads for its own center only', async () => {
      await s.buy(plan('R-1', 'R1-A'));
      const foreign = await s.open({ claimRef: 'R1', serial: 'R1-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' }, 'sc2');
      expect(foreign.status).toBe(403);
      const own = await s.open({ claimRef: 'R1', serial: 'R1-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' });
      expect(own.status).toBe(201);
      expect((await server.post(`/v1/claims/${own.body.claimId}/approval`, 'sc2', { at: '2024-05-02T10:00:00-07:00' })).status).toBe(403);
      expect((await server.get(`/v1/claims/${own.body.claimId}`, 'sc2')).status).toBe(403);
      expect((await server.get(`/v1/claims/${own.body.claimId}`, 'sc1')).body).toMatchObject({ status: 'open', claimRef: 'R1' });
      expect((await server.get('/v1/service-centers/SC-1/dashboard', 'sc2')).status).toBe(403);
      expect((await server.get('/v1/devices/R1-A/entitlements', 'sales')).status).toBe(200);
    });
  });

  describe('idempotency', () => {
    test('same Idempotency-Key and body: the first answer again, nothing appended twice; another body: 409', async () => {
      const body = plan('I-1', 'I1-A');
      const first = await server.post('/v1/plans', 'sales', body, { 'Idempotency-Key': 'key-1' });
      expect(first.status).toBe(201);
      const count = await server.eventCount();
      const again = await server.post('/v1/plans', 'sales', body, { 'Idempotency-Key': 'key-1' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await server.eventCount()).toBe(count);
      const other = await server.post('/v1/plans', 'sales', plan('I-2', 'I2-A'), { 'Idempotency-Key': 'key-1' });
      expect(other.status).toBe(409);
      expect(other.body.code).toBe('IdempotencyKeyReused');
      expect(await server.eventCount()).toBe(count);
    });

    test('a refused command replays its refusal for the same key', async () => {
      await s.activate('I3-A', 'Mavic 3', 'US', '2024-01-01T00:00:00Z');
      const body = plan('I-3', 'I3-A');
      const first = await server.post('/v1/plans', 'sales', body, { 'Idempotency-Key': 'key-3' });
      expect(first.body.code).toBe('PurchaseWindowClosed');
      const again = await server.post('/v1/plans', 'sales', body, { 'Idempotency-Key': 'key-3' });
      expect(again.status).toBe(422);
      expect(again.body).toEqual(first.body);
    });

    test('concurrent requests with one key append once', async () => {
      const body = plan('I-4', 'I4-A');
      const answers = await Promise.all([1, 2, 3, 4].map(() => server.post('/v1/plans', 'sales', body, { 'Idempotency-Key': 'key-4' })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
      const events = await server.get(`/v1/audit/events?serial=I4-A&type=PlanPurchased`, 'auditor');
      expect(events.body.items).toHaveLength(1);
    });

    test('business keys: an orderId or a claimRef seen before returns the first result', async () => {
      const first = await server.post('/v1/plans', 'sales', plan('B-1', 'B1-A'));
      const again = await server.post('/v1/plans', 'sales', plan('B-1', 'B1-A'));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const parallel = await Promise.all([1, 2, 3].map(() => server.post('/v1/plans', 'sales', plan('B-2', 'B2-A'))));
      expect(new Set(parallel.map((p) => p.body.planId)).size).toBe(1);
      expect(parallel.filter((p) => p.status === 201)).toHaveLength(1);
      const claim = { claimRef: 'B-CLAIM', serial: 'B1-A', incidentAt: '2024-05-01T10:00:00-07:00', openedAt: '2024-05-01T10:00:00-07:00' };
      const c1 = await s.open(claim);
      const c2 = await s.open(claim);
      expect(c1.status).toBe(201);
      expect(c2.status).toBe(200);
      expect(c2.body.claimId).toBe(c1.body.claimId);
    });
  });

  test('If-Match: a stale plan revision answers 412, the current one is accepted', async () => {
    const { planId } = await s.buy(plan('M-1', 'M1-A'));
    const current = await server.get(`/v1/plans/${planId}`, 'sales');
    expect(current.headers.get('etag')).toBe(`"${current.body.revision}"`);
    const stale = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'M-R1' }, { 'If-Match': `"${current.body.revision - 1}"` });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('ConcurrencyConflict');
    const fresh = await server.post(`/v1/plans/${planId}/renewals`, 'sales', { purchasedAt: '2025-03-01T10:00:00-08:00', orderId: 'M-R1' }, { 'If-Match': `"${current.body.revision}"` });
    expect(fresh.status).toBe(201);
    expect(fresh.body.revision).toBe(current.body.revision + 1);
  });

  test('audit events paginate by an opaque cursor in global order', async () => {
    const all = await server.get('/v1/audit/events?limit=1000', 'auditor');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { position: string }[]; nextCursor: string | null } } = await server.get(
        `/v1/audit/events?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        'auditor',
      );
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((i) => i.position));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((i: { position: string }) => i.position));
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => a - b));
    expect((await server.get('/v1/audit/events?cursor=garbage', 'auditor')).status).toBe(400);
    const decisions = await server.get('/v1/audit/decisions?limit=2', 'auditor');
    expect(decisions.body.items).toHaveLength(2);
    expect(decisions.body.nextCursor).toEqual(expect.any(String));
  });

  describe('bad input never reaches the ledger', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['unknown field', { ...plan('V-1', 'V1-A'), color: 'red' }, 'color'],
      ['wrong type', { ...plan('V-1', 'V1-A'), orderId: 42 }, 'orderId'],
      ['value outside the enum', { ...plan('V-1', 'V1-A'), term: '3y' }, 'term'],
      ['instant without an offset', { ...plan('V-1', 'V1-A'), purchasedAt: '2024-03-10T09:00:00' }, 'purchasedAt'],
      ['impossible date', { ...plan('V-1', 'V1-A'), purchasedAt: '2024-02-30T09:00:00Z' }, 'purchasedAt'],
      ['bad nested money', { ...plan('V-1', 'V1-A'), price: { amount: 'ten', currency: 'usd' } }, 'price.amount'],
    ];
    test.each(cases)('%s: 400 with errors, nothing appended', async (_name, body, field) => {
      const before = await server.eventCount();
      const answer = await server.post('/v1/plans', 'sales', body);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await server.eventCount()).toBe(before);
    });

    test('malformed JSON, non-object bodies, wrong media type and oversized bodies', async () => {
      const before = await server.eventCount();
      expect((await server.post('/v1/plans', 'sales', '{"term":')).body.code).toBe('MalformedJson');
      expect((await server.post('/v1/plans', 'sales', '[]')).status).toBe(400);
      expect((await server.post('/v1/plans', 'sales', 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await server.post('/v1/plans', 'sales', { ...plan('V-2', 'V2-A'), orderId: 'x'.repeat(100_000) })).status).toBe(413);
      expect((await server.post('/v1/plans', 'sales', plan('V-3', 'V3-A'), { 'Idempotency-Key': 'k'.repeat(201) })).status).toBe(400);
      expect((await server.post('/v1/plans/bad id!/renewals', 'sales', { purchasedAt: '2025-01-01T00:00:00Z', orderId: 'x' })).status).toBe(400);
      expect(await server.eventCount()).toBe(before);
    });

    test('T4: business instants in the future are refused with OccurredInFuture', async () => {
      const answer = await server.post('/v1/plans', 'sales', plan('F-1', 'F1-A', { purchasedAt: '2999-01-01T00:00:00Z' }));
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ code: 'OccurredInFuture', rule: 'T4' });
    });

    test('unknown resources answer 404', async () => {
      expect((await server.post('/v1/plans/NOPE/renewals', 'sales', { purchasedAt: '2025-01-01T00:00:00Z', orderId: 'n-1' })).status).toBe(404);
      expect((await server.get('/v1/plans/NOPE', 'sales')).body.code).toBe('PlanNotFound');
      expect((await server.get('/v1/claims/NOPE', 'admin')).body.code).toBe('ClaimNotFound');
      expect((await server.get('/v1/devices/NOPE/entitlements', 'sales')).body.code).toBe('DeviceNotFound');
      expect((await server.get('/v1/nothing-here', 'admin')).status).toBe(404);
    });
  });

  test('X1 over HTTP: an amended activation replayed as known before and after the correction', async () => {
    const activation = await s.activate('X-A', 'Mavic 3', 'US', '2024-03-10T14:22:00-07:00');
    await s.buy(plan('X-1', 'X-A', { channel: 'bundle', purchasedAt: '2024-03-01T10:00:00-08:00' }));
    const before = await s.entitlements('X-A', '?at=2024-04-01');
    expect(before.replacement.window).toEqual({ from: '2024-03-10', until: '2025-03-10' });
    const correction = await server.post('/v1/corrections', 'admin', {
      eventId: activation.eventIds[0], action: 'amend', reason: 'registry sent the wrong day', amendment: { activatedAt: '2024-03-12T09:00:00-07:00' },
    });
    expect(correction.status).toBe(201);
    const recorded = (await server.get(`/v1/audit/events?type=EventCorrected&serial=X-A`, 'auditor')).body.items[0].recordedAt as string;
    const knownBefore = new Date(Date.parse(recorded) - 1).toISOString();
    expect((await s.entitlements('X-A', `?at=2024-04-01&knownAt=${encodeURIComponent(knownBefore)}`)).replacement.window.from).toBe('2024-03-10');
    expect((await s.entitlements('X-A', '?at=2024-04-01')).replacement.window.from).toBe('2024-03-12');
    const timeline = await server.get('/v1/devices/X-A/timeline', 'auditor');
    expect(timeline.body.entries.at(-1).type).toBe('EventCorrected');
  });

  test('operations: /health, /metrics, /docs-json, minPosition', async () => {
    const health = await server.get('/health', null);
    expect(health.body).toMatchObject({ status: 'ok', reasons: [], store: { kind: 'sqlite', reachable: true }, projection: { behind: false, state: 'live' } });
    expect((await server.get('/health/live', null)).status).toBe(200);
    expect(await server.get('/health/ready', null)).toMatchObject({ status: 200, body: { status: 'ok' } });
    const metrics = await server.get('/metrics', 'auditor');
    expect(metrics.body).toContain('careledger_http_requests_total');
    expect(metrics.body).toContain('careledger_append_duration_seconds');
    const docs = await server.get('/docs-json', null);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/plans', '/v1/claims/{claimId}/approval', '/v1/devices/{serial}/entitlements', '/v1/audit/verify', '/v1/feed', '/v1/webhooks/{webhookId}', '/v1/webhooks/{webhookId}/deliveries']));
    const bought = await s.buy(plan('H-1', 'H1-A'));
    const read = await server.get(`/v1/devices/H1-A/entitlements?minPosition=${bought.position}`, 'sales');
    expect(BigInt(read.body.checkpoint)).toBeGreaterThanOrEqual(BigInt(bought.position));
    const verify = await server.get('/v1/audit/verify?full=true', 'auditor');
    expect(verify.body).toMatchObject({ ok: true, firstBrokenPosition: null, verifiedFrom: '0' });
    expect(verify.body.events).toBe(await server.eventCount());
    // later calls verify only what was appended since, from the point verified
    await s.buy(plan('H-2', 'H2-A'));
    const incremental = await server.get('/v1/audit/verify', 'auditor');
    expect(incremental.body).toMatchObject({ ok: true, verifiedFrom: verify.body.verifiedUpTo, verifiedUpTo: String(await server.eventCount()) });
    expect(incremental.body.events).toBe((await server.eventCount()) - Number(verify.body.verifiedUpTo));
  });
});
