/**
 * Webhooks over HTTP on real stores (SQLite; PostgreSQL when CARELEDGER_DATABASE_URL is set):
 * configured through the API, delivered by the runtime's dispatcher to a receiver on 127.0.0.1.
 * A receiver that fails the first tries still gets every event once per delivery id, in order,
 * signed; a webhook that keeps failing pauses and resumes from where it stopped; two nodes on one
 * store deliver one at a time and the second carries on when the first stops or dies (lease
 * expiry), losing nothing and keeping the order; bad input never reaches the store; the secret
 * never appears in a response or a log line.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { WebhookPolicy } from '@careledger/runtime';
import { testStores, TestStore } from '@careledger/testing/stores';
import { appendConcurrently, eventually, Node, Received, Receiver, sleep } from './integration.support';

const ROOT = join(__dirname, '..', '..', '..');
const SECRET = 'whsec-Zt8qP2vX9mLr4Kd7Wn3Bc6Hy';

const FAST: Partial<WebhookPolicy> = {
  pollMs: 40, timeoutMs: 2500, leaseMs: 5000, backoffInitialMs: 40, backoffMaxMs: 300, pauseAfterFailures: 6, pauseAfterMs: 60_000, batchSize: 25,
};

const hmac = (secret: string, body: Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Every request is signed with the secret over its exact bytes, and its headers agree with its body. */
function expectSigned(requests: Received[], secret: string, webhookId: string) {
  for (const r of requests) {
    expect(r.headers['x-careledger-signature']).toBe(hmac(secret, r.body));
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toMatchObject({ webhookId, deliveryId: r.headers['x-careledger-delivery'], position: r.headers['x-careledger-position'] });
    expect(r.json.event.position).toBe(r.json.position);
    expect(r.headers['x-careledger-event-type']).toBe(r.json.event.type);
  }
}

/** One delivery id per event, the same bytes on every retry; positions never go back. */
function expectStableAndOrdered(requests: Received[]) {
  const byId = new Map<string, { eventId: string; body: string }>();
  const byEvent = new Map<string, string>();
  for (const r of requests) {
    const id = String(r.headers['x-careledger-delivery']);
    const seen = byId.get(id);
    if (seen) expect(r.body.toString()).toBe(seen.body);
    else byId.set(id, { eventId: r.json.event.eventId, body: r.body.toString() });
    expect(byEvent.get(r.json.event.eventId) ?? id).toBe(id);
    byEvent.set(r.json.event.eventId, id);
  }
  const positions = requests.map((r) => BigInt(r.json.position));
  expect(positions.every((p, i) => i === 0 || p >= positions[i - 1])).toBe(true);
}

