import { randomUUID } from 'node:crypto';
import { describeEventStoreContract, newEvent } from '../contract/event-store.contract';
import { StoreUnavailable } from '../port';
import { openEventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  // Stream names in the contract are unique per test, so a shared, non-empty server is fine.
  describeEventStoreContract('eventstoredb', async () => {
    const store = openEventStoreDbEventStore({ connectionString });
    return { store, cleanup: () => store.close() };
  });
} else {
  console.warn(
    'EventStoreDB contract tests skipped: EVENTSTORE_CONNECTION_STRING is not set ' +
      '(e.g. esdb://localhost:2113?tls=false with a running EventStoreDB 24.10 node).',
  );
  describe.skip('EventStore contract: eventstoredb (set EVENTSTORE_CONNECTION_STRING to run)', () => {
    it('runs the contract against a live EventStoreDB node', () => undefined);
  });
}

describe('EventStoreDB adapter without a reachable server', () => {
  // A real client against a closed port: gRPC answers UNAVAILABLE (code 14) at once.
  const store = openEventStoreDbEventStore({ connectionString: 'esdb://127.0.0.1:1?tls=false' });
  afterAll(() => store.close());

  it('translates every failure into StoreUnavailable and reports ping() false', async () => {
    await expect(store.appendToStream(`plan-${randomUUID()}`, [newEvent('A', {})])).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.readStream('plan-1')).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(store.verifyIntegrity()).rejects.toBeInstanceOf(StoreUnavailable);
    expect(await store.ping()).toBe(false);
  });

  it('a subscription fails with StoreUnavailable', async () => {
    const subscription = store.subscribeToAll();
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(StoreUnavailable);
    await subscription.close();
  });
});
