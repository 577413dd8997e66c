import { randomUUID } from 'node:crypto';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { CONTRACT_STREAM_PREFIX, describeEventStoreContract, newEvent } from '../contract/event-store.contract';
import { StoreUnavailable } from '../port';
import { CONTRACT_ESDB_TUNING } from './__fixtures__/contract-tuning';
import { openEventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  // The adapter under test accepts only the suite's test-only streams (cltest-...) and keeps its
  // records under test-only names: a node that also holds real CareLedger data is never written to
  // under a real name, and its real streams never enter the suite's reads, head hash or verify.
  describeEventStoreContract('eventstoredb', async () => {
    const store = openEventStoreDbEventStore({ connectionString, ...CONTRACT_ESDB_TUNING });
    return { store, cleanup: () => store.close() };
  });
} else {
  console.warn(
    'EventStoreDB contract tests skipped: EVENTSTORE_CONNECTION_STRING is not set ' +
      '(e.g. esdb://localhost:2113?tls=false with a running EventStoreDB 24.10 node). ' +
      `The suite writes only streams named ${CONTRACT_STREAM_PREFIX}* and records named cltestrecord-*; see docs/eventstoredb.md.`,
  );
  describe.skip('EventStore contract: eventstoredb (set EVENTSTORE_CONNECTION_STRING to run)', () => {
    it('runs the contract against a live EventStoreDB node', () => undefined);
  });
}

describe('EventStoreDB adapter without a reachable server (the real client, 127.0.0.1 only)', () => {
  // A real client against a closed port: gRPC answers UNAVAILABLE (code 14) at once.
  const store = openEventStoreDbEventStore({ connectionString: 'esdb://127.0.0.1:1?tls=false', settleDelayMs: 10 });
  afterAll(() => store.close());

  it('translates every failure into StoreUnavailable and reports ping() false', async () => {
    await expect(store.appendToStream(`plan-${randomUUID()}`, [newEvent('A', {})])).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.readStream('plan-1')).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.verifyIntegrity()).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.records.get('lease:x')).rejects.toBeInstanceOf(StoreUnavailable);
    expect(await store.ping()).toBe(false);
  });

  it('a subscription fails with StoreUnavailable and is unregistered', async () => {
    const subscription = store.subscribeToAll();
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(StoreUnavailable);
    expect(store.openSubscriptions).toBe(0);
    await subscription.close();
  });
});

describe('EventStoreDB adapter against a plaintext node without tls=false (the real client, 127.0.0.1 only)', () => {
  // What an insecure node (EVENTSTORE_INSECURE=true) looks like to a client that speaks TLS: a
  // plaintext HTTP/2 server. The client's error is "SSL routines ... wrong version number".
  let server: Http2Server;
  let port: number;
  beforeAll(async () => {
    server = createServer();
    server.on('stream', (stream) => stream.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fails with a StoreUnavailable that tells the operator to add tls=false', async () => {
    const store = openEventStoreDbEventStore({ connectionString: `esdb://127.0.0.1:${port}`, settleDelayMs: 10, readTimeoutMs: 5000 });
    try {
      const error = await store.readStream('plan-1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toMatch(/tls=false/);
      const append = await store.appendToStream(`plan-${randomUUID()}`, [newEvent('A', {})]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(append).toBeInstanceOf(StoreUnavailable);
      expect((append as Error).message).toMatch(/tls=false/);
      expect(((append as StoreUnavailable).cause as Error).message).toMatch(/wrong version number|SSL/);
      expect(await store.ping()).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('EventStoreDB adapter against a node that takes calls and never answers (the real client, 127.0.0.1 only)', () => {
  // Client 6.2.1 sends reads with an infinite deadline: against a half-open node they would wait
  // forever. The adapter's own timer must cut them and cancel the call (the server sees it close).
  let server: Http2Server;
  let port: number;
  const opened: string[] = [];
  const closed: string[] = [];
  const sessions = new Set<ServerHttp2Session>();
  beforeAll(async () => {
    server = createServer();
    server.on('session', (session) => sessions.add(session));
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      opened.push(path);
      stream.on('close', () => closed.push(path));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('times out every read with StoreUnavailable and cancels it', async () => {
    const store = openEventStoreDbEventStore({ connectionString: `esdb://127.0.0.1:${port}?tls=false`, readTimeoutMs: 500, pingTimeoutMs: 500 });
    try {
      const started = Date.now();
      await expect(store.readStream('plan-1')).rejects.toBeInstanceOf(StoreUnavailable);
      await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailable);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailable);
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reads = opened.filter((p) => p === '/event_store.client.streams.Streams/Read');
      expect(reads.length).toBeGreaterThanOrEqual(4);
      expect(closed.filter((p) => p === '/event_store.client.streams.Streams/Read')).toHaveLength(reads.length);
    } finally {
      await store.close();
    }
  }, 10_000);
});
