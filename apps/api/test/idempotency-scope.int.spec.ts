/**
 * API.md v1.1: an Idempotency-Key is scoped to the calling token. Two clients with tokens of one
 * role (unnamed, so both record the role as their actor; or sharing one name) do not share keys:
 * client B sending client A's key with another body gets its own decision, never A's answer nor
 * A's 409, and A's retry still gets A's first answer. Real HTTP, tokens from a real tokens file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokens } from '../src/auth/tokens';
import { scenario, TestServer, TOKENS } from './harness';

const plan = (orderId: string, serial: string) => ({
  term: '1y', model: 'Mavic 3', region: 'US', channel: 'online', purchasedAt: '2024-03-10T09:00:00-07:00', orderId, serial,
});

/** Two unnamed sales tokens (actor "sales" for both), and two named alike (actor "shop" for both). */
const CLIENTS = {
  a: 'sales-client-a-0001',
  b: 'sales-client-b-0002',
  shop1: 'shop-till-one-0001',
  shop2: 'shop-till-two-0002',
};

describe('Idempotency-Keys are scoped to the token, not the role or the actor', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-idem-scope-'));
    const file = join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify([
      ...Object.values(TOKENS),
      { token: CLIENTS.a, role: 'sales' },
      { token: CLIENTS.b, role: 'sales' },
      { token: CLIENTS.shop1, role: 'sales', name: 'shop' },
      { token: CLIENTS.shop2, role: 'sales', name: 'shop' },
    ]));
    server = await TestServer.start({}, { tokens: loadTokens(file, join(dir, 'ledger.sqlite')).registry });
    await scenario(server).center('SC-1', 'US');
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (token: string, path: string, body: unknown, key: string) =>
    server.call('POST', path, null, body, { authorization: `Bearer ${token}`, 'Idempotency-Key': key });

  test.each([
    ['two unnamed tokens of one role', 'a', 'b'],
    ['two tokens of one role and one name', 'shop1', 'shop2'],
  ] as const)('%s: B with A\'s key and another body gets its own decision; A\'s retry gets A\'s answer', async (_what, first, second) => {
    const key = `shared-key-${first}`;
    const a = await post(CLIENTS[first], '/v1/plans', plan(`O-${first}`, `S-${first}`), key);
    expect(a.status).toBe(201);
    const count = await server.eventCount();

    const b = await post(CLIENTS[second], '/v1/plans', plan(`O-${second}`, `S-${second}`), key);
    // not A's answer replayed (200), not "this key was used with a different request" (409): B's own purchase
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ planId: expect.any(String) });
    expect(b.body.planId).not.toBe(a.body.planId);
    expect(b.body.eventIds).not.toEqual(a.body.eventIds);
    expect(await server.eventCount()).toBeGreaterThan(count);
    expect((await server.get(`/v1/plans/${b.body.planId}`, 'auditor')).body).toMatchObject({ orderId: `O-${second}` });

    // each retry gets its own first answer, and appends nothing
    const settled = await server.eventCount();
    const aAgain = await post(CLIENTS[first], '/v1/plans', plan(`O-${first}`, `S-${first}`), key);
    expect(aAgain).toMatchObject({ status: 200, body: a.body });
    const bAgain = await post(CLIENTS[second], '/v1/plans', plan(`O-${second}`, `S-${second}`), key);
    expect(bAgain).toMatchObject({ status: 200, body: b.body });
    expect(await server.eventCount()).toBe(settled);

    // and within one token the key still means one request: another body is refused (409)
    const reused = await post(CLIENTS[first], '/v1/plans', plan(`O-${first}-other`, `S-${first}-other`), key);
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IdempotencyKeyReused');
    expect(await server.eventCount()).toBe(settled);
  });

  test('a refusal under A\'s key is A\'s alone: B\'s request under the same key is decided, and A keeps its refusal', async () => {
    // activated long ago: a first purchase is past its window (P4)
    const late = await server.post('/v1/devices/LATE-1/activation', 'registry', { model: 'Mavic 3', region: 'US', activatedAt: '2024-01-01T00:00:00Z' });
    expect(late.status).toBe(201);
    const refused = await post(CLIENTS.a, '/v1/plans', plan('O-late', 'LATE-1'), 'key-refused');
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('PurchaseWindowClosed');
    const accepted = await post(CLIENTS.b, '/v1/plans', plan('O-fresh', 'FRESH-1'), 'key-refused');
    expect(accepted.status).toBe(201);
    const again = await post(CLIENTS.a, '/v1/plans', plan('O-late', 'LATE-1'), 'key-refused');
    expect(again).toMatchObject({ status: 422, body: refused.body });
    expect((await post(CLIENTS.b, '/v1/plans', plan('O-fresh', 'FRESH-1'), 'key-refused'))).toMatchObject({ status: 200, body: accepted.body });
  });

  test('concurrent requests of the two clients under one key: each appends once and answers its own', async () => {
    const key = 'key-race';
    const sends = [1, 2, 3].flatMap(() => [
      post(CLIENTS.a, '/v1/plans', plan('O-race-a', 'RACE-A'), key),
      post(CLIENTS.b, '/v1/plans', plan('O-race-b', 'RACE-B'), key),
    ]);
    const answers = await Promise.all(sends);
    const ofA = answers.filter((_, i) => i % 2 === 0);
    const ofB = answers.filter((_, i) => i % 2 === 1);
    for (const mine of [ofA, ofB]) {
      expect(mine.map((x) => x.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(mine.map((x) => JSON.stringify(x.body))).size).toBe(1);
    }
    expect(ofA[0].body.planId).not.toBe(ofB[0].body.planId);
    const purchases = await server.get('/v1/audit/events?type=PlanPurchased&limit=200', 'auditor');
    const orders = purchases.body.items.map((e: { data: { orderId: string } }) => e.data.orderId);
    expect(orders.filter((o: string) => o === 'O-race-a')).toHaveLength(1);
    expect(orders.filter((o: string) => o === 'O-race-b')).toHaveLength(1);
  });
});
