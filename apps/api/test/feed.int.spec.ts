/**
 * The event feed over HTTP on real stores (SQLite; PostgreSQL when CARELEDGER_DATABASE_URL is
 * set): pages in global order with types and limits, long-poll `wait`, the text/event-stream form
 * resumed by Last-Event-ID, each reader receiving every event once and in order while commands are
 * appended concurrently; bad input; the integration role.
 */
import type { FeedEvent as RuntimeFeedEvent } from '@careledger/runtime';
import { testStores, TestStore } from '@careledger/testing/stores';
import { TOKENS } from './harness';
import { appendConcurrently, appendCommand, Node, SseMessage, SseReader, sleep } from './integration.support';

/** What the feed answers (the runtime's FeedEvent), its data read freely by the assertions. */
type FeedEvent = Omit<RuntimeFeedEvent, 'data'> & { data: any };

describe.each(testStores('The event feed test'))('the event feed on %s', (_name, open) => {
  let store: TestStore;
  let node: Node;

  beforeAll(async () => {
    store = await open();
    node = await Node.start(store.store, store.dir, 'feed');
  });
  afterAll(async () => {
    await node.stop();
    await store.cleanup();
  });

  const logAfter = async (after: bigint) => (await node.runtime.store.readAll({ after })).map((e) => ({ position: e.position.toString(), eventId: e.eventId, type: e.type }));

  test('pages the log in global order with every field, by limit and by types, decision facts included', async () => {
    await appendConcurrently(node, 'PG', 2, 4);
    const log = await node.runtime.store.readAll();
    const all = await node.get<{ events: FeedEvent[]; next: string }>('/v1/feed?limit=1000', 'integration');
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain('application/json');
    expect(all.body.events.map((e) => e.eventId)).toEqual(log.map((e) => e.eventId));
    expect(all.body.next).toBe(log[log.length - 1].position.toString());
    const first = log[0];
    expect(all.body.events[0]).toEqual({
      position: first.position.toString(), eventId: first.eventId, streamId: first.streamId, revision: first.revision, type: first.type,
      occurredAt: first.metadata.occurredAt, recordedAt: first.metadata.recordedAt, actor: first.metadata.actor, correlationId: first.metadata.correlationId,
      causationId: first.metadata.causationId ?? null, data: first.data, hash: first.hash,
    });
    // the ledger's decision facts are in the feed like every other event
    const refused = all.body.events.filter((e) => e.type === 'CommandRefused');
    expect(refused).toHaveLength(2);
    expect(refused[0].data).toMatchObject({ command: 'PurchasePlan', code: 'PurchaseWindowClosed' });

    // pages of 3, each from the previous `next`
    const paged: string[] = [];
    let after = '0';
    for (let guard = 0; guard < 100; guard++) {
      const page = await node.get<{ events: FeedEvent[]; next: string }>(`/v1/feed?after=${after}&limit=3`, 'auditor');
      expect(page.body.events.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.events.map((e) => e.eventId));
      if (page.body.events.length === 0) {
        expect(page.body.next).toBe(after);
        break;
      }
      after = page.body.next;
    }
    expect(paged).toEqual(log.map((e) => e.eventId));

    // types: only those, and `next` moves past the events left out
    const typed = await node.get<{ events: FeedEvent[]; next: string }>('/v1/feed?types=CommandRefused,DeviceActivated', 'integration');
    expect(typed.body.events.map((e) => e.eventId)).toEqual(log.filter((e) => e.type === 'CommandRefused' || e.type === 'DeviceActivated').map((e) => e.eventId));
    expect(typed.body.next).toBe(log[log.length - 1].position.toString());
    const none = await node.get<{ events: FeedEvent[]; next: string }>('/v1/feed?types=NoSuchType', 'integration');
    expect(none.body).toEqual({ events: [], next: log[log.length - 1].position.toString() });

    // a position beyond the head (another node's, or a client's from the future) gives nothing and keeps it
    const beyond = await node.get('/v1/feed?after=99999999999999999999', 'integration');
    expect(beyond.body).toEqual({ events: [], next: '99999999999999999999' });
  });

  test('wait holds an empty answer until the wait ends, and answers as soon as an event arrives', async () => {
    const head = (await node.runtime.store.headPosition()).toString();
    let started = Date.now();
    const empty = await node.get(`/v1/feed?after=${head}&wait=1`, 'integration');
    expect(empty.body).toEqual({ events: [], next: head });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    started = Date.now();
    const waiting = node.get<{ events: FeedEvent[]; next: string }>(`/v1/feed?after=${head}&wait=20`, 'integration');
    await sleep(300);
    await appendCommand(node, 'WAKE', 0);
    const woken = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(woken.body.events.length).toBeGreaterThan(0);
    expect(woken.body.events[0].position).toBe((await logAfter(BigInt(head)))[0].position);

    // a filtered wait is not woken by events of other types: it answers empty, past them, when the wait ends
    const head2 = (await node.runtime.store.headPosition()).toString();
    started = Date.now();
    const filtered = node.get<{ events: FeedEvent[]; next: string }>(`/v1/feed?after=${head2}&wait=2&types=CommandRefused`, 'integration');
    await sleep(200);
    await appendCommand(node, 'WAKE', 1); // a purchase, not refused
    const answer = await filtered;
    expect(answer.body.events).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(BigInt(answer.body.next)).toBe(await node.runtime.store.headPosition());
  });

  test('a follower with wait receives every event once, in order, while commands are appended concurrently', async () => {
    const head = await node.runtime.store.headPosition();
    let writing = true;
    const writers = appendConcurrently(node, 'LP', 4, 10).finally(() => (writing = false));
    const got: FeedEvent[] = [];
    let after = head.toString();
    let pages = 0;
    for (;;) {
      const stillWriting = writing;
      const page = await node.get<{ events: FeedEvent[]; next: string }>(`/v1/feed?after=${after}&limit=7&wait=2`, 'integration');
      expect(page.status).toBe(200);
      pages++;
      got.push(...page.body.events);
      after = page.body.next;
      if (!stillWriting && page.body.events.length === 0) break;
      if (pages > 500) throw new Error('the follower did not finish');
    }
    await writers;
    const expected = await logAfter(head);
    expect(expected.length).toBeGreaterThanOrEqual(50);
    expect(got.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
    expect(new Set(got.map((e) => e.eventId)).size).toBe(got.length);
    const positions = got.map((e) => BigInt(e.position));
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
    expect(pages).toBeGreaterThan(5);
  });

  test('an event stream resumed by Last-Event-ID after each drop receives every event once, in order, while commands are appended', async () => {
    const head = await node.runtime.store.headPosition();
    const writers = appendConcurrently(node, 'SSE', 3, 12);
    const got: FeedEvent[] = [];
    let last = head.toString();
    let connections = 0;
    const messages: SseMessage[] = [];
    // read up to 9 events per connection, then drop it and resume with Last-Event-ID (the query's `after` is ignored then)
    let writersDone = false;
    void writers.then(() => (writersDone = true));
    for (;;) {
      // the first connection starts at the head by `after`; every later one resumes by Last-Event-ID (which wins over `after=0`)
      const sse = connections === 0
        ? await SseReader.open(`${node.base}/v1/feed?after=${head}`, TOKENS.integration.token, {}, node.contract)
        : await SseReader.open(`${node.base}/v1/feed?after=0`, TOKENS.integration.token, { 'last-event-id': last }, node.contract);
      expect(sse.status).toBe(200);
      expect(sse.headers.get('content-type')).toContain('text/event-stream');
      await readSome(sse);
      connections++;
      const expected = writersDone ? await logAfter(head) : null;
      if (expected && got.length >= expected.length) break;
      if (connections > 200) throw new Error('the stream reader did not finish');
    }
    async function readSome(sse: SseReader) {
      let events = 0;
      try {
        while (events < 9) {
          // a quiet stream ends this connection; a message that is not what the document says fails the test
          const m = await sse.next(writersDone ? 1500 : 5000).catch((error: Error) => {
            if (error.message.startsWith('OpenAPI drift')) throw error;
            return null;
          });
          if (!m) break;
          messages.push(m);
          if (m.data === null) continue;
          const e = JSON.parse(m.data) as FeedEvent;
          expect(m.id).toBe(e.position);
          expect(m.event).toBe(e.type);
          got.push(e);
          last = m.id!;
          events++;
        }
      } finally {
        sse.close();
      }
    }
    const expected = await logAfter(head);
    expect(expected.length).toBeGreaterThanOrEqual(40);
    expect(got.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
    expect(connections).toBeGreaterThan(3);
    expect(messages[0].comment.join(' ')).toContain('CareLedger event feed');
  });

  test('an event stream of some types only, and the shape of its messages', async () => {
    const head = await node.runtime.store.headPosition();
    await appendConcurrently(node, 'TY', 1, 8);
    const expected = (await logAfter(head)).filter((e) => e.type === 'CommandRefused');
    expect(expected).toHaveLength(2);
    const sse = await SseReader.open(`${node.base}/v1/feed?after=${head}&types=CommandRefused`, TOKENS.auditor.token, {}, node.contract);
    try {
      const got: SseMessage[] = [];
      while (got.length < 2) {
        const m = await sse.next(5000);
        if (m?.data) got.push(m);
      }
      expect(got.map((m) => m.id)).toEqual(expected.map((e) => e.position));
      expect(got.map((m) => m.event)).toEqual(['CommandRefused', 'CommandRefused']);
      expect(JSON.parse(got[0].data!)).toMatchObject({ eventId: expected[0].eventId, type: 'CommandRefused', data: { code: 'PurchaseWindowClosed' } });
    } finally {
      sse.close();
    }
  });

  test('bad input answers 400 with problem+json, never a 5xx; the integration role reads the feed and nothing else', async () => {
    for (const query of [
      'after=abc', 'after=-1', 'after=1.5', 'after=123456789012345678901', 'limit=0', 'limit=1001', 'limit=x', 'wait=31', 'wait=-1', 'wait=1.5',
      'types=', 'types=Bad-Type', 'types=A,,B', `types=${Array.from({ length: 51 }, () => 'A').join(',')}`, 'unknown=1', 'minPosition=x',
    ]) {
      const answer = await node.get(`/v1/feed?${query}`, 'integration');
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.errors.length).toBeGreaterThan(0);
    }
    const badId = await node.get('/v1/feed', 'integration', { accept: 'text/event-stream', 'last-event-id': 'abc' });
    expect(badId.status).toBe(400);
    expect(badId.body.errors).toEqual([expect.objectContaining({ field: 'Last-Event-ID' })]);
    expect((await node.get('/v1/feed', null)).status).toBe(401);
    for (const role of ['sales', 'registry', 'sc1'] as const) expect((await node.get('/v1/feed', role)).status).toBe(403);
    for (const role of ['admin', 'auditor', 'integration'] as const) expect((await node.get('/v1/feed?limit=1', role)).status).toBe(200);
    expect((await node.get('/v1/audit/events', 'integration')).status).toBe(403);
    expect((await node.get('/v1/webhooks/W-1', 'integration')).status).toBe(403);
  });

  test('every answer of this suite was checked against the OpenAPI document, and every event-stream message', () => {
    const seen = new Set(node.contract.seen.map(({ operation, status }) => `${operation} ${status}`));
    for (const answer of ['readFeed 200', 'readFeed 400', 'readFeed 401', 'readFeed 403', 'getWebhook 403', 'listAuditEvents 403']) expect(seen).toContain(answer);
    expect(node.contract.seenSchemas.filter((name) => name === 'FeedEventView').length).toBeGreaterThanOrEqual(40);
  });
});

describe('the event stream and the app\'s shutdown', () => {
  let store: TestStore;
  let node: Node;

  beforeAll(async () => {
    store = await testStores('The feed shutdown test')[0][1]();
    node = await Node.start(store.store, store.dir, 'shutdown');
  });
  afterAll(async () => {
    await node.runtime.close();
    await store.cleanup();
  });

  test('an idle stream gets a heartbeat every ~15 s (moving its id past events a types filter skipped); closing the app ends open streams and waits at once', async () => {
    await appendCommand(node, 'SD', 0);
    const head = (await node.runtime.store.headPosition()).toString();
    const sse = await SseReader.open(`${node.base}/v1/feed?after=${head}&types=CommandRefused`, TOKENS.integration.token, {}, node.contract);
    expect((await sse.next(2000))!.comment.join(' ')).toContain('CareLedger event feed');
    const started = Date.now();
    await appendCommand(node, 'SD', 1); // a purchase: not of the stream's types
    const skippedTo = (await node.runtime.store.headPosition()).toString();
    expect(skippedTo).not.toBe(head);
    const heartbeat = await sse.next(18_000);
    // no data (no event fires), and an id past the skipped events for a reconnect's Last-Event-ID
    expect(heartbeat).toEqual({ id: skippedTo, event: null, data: null, comment: ['heartbeat'] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(14_000);

    const longPoll = node.get(`/v1/feed?after=${skippedTo}&wait=30`, 'integration');
    await sleep(200);
    const closing = Date.now();
    await node.app.close();
    expect(Date.now() - closing).toBeLessThan(3000);
    expect(await sse.next(2000)).toBeNull();
    expect(sse.ended).toBe(true);
    const answer = await longPoll.catch(() => null);
    if (answer) expect(answer.body).toEqual({ events: [], next: skippedTo });
  }, 40_000);
});
