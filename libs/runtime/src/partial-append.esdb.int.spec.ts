/**
 * The same crash between a command's parts as libs/ledger/src/partial-append.int.spec.ts, on the
 * real EventStoreDB adapter (no server: the event-store library's in-memory stand-in of the client,
 * which fails the plan stream's append before it commits) inside a real node (Runtime): there the
 * Idempotency-Key's first answer is found through the decision log read model, since EventStoreDB
 * has no index of events by id. The node reads no decision while only the reservation is written,
 * and the client's retry completes the purchase once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreDbEventStore, type EventStoreDbClientCalls, StoreUnavailable } from '@careledger/event-store';
import { EventStoreDbStandIn } from '@careledger/event-store/eventstoredb/__fixtures__/eventstoredb-stand-in';
import { Ledger } from '@careledger/ledger';
import { Runtime } from './runtime';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'careledger-partial-esdb-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const purchase = {
  type: 'PurchasePlan' as const, planId: 'P1', term: '1y', model: 'Mavic 3', region: 'US' as const, channel: 'online' as const,
  purchasedAt: '2024-05-30T10:00:00Z', orderId: 'O-P1', serial: 'S1', deliveredAt: null, price: null,
};
const ctx = { actor: 'sales', tokenId: 'token-a', correlationId: 'k1', idempotencyKey: 'k1', requestHash: 'h1' };

test('EventStoreDB: the plan stream\'s append fails after the reservation; no decision is read, and the retry completes it once', async () => {
  const server = new EventStoreDbStandIn();
  const store = new EventStoreDbEventStore(server as unknown as EventStoreDbClientCalls, {
    connectionString: 'esdb://127.0.0.1:2113?tls=false', readTimeoutMs: 2000, appendTimeoutMs: 2000, settleDelayMs: 5,
  });
  const rt = await Runtime.open({ store, dbPath: join(dir, 'unused.sqlite'), readDbPath: join(dir, 'read.sqlite'), signingKeyDefaultFile: join(dir, 'key.pem'), readWaitMs: 5000 });
  try {
    expect(store.capabilities.atomicMultiStream).toBe(false);
    // the adapter re-sends an append whose outcome is unknown once: both sends fail
    server.appendFaults.push({ kind: 'fail-before-commit', forStream: 'plan-P1' }, { kind: 'fail-before-commit', forStream: 'plan-P1' });
    const failed = rt.ledger.execute(purchase, ctx);
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(failed).rejects.toThrow(/the earlier parts of this append, to device-S1, are written/);
    const decisionId = Ledger.keyedDecisionId('token-a', 'k1');
    const left = await store.readAll();
    expect(left.map((e) => [e.streamId, e.type, e.metadata.decision])).toEqual([['device-S1', 'DeviceBoundToPlan', { id: decisionId }]]);

    // the node reads no decision and no plan (the read models caught up to the reservation)
    expect(await rt.catchUpToHead()).toBe(true);
    expect(await rt.findDecision(decisionId)).toBeNull();
    expect(rt.reads.decisions.list({ limit: 10 })).toEqual([]);
    expect(rt.reads.plan('P1', new Date())).toBeNull();

    const done = await rt.ledger.execute(purchase, ctx);
    expect(done).toMatchObject({ repeat: false, decisionId });
    expect([...done.eventIds].sort()).toEqual([decisionId, left[0].eventId].sort());
    expect((await store.readAll()).map((e) => e.type)).toEqual(['DeviceBoundToPlan', 'PlanPurchased']);
    expect(await rt.consistentRead(BigInt(done.position))).toBe(true);
    expect(rt.reads.decisions.list({ limit: 10 }).map((d) => [d.decision_id, d.outcome, JSON.parse(d.event_ids)])).toEqual([[decisionId, 'accepted', done.eventIds]]);
    expect(rt.reads.plan('P1', new Date())).toMatchObject({ currentUnit: 'S1' });
    // replayed from the decision log read model: the first answer, nothing appended
    const again = await rt.ledger.execute(purchase, ctx);
    expect(again).toMatchObject({ repeat: true, decisionId, answer: done.answer });
    expect(await store.readAll()).toHaveLength(2);
  } finally {
    await rt.close();
  }
}, 30_000);
