/**
 * One Idempotency-Key sent to two nodes at once (two Ledgers on one store, each with its own
 * in-process queue of keys, as two processes have). The interleaving that multi-node runs produced on
 * PostgreSQL is forced here: node B reads the plan stream before node A's purchase commits and the
 * unit's stream after it, so B decides a purchase with the unit already reserved (the plan part only)
 * and its append finds every event id stored. B must answer with the decision the log records (A's,
 * with both event ids), not with the one it worked out itself.
 */
import { defaultCatalogue, PurchasePlan } from '@careledger/domain';
import { EventStore, systemClock } from '@careledger/event-store';
import { TestStore, testStores } from '@careledger/testing/stores';
import { Ledger } from './ledger';

describe.each(testStores('The twin-request test'))('one Idempotency-Key on two nodes at once, on %s', (_name, open) => {
  let node: TestStore;

  beforeEach(async () => (node = await open()));
  afterEach(async () => {
    await node.store.close();
    await node.cleanup();
  });

  /** The store as node B sees it: its first read of `streamId` waits until `before` has run. */
  function delayedRead(store: EventStore, streamId: string, before: () => Promise<unknown>): EventStore {
    let fired = false;
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'readStream') {
          return async (id: string, options?: Parameters<EventStore['readStream']>[1]) => {
            if (id === streamId && !fired) {
              fired = true;
              await before();
            }
            return target.readStream(id, options);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  test('the node that finds its twin already recorded answers the recorded decision', async () => {
    const catalogue = defaultCatalogue();
    const command: PurchasePlan = {
      type: 'PurchasePlan', planId: 'P-TWIN', term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
      purchasedAt: '2024-03-10T09:00:00-07:00', orderId: 'O-TWIN', serial: 'SN-TWIN', deliveredAt: null, price: null,
    };
    const ctx = (correlationId: string) => ({ actor: 'sales', tokenId: 'token-1', correlationId, idempotencyKey: 'key-1', requestHash: 'request-1' });
    const a = new Ledger(node.store, catalogue, systemClock);
    let first: Awaited<ReturnType<Ledger['execute']>> | null = null;
    const b = new Ledger(
      delayedRead(node.store, 'device-SN-TWIN', async () => (first = await a.execute(command, ctx('on-a')))),
      catalogue,
      systemClock,
    );

    const second = await b.execute(command, ctx('on-b'));
    expect(first).not.toBeNull();
    expect(first!.repeat).toBe(false);
    expect(first!.eventIds).toHaveLength(2); // the purchase and the unit's reservation
    expect(second.repeat).toBe(true);
    expect({ answer: second.answer, eventIds: second.eventIds, revision: second.revision, position: second.position }).toEqual({
      answer: first!.answer, eventIds: first!.eventIds, revision: first!.revision, position: first!.position,
    });
    // and the log holds the purchase once
    expect((await node.store.readStream('plan-P-TWIN')).filter((e) => e.type === 'PlanPurchased')).toHaveLength(1);
  });
});
