/**
 * RULES P3 without multi-stream transactions, as the product does it: the unit's own stream is the
 * reservation, appended at the exact revision read before the plan stream is written (see
 * checkUnitIsFree in libs/domain/src/device/rules.ts). 16 parallel purchases of one serial through the
 * real Ledger: exactly one binds it, in every run, on every event-store adapter configured.
 */
import { randomUUID } from 'node:crypto';
import { defaultCatalogue, Refusal } from '@careledger/domain';
import { EventStore, openEventStoreDbEventStore, systemClock } from '@careledger/event-store';
import { testStores } from '@careledger/testing/stores';
import { Ledger } from './ledger';

const adapters: [string, () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>][] = testStores('The P3 reservation test');
// The ledger writes CareLedger's own stream names (plan-, device-, decision-), which no test prefix can
// change: on EventStoreDB this test runs only when asked twice, so a suite pointed at a node that holds
// real data never writes synthetic purchases into it.
if (process.env.EVENTSTORE_CONNECTION_STRING && process.env.CARELEDGER_TEST_ESDB_LEDGER_STREAMS === '1') {
  adapters.push(['eventstoredb', async () => ({ store: openEventStoreDbEventStore({ connectionString: process.env.EVENTSTORE_CONNECTION_STRING! }), cleanup: async () => undefined })]);
} else {
  console.warn(
    process.env.EVENTSTORE_CONNECTION_STRING
      ? 'Reservation test on EventStoreDB skipped: it writes CareLedger stream names; set CARELEDGER_TEST_ESDB_LEDGER_STREAMS=1 on a node without real data to run it.'
      : 'Reservation test on EventStoreDB skipped: EVENTSTORE_CONNECTION_STRING is not set.',
  );
}

describe.each(adapters)('P3 reservation through the ledger on %s', (_name, open) => {
  let store: EventStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => ({ store, cleanup } = await open()));
  afterAll(async () => {
    await store.close();
    await cleanup();
  });

  test('of 16 parallel purchases of one serial, exactly one binds it, in every run', async () => {
    const ledger = new Ledger(store, defaultCatalogue(), systemClock);
    for (let run = 0; run < 20; run++) {
      const serial = `SN-${randomUUID()}`;
      const planIds = Array.from({ length: 16 }, () => randomUUID());
      const outcomes = await Promise.allSettled(
        planIds.map((planId, i) =>
          ledger.execute(
            {
              type: 'PurchasePlan', planId, term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
              purchasedAt: '2024-03-10T09:00:00-07:00', orderId: `${serial}-${i}`, serial, deliveredAt: null, price: null,
            },
            { actor: 'test', correlationId: `run-${run}` },
          ),
        ),
      );
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [planIds[i]] : []));
      expect(won).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toEqual(expect.objectContaining({ code: 'AlreadyBound' }));
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(Refusal);
      }
      const bindings = (await store.readStream(`device-${serial}`)).filter((e) => e.type === 'DeviceBoundToPlan');
      expect(bindings.map((e) => (e.data as { planId: string }).planId)).toEqual(won);
      for (const planId of planIds) expect(await store.readStream(`plan-${planId}`)).toHaveLength(planId === won[0] ? 1 : 0);
    }
  }, 60_000);
});