describe.each(testStores('The webhooks test'))('webhooks on %s', (_name, open) => {
  let store: TestStore;
  let node: Node;
  const answers: string[] = [];

  beforeAll(async () => {
    store = await open();
    node = await Node.start(store.store, store.dir, 'a');
  });
  afterEach(async () => {
    await node.runtime.webhooks.stop();
  });
  afterAll(async () => {
    await node.stop();
    await store.cleanup();
    // the secret never appears in an answer or in what the node logged
    for (const text of answers) expect(text).not.toContain(SECRET);
    for (const line of node.logs) expect(JSON.stringify(line) + String((line.obj as { err?: unknown }).err ?? '')).not.toContain(SECRET);
  });

  const call = async (...args: Parameters<Node['call']>) => {
    const answer = await node.call(...args);
    answers.push(answer.text);
    return answer;
  };
  const logAfter = async (after: string, types?: string[]) =>
    (await node.runtime.store.readAll({ after: BigInt(after) })).filter((e) => !types || types.includes(e.type)).map((e) => ({ eventId: e.eventId, position: e.position.toString(), type: e.type }));

  test('a receiver that fails the first tries still receives every event once per delivery id, in order, with valid signatures', async () => {
    const receiver = await Receiver.start();
    const statuses: number[] = [];
    // the first three tries answer 500, the fourth is reset; later one in seven answers 503
    receiver.respond = (_r, i) => {
      const answer = i < 3 ? 500 : i === 3 ? 'reset' : i % 7 === 0 ? 503 : 200;
      statuses[i] = answer === 'reset' ? 0 : answer;
      return answer;
    };
    try {
      const created = await call('PUT', '/v1/webhooks/W-retry', 'admin', { url: receiver.url, secret: SECRET });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ webhookId: 'W-retry', url: receiver.url, types: null, status: 'active', delivered: 0, pending: null });
      expect(created.body).not.toHaveProperty('secret');
      const from = created.body.position as string;
      node.runtime.webhooks.start(FAST);
      await appendConcurrently(node, 'WR', 3, 8);
      const expected = await logAfter(from);
      expect(expected.length).toBeGreaterThanOrEqual(25);

      await eventually(() => (receiver.firstReceipts().length >= expected.length && receiver.inFlight === 0 ? true : undefined), 30_000, 'every delivery');
      await eventually(async () => ((await call('GET', '/v1/webhooks/W-retry', 'admin')).body.delivered === expected.length ? true : undefined), 5000, 'the state');
      expect(receiver.firstReceipts().map((r) => r.json.event.eventId)).toEqual(expected.map((e) => e.eventId));
      expectSigned(receiver.requests, SECRET, 'W-retry');
      expectStableAndOrdered(receiver.requests);
      // once per delivery id: exactly one 2xx answer each, and nothing sent after it
      const accepted = new Map<string, number>();
      receiver.requests.forEach((r, i) => {
        const id = String(r.headers['x-careledger-delivery']);
        if (statuses[i] === 200) accepted.set(id, (accepted.get(id) ?? 0) + 1);
      });
      expect([...accepted.values()].every((n) => n === 1)).toBe(true);
      expect(accepted.size).toBe(expected.length);
      expect(receiver.maxInFlight).toBe(1);
      const first = receiver.requests.filter((r) => r.json.event.eventId === expected[0].eventId);
      expect(first.map((r) => r.headers['x-careledger-attempt'])).toEqual(['1', '2', '3', '4', '5']);

      expect(node.logs.map((l) => l.msg)).toContain('delivering webhook W-retry from this node');
      const view = await call('GET', '/v1/webhooks/W-retry', 'admin');
      expect(view.body).toMatchObject({
        status: 'active', delivered: expected.length, attempts: receiver.requests.length, position: expected[expected.length - 1].position,
        consecutiveFailures: 0, pending: null, pausedReason: null, deliveringNode: node.runtime.nodeId,
      });
      // the attempts, newest first, paged by cursor, for auditors too
      const seen: any[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await call('GET', `/v1/webhooks/W-retry/deliveries?limit=7${cursor ? `&cursor=${cursor}` : ''}`, 'auditor');
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen.map((a) => a.seq)).toEqual(Array.from({ length: receiver.requests.length }, (_, i) => receiver.requests.length - i));
      expect(seen.at(-1)).toMatchObject({ seq: 1, attempt: 1, outcome: 'failed', status: 500, eventId: expected[0].eventId, node: node.runtime.nodeId });
      expect(seen.at(-4)).toMatchObject({ seq: 4, attempt: 4, outcome: 'failed', status: null });
      expect(seen.at(-5)).toMatchObject({ seq: 5, attempt: 5, outcome: 'delivered', status: 200, deliveryId: first[0].headers['x-careledger-delivery'] });
    } finally {
      await receiver.stop();
    }
  }, 60_000);

  test('a webhook that keeps failing pauses, says why, is not retried, and resumes from where it stopped when PUT again', async () => {
    const receiver = await Receiver.start();
    receiver.respond = () => 500;
    try {
      const body = { url: receiver.url, secret: SECRET, types: ['PlanPurchased', 'CommandRefused'] };
      const created = await call('PUT', '/v1/webhooks/W-pause', 'admin', body);
      const from = created.body.position as string;
      node.runtime.webhooks.start(FAST);
      await appendConcurrently(node, 'WP', 2, 6);
      const expected = await logAfter(from, ['PlanPurchased', 'CommandRefused']);

      const paused = await eventually(async () => {
        const v = await call('GET', '/v1/webhooks/W-pause', 'admin');
        return v.body.status === 'paused' ? v.body : undefined;
      }, 20_000, 'the pause');
      expect(paused).toMatchObject({
        status: 'paused', consecutiveFailures: 6, delivered: 0, position: from,
        pending: { eventId: expected[0].eventId, position: expected[0].position, attempts: 6 },
        lastError: 'the receiver answered HTTP 500',
      });
      expect(paused.pausedReason).toContain('6 failed deliveries in a row');
      expect(node.logs.find((l) => l.level === 'warn' && l.msg?.startsWith('webhook W-pause paused: 6 failed deliveries in a row'))).toBeDefined();
      expect(receiver.requests).toHaveLength(6);
      // paused: not retried
      await sleep(FAST.pollMs! * 10);
      expect(receiver.requests).toHaveLength(6);

      receiver.respond = () => 200;
      const resumed = await call('PUT', '/v1/webhooks/W-pause', 'admin', body);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ status: 'active', pausedReason: null, consecutiveFailures: 0, position: from });
      expect(resumed.body.resumedAt).toEqual(expect.any(String));
      await eventually(() => (receiver.firstReceipts().length >= expected.length && receiver.inFlight === 0 ? true : undefined), 20_000, 'every delivery');
      await sleep(FAST.pollMs! * 5);
      // it carried on with the event it had paused on (same delivery id), then the rest in order, each once
      expect(receiver.requests.slice(0, 7).map((r) => r.json.event.eventId)).toEqual(Array(7).fill(expected[0].eventId));
      expect(new Set(receiver.requests.slice(0, 7).map((r) => r.headers['x-careledger-delivery'])).size).toBe(1);
      expect(receiver.requests.slice(6).map((r) => r.json.event.eventId)).toEqual(expected.map((e) => e.eventId));
      expectSigned(receiver.requests, SECRET, 'W-pause');
      expectStableAndOrdered(receiver.requests);
      expect((await call('GET', '/v1/webhooks/W-pause', 'admin')).body).toMatchObject({ status: 'active', delivered: expected.length, pending: null });
    } finally {
      await receiver.stop();
    }
  });

  test('a webhook failing for longer than the policy allows pauses even before N failures', async () => {
    const receiver = await Receiver.start();
    receiver.respond = () => 502;
    try {
      const created = await call('PUT', '/v1/webhooks/W-slow-fail', 'admin', { url: receiver.url, secret: SECRET });
      node.runtime.webhooks.start({ ...FAST, pauseAfterFailures: 1000, pauseAfterMs: 500, backoffMaxMs: 100 });
      await appendConcurrently(node, 'WT', 1, 1);
      const paused = await eventually(async () => {
        const v = await call('GET', '/v1/webhooks/W-slow-fail', 'admin');
        return v.body.status === 'paused' ? v.body : undefined;
      }, 10_000, 'the pause');
      expect(paused.pausedReason).toContain(`failing since ${paused.failingSince}`);
      expect(paused.consecutiveFailures).toBeGreaterThan(1);
      expect(paused.consecutiveFailures).toBeLessThan(1000);
      expect(Date.parse(paused.pausedAt) - Date.parse(paused.failingSince)).toBeGreaterThanOrEqual(500);
      expect(paused.position).toBe(created.body.position);
    } finally {
      await receiver.stop();
    }
  });

  test('two nodes on one store: one delivers at a time; when it stops, the other carries on at once with nothing lost or repeated and the order kept', async () => {
    const b = await Node.start(await store.connect(), store.dir, 'b');
    const c = await Node.start(await store.connect(), store.dir, 'c');
    const stopped = new Set<Node>();
    const stop = async (n: Node) => {
      if (stopped.has(n)) return;
      stopped.add(n);
      await n.stop();
    };
    const receiver = await Receiver.start();
    receiver.respond = async () => {
      await sleep(10);
      return 200;
    };
    try {
      const created = await b.put('/v1/webhooks/W-nodes', 'admin', { url: receiver.url, secret: SECRET });
      expect(created.status).toBe(201);
      const from = created.body.position as string;
      // a long timeout: on a busy machine a timed-out request would be retried while the receiver still handles it
      const policy = { ...FAST, timeoutMs: 5000, leaseMs: 10_000 };
      b.runtime.webhooks.start(policy);
      c.runtime.webhooks.start(policy);
      await Promise.all([appendConcurrently(b, 'N1b', 2, 5), appendConcurrently(c, 'N1c', 2, 5)]);
      const firstPart = await logAfter(from);
      await eventually(() => (receiver.firstReceipts().length >= firstPart.length ? true : undefined), 30_000, 'the first part');
      const holder = (await c.get('/v1/webhooks/W-nodes', 'admin')).body.deliveringNode as string;
      expect([b.runtime.nodeId, c.runtime.nodeId]).toContain(holder);
      const [first, second] = holder === b.runtime.nodeId ? [b, c] : [c, b];
      const attemptsBefore = (await second.get('/v1/webhooks/W-nodes/deliveries?limit=200', 'admin')).body.items as any[];
      expect(new Set(attemptsBefore.map((a) => a.node))).toEqual(new Set([holder]));

      // the delivering node stops while events keep coming: the other one takes over
      const more = appendConcurrently(second, 'N2', 2, 8);
      await sleep(100);
      await stop(first);
      await more;
      const all = await logAfter(from);
      await eventually(() => (receiver.firstReceipts().length >= all.length && receiver.inFlight === 0 ? true : undefined), 30_000, 'the second part');
      expect(receiver.firstReceipts().map((r) => r.json.event.eventId)).toEqual(all.map((e) => e.eventId));
      expectSigned(receiver.requests, SECRET, 'W-nodes');
      expectStableAndOrdered(receiver.requests);
      expect(receiver.maxInFlight).toBe(1);
      // a clean stop lets the delivery in flight finish and records it before handing over: nothing is sent twice
      expect(receiver.requests).toHaveLength(all.length);
      const view = (await second.get('/v1/webhooks/W-nodes', 'admin')).body;
      expect(view).toMatchObject({ deliveringNode: second.runtime.nodeId, delivered: all.length });
      const attempts = (await second.get('/v1/webhooks/W-nodes/deliveries?limit=200', 'admin')).body.items as any[];
      expect(attempts.some((a) => a.node === second.runtime.nodeId)).toBe(true);
      // one node at a time: the attempts, oldest first, go from the first node to the second and never back
      const nodes = attempts.reverse().map((a) => a.node);
      expect(nodes.slice(nodes.indexOf(second.runtime.nodeId)).every((n) => n === second.runtime.nodeId)).toBe(true);
    } finally {
      await stop(b);
      await stop(c);
      await receiver.stop();
    }
  }, 60_000);

  test('a node killed while delivering: another node takes over once its lease lapses, nothing lost, order kept', async () => {
    const receiver = await Receiver.start();
    receiver.respond = async () => {
      await sleep(20);
      return 200;
    };
    let child: ChildProcess | null = null;
    try {
      const created = await call('PUT', '/v1/webhooks/W-crash', 'admin', { url: receiver.url, secret: SECRET });
      const from = created.body.position as string;
      child = spawn(
        process.execPath,
        ['-r', join(ROOT, 'libs/testing/register.js'), join(ROOT, 'libs/runtime/src/__fixtures__/webhook-node.fixture.ts'), JSON.stringify(store.location), join(store.dir, 'child.read.sqlite'), JSON.stringify(FAST)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const childId = await eventually(() => /ready (\S+)/.exec(stdout)?.[1] ?? (child!.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), 20_000, 'the child node');

      const writing = appendConcurrently(node, 'KC', 2, 10);
      await eventually(() => (receiver.requests.length >= 5 ? true : undefined), 20_000, 'the child delivering');
      child.kill('SIGKILL');
      const killedAt = Date.now();
      await new Promise((resolve) => child!.once('exit', resolve));
      await sleep(100); // a request the child wrote just before it died may still be arriving
      const receivedBeforeKill = receiver.requests.length;
      const lease = (await node.runtime.store.records.get<{ holder: string; until: number }>('webhook-lease:W-crash'))!.value;
      expect(lease.holder).toBe(childId);
      node.runtime.webhooks.start(FAST);
      await writing;
      const all = await logAfter(from);
      await eventually(() => (receiver.firstReceipts().length >= all.length && receiver.inFlight === 0 ? true : undefined), 30_000, 'every delivery');

      // nothing from this node before the dead node's lease lapsed
      const taken = receiver.requests.slice(receivedBeforeKill);
      expect(taken.length).toBeGreaterThan(0);
      expect(lease.until).toBeGreaterThan(killedAt);
      for (const r of taken) expect(r.at).toBeGreaterThanOrEqual(lease.until);
      expect(receiver.firstReceipts().map((r) => r.json.event.eventId)).toEqual(all.map((e) => e.eventId));
      expectSigned(receiver.requests, SECRET, 'W-crash');
      expectStableAndOrdered(receiver.requests);
      // at least once: at most the one event in flight when the node died came twice, with its delivery id
      expect(receiver.requests.length - all.length).toBeLessThanOrEqual(1);
      expect((await call('GET', '/v1/webhooks/W-crash', 'admin')).body).toMatchObject({ deliveringNode: node.runtime.nodeId, delivered: all.length, status: 'active' });
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await receiver.stop();
    }
  }, 60_000);

  test('bad input never reaches the store and never gets a 5xx; unknown webhooks answer 404; roles', async () => {
    const valid = { url: 'https://hooks.example.com/careledger', secret: SECRET };
    expect((await call('PUT', '/v1/webhooks/W-ok', 'admin', valid)).status).toBe(201);
    const before = await node.runtime.store.records.list('webhook');
    const cases: [string, unknown, string][] = [
      ['ftp URL', { ...valid, url: 'ftp://hooks.example.com/x' }, 'url'],
      ['relative URL', { ...valid, url: '/hooks' }, 'url'],
      ['credentials in the URL', { ...valid, url: `https://user:${SECRET}@hooks.example.com/x` }, 'url'],
      ['a user in the URL', { ...valid, url: 'https://user@hooks.example.com/x' }, 'url'],
      ['not a URL', { ...valid, url: 'not a url' }, 'url'],
      ['no host', { ...valid, url: 'http://' }, 'url'],
      ['a space', { ...valid, url: 'https://hooks.example.com/a b' }, 'url'],
      ['an oversized URL', { ...valid, url: `https://hooks.example.com/${'x'.repeat(2000)}` }, 'url'],
      ['url a number', { ...valid, url: 42 }, 'url'],
      ['no url', { secret: SECRET }, 'url'],
      ['a short secret', { ...valid, secret: 'short' }, 'secret'],
      ['a long secret', { ...valid, secret: 'x'.repeat(257) }, 'secret'],
      ['secret a number', { ...valid, secret: 12345678901234 }, 'secret'],
      ['no secret', { url: valid.url }, 'secret'],
      ['types not an array', { ...valid, types: 'PlanPurchased' }, 'types'],
      ['types empty', { ...valid, types: [] }, 'types'],
      ['a bad type name', { ...valid, types: ['Plan-Purchased'] }, 'types'],
      ['a type twice', { ...valid, types: ['PlanPurchased', 'PlanPurchased'] }, 'types'],
      ['too many types', { ...valid, types: Array.from({ length: 51 }, (_, i) => `T${'x'.repeat(i)}`) }, 'types'],
      ['an unknown field', { ...valid, active: true }, 'active'],
      ['a bad URL with a good secret', { ...valid, url: `${SECRET}://x` }, 'url'],
    ];
    for (const [name, body, field] of cases) {
      const answer = await call('PUT', '/v1/webhooks/W-bad', 'admin', body);
      expect({ name, status: answer.status }).toEqual({ name, status: 400 });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect((await call('PUT', '/v1/webhooks/W-bad', 'admin', '{"url":')).status).toBe(400);
    expect((await call('PUT', '/v1/webhooks/W-bad', 'admin', '[]')).status).toBe(400);
    expect((await call('PUT', '/v1/webhooks/W-bad', 'admin', 'hi', { 'content-type': 'text/plain' })).status).toBe(415);
    for (const id of ['a:b', 'bad id', '-x', 'x'.repeat(101)]) {
      // (an id longer than the router's 100-character parameter limit is the framework's 414)
      expect([400, 414]).toContain((await call('PUT', `/v1/webhooks/${encodeURIComponent(id)}`, 'admin', valid)).status);
      expect([400, 414]).toContain((await call('GET', `/v1/webhooks/${encodeURIComponent(id)}`, 'admin')).status);
    }
    // generated bodies: never a 5xx, never the secret echoed
    await fc.assert(
      fc.asyncProperty(
        fc.record({ url: fc.oneof(fc.webUrl(), fc.string(), fc.constant(`http://u:${SECRET}@h/`), fc.anything({ maxDepth: 1 })), secret: fc.oneof(fc.constant(SECRET), fc.string({ maxLength: 300 }), fc.anything({ maxDepth: 1 })), types: fc.oneof(fc.constant(undefined), fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }), fc.anything({ maxDepth: 1 })) }, { requiredKeys: [] }),
        async (body) => {
          const answer = await call('PUT', '/v1/webhooks/W-fuzz', 'admin', body);
          expect(answer.status).toBeLessThan(500);
          if (answer.status >= 400) expect(answer.headers.get('content-type')).toContain('application/problem+json');
        },
      ),
      { numRuns: 60 },
    );
    const after = await node.runtime.store.records.list('webhook');
    expect(after.filter((r) => r.key.includes('W-bad'))).toEqual([]);
    expect(after.filter((r) => !r.key.includes('W-fuzz')).map((r) => r.key)).toEqual(before.map((r) => r.key));

    expect((await call('GET', '/v1/webhooks/W-none', 'admin')).body).toMatchObject({ status: 404, code: 'WebhookNotFound' });
    expect((await call('GET', '/v1/webhooks/W-none/deliveries', 'auditor')).body).toMatchObject({ status: 404, code: 'WebhookNotFound' });
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries?cursor=garbage', 'auditor')).status).toBe(400);
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries?limit=0', 'auditor')).status).toBe(400);
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries?limit=201', 'auditor')).status).toBe(400);
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries?other=1', 'auditor')).status).toBe(400);
    for (const role of ['auditor', 'integration', 'sales', 'sc1'] as const) {
      expect((await call('PUT', '/v1/webhooks/W-role', role, valid)).status).toBe(403);
      expect((await call('GET', '/v1/webhooks/W-ok', role)).status).toBe(403);
    }
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries', 'integration')).status).toBe(403);
    expect((await call('GET', '/v1/webhooks/W-ok/deliveries', 'auditor')).status).toBe(200);
    // the secret is kept in the store's records only: never in the log
    const log = await node.runtime.store.readAll();
    expect(JSON.stringify(log.map((e) => [e.data, e.metadata]))).not.toContain(SECRET);
    expect((await node.runtime.store.records.get<{ secret: string }>('webhook:W-ok'))!.value.secret).toBe(SECRET);
  });

  test('every answer of this suite was checked against the OpenAPI document', () => {
    const seen = new Set(node.contract.seen.map(({ operation, status }) => `${operation} ${status}`));
    for (const answer of [
      'putWebhook 201', 'putWebhook 200', 'putWebhook 400', 'putWebhook 403', 'putWebhook 415', 'getWebhook 200', 'getWebhook 403', 'getWebhook 404',
      'listDeliveries 200', 'listDeliveries 400', 'listDeliveries 403', 'listDeliveries 404',
    ]) expect(seen).toContain(answer);
  });
});
