/**
 * A command whose events go to several streams, on a store without multi-stream transactions
 * (EventStoreDB: capabilities.atomicMultiStream false, one stream after the other). A node can die
 * between two parts. Here a wrapper over a real SQLite file plays that store: it writes a
 * multi-stream append part by part, reports atomicMultiStream false, and can die (every later call
 * fails; a "restart" opens the file again with a fresh ledger) or fail (that append only) after
 * the first part. Shown for the two multi-stream commands whose deciders put the primary fact in
 * different places: a purchase (the unit's reservation, then the plan: primary last) and an
 * activation that settles a 2-Year bundle's second year (the activation, then the plan's grant:
 * primary first in the decider).
 *
 * What must hold: the ledger writes the primary fact (which carries the decision) LAST, so a
 * decision is in the log only when all of its parts are; a crash leaves earlier parts only, which
 * no read counts as a decision; a retry with the same Idempotency-Key (or decision id) completes
 * the command exactly once, and the completed decision names every one of its events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCatalogue, foldEntitlements, gatherUnit } from '@careledger/domain';
import {
  AppendResult, ChainPoint, Clock, EventStore, IntegrityReport, openSqliteEventStore, ReadAllOptions, ReadStreamOptions, SqliteEventStore,
  StoreCapabilities, StoredEvent, StoreUnavailable, StreamAppend, SubscribeOptions, Subscription, VerifyOptions,
} from '@careledger/event-store';
import { decisionEventIds, decisionOf, isAcceptedDecision } from './decisions';
import { CommandContext, Ledger, storeDecisionLookup } from './ledger';

/** SQLite written one stream at a time, as EventStoreDB writes a multi-stream append; it can die or fail between parts. */
class PartByPartStore extends EventStore {
  readonly kind = 'sqlite-part-by-part';
  readonly capabilities: StoreCapabilities = { atomicMultiStream: false, globalChain: true, eventLookup: true };
  /** The next multi-stream append writes this many parts, then the node dies ('crash') or the append fails ('fail'). */
  fault: { afterParts: number; mode: 'crash' | 'fail' } | null = null;
  dead = false;
  /** The streams of each append, in the order they were written. */
  readonly written: string[][] = [];

  constructor(readonly inner: SqliteEventStore) {
    super();
  }

  get records() {
    return this.inner.records;
  }

  private alive(): void {
    if (this.dead) throw new StoreUnavailable('the node is dead');
  }

  async append(appends: StreamAppend[]): Promise<AppendResult[]> {
    this.alive();
    const results: AppendResult[] = [];
    const streams: string[] = [];
    this.written.push(streams);
    for (const [i, part] of appends.entries()) {
      if (this.fault && appends.length > 1 && i === this.fault.afterParts) {
        const { mode } = this.fault;
        this.fault = null;
        if (mode === 'crash') this.dead = true;
        throw new StoreUnavailable(`${mode} after ${i} part(s): ${streams.join(', ')} written`);
      }
      results.push(...(await this.inner.append([part])));
      streams.push(part.streamId);
    }
    return results;
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.alive();
    return this.inner.readStream(streamId, options);
  }
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.alive();
    return this.inner.readAll(options);
  }
  readEvents(eventIds: readonly string[]): Promise<StoredEvent[]> {
    this.alive();
    return this.inner.readEvents(eventIds);
  }
  subscribeToAll(options?: SubscribeOptions): Subscription {
    return this.inner.subscribeToAll(options);
  }
  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }
  head(): Promise<ChainPoint> {
    return this.inner.head();
  }
  hashAt(position: bigint): Promise<string | null> {
    return this.inner.hashAt(position);
  }
  verifyIntegrity(options?: VerifyOptions): Promise<IntegrityReport> {
    return this.inner.verifyIntegrity(options);
  }
  ping(): Promise<boolean> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const catalogue = defaultCatalogue();
let now = Date.parse('2024-06-01T12:00:00Z');
const clock: Clock = { now: () => new Date(now) };

let dir: string;
let node: { store: PartByPartStore; ledger: Ledger } | null = null;

/** Starts (or restarts) a node on the file: a fresh store and ledger, no caches. */
async function start(): Promise<{ store: PartByPartStore; ledger: Ledger }> {
  if (node) await node.store.close();
  const store = new PartByPartStore(openSqliteEventStore({ path: join(dir, 'ledger.sqlite'), clock }));
  node = { store, ledger: new Ledger(store, catalogue, clock) };
  return node;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-partial-'));
  now = Date.parse('2024-06-01T12:00:00Z');
});
afterEach(async () => {
  await node?.store.close();
  node = null;
  rmSync(dir, { recursive: true, force: true });
});

const keyed = (key: string): CommandContext => ({ actor: 'sales', tokenId: 'token-a', correlationId: key, idempotencyKey: key, requestHash: `hash-${key}` });
const purchase = (planId: string, serial: string, extra: Record<string, unknown> = {}) => ({
  type: 'PurchasePlan' as const, planId, term: '1y', model: 'Mavic 3', region: 'US' as const, channel: 'online' as const,
  purchasedAt: '2024-05-30T10:00:00Z', orderId: `O-${planId}`, serial, deliveredAt: null, price: null, ...extra,
});

/** What reads can see: every decision the log holds (as the decision log read model and the idempotency lookup find them). */
async function decisionsInLog(store: EventStore) {
  const events = await store.readAll();
  const primaries = events.filter((e) => isAcceptedDecision(e.metadata.decision));
  return primaries.map((p) => decisionOf([p, ...events.filter((e) => e.metadata.decision?.id === p.eventId)])!);
}

/** Every decision is whole: its primary names its events, each is in the log and points back; nothing points at a missing primary. */
async function expectWholeDecisions(store: EventStore): Promise<void> {
  const events = await store.readAll();
  const byId = new Map(events.map((e) => [e.eventId, e]));
  for (const e of events) {
    const d = e.metadata.decision;
    if (isAcceptedDecision(d)) {
      for (const id of decisionEventIds(e)) expect(byId.get(id)?.metadata.decision?.id ?? byId.get(id)?.eventId).toBe(e.eventId);
    } else if (d && typeof d.id === 'string' && d.id !== e.eventId) {
      const primary = byId.get(d.id);
      expect(primary && decisionEventIds(primary)).toContain(e.eventId);
    }
  }
}

/** The unit's entitlement view now, with everything recorded so far (the parts of one append are stamped a millisecond apart here). */
async function view(store: EventStore, serial: string) {
  const g = await gatherUnit(catalogue, serial, (s) => store.readStream(s));
  const { explanation: _e, at: _a, knownAt: _k, ...rest } = foldEntitlements(catalogue, g.events, { serial, at: null, knownAt: null, now: new Date(now + 1000).toISOString() });
  return rest;
}

describe('a crash between the parts of a multi-stream command, on a store without multi-stream transactions', () => {
  test('a purchase: the node dies after the unit\'s reservation; no read counts it, it holds the unit for the lease only, and the retry completes it once', async () => {
    const { store, ledger } = await start();
    const before = await view(store, 'S1');
    store.fault = { afterParts: 1, mode: 'crash' };
    await expect(ledger.execute(purchase('P1', 'S1'), keyed('k1'))).rejects.toBeInstanceOf(StoreUnavailable);
    expect(store.written).toEqual([['device-S1']]);

    const restarted = await start();
    // what the crash left: the reservation, carrying the decision's id, and no primary fact
    const log = await restarted.store.readAll();
    expect(log.map((e) => [e.streamId, e.type])).toEqual([['device-S1', 'DeviceBoundToPlan']]);
    const decisionId = Ledger.keyedDecisionId('token-a', 'k1');
    expect(log[0].metadata.decision).toEqual({ id: decisionId });
    // no read shows a decision: not the lookup the idempotency answer comes from, not the decision log, not the unit's view
    expect(await storeDecisionLookup(restarted.store).find(decisionId)).toBeNull();
    expect(await decisionsInLog(restarted.store)).toEqual([]);
    expect(await view(restarted.store, 'S1')).toEqual(before);
    expect((await view(restarted.store, 'S1')).planId).toBeNull();
    // another plan cannot take the unit while the reservation is young (P3)...
    await expect(restarted.ledger.execute(purchase('P-OTHER', 'S1'), { actor: 'sales', correlationId: 'x' })).rejects.toMatchObject({ code: 'AlreadyBound' });

    // ...and the client's retry, same key and request, completes the command: each fact once
    const done = await restarted.ledger.execute(purchase('P1', 'S1'), keyed('k1'));
    expect(done).toMatchObject({ repeat: false, decisionId });
    const after = await restarted.store.readAll();
    expect(after.filter((e) => e.type !== 'CommandRefused').map((e) => [e.streamId, e.type])).toEqual([
      ['device-S1', 'DeviceBoundToPlan'], ['plan-P1', 'PlanPurchased'],
    ]);
    // the decision names both events, the reservation written before the crash included
    expect([...done.eventIds].sort()).toEqual([log[0].eventId, decisionId].sort());
    await expectWholeDecisions(restarted.store);
    expect(await decisionsInLog(restarted.store)).toEqual([expect.objectContaining({ decisionId, outcome: 'accepted', eventIds: expect.arrayContaining([log[0].eventId, decisionId]) })]);
    expect(await view(restarted.store, 'S1')).toMatchObject({ planId: 'P1' });
    // a second retry is a replay: the first answer, nothing appended
    const count = (await restarted.store.readAll()).length;
    expect(await restarted.ledger.execute(purchase('P1', 'S1'), keyed('k1'))).toMatchObject({ repeat: true, decisionId, answer: done.answer });
    expect(await restarted.store.readAll()).toHaveLength(count);
  });

  test('a purchase never retried: the orphan reservation stops holding the unit when its lease ends', async () => {
    const { store, ledger } = await start();
    store.fault = { afterParts: 1, mode: 'crash' };
    await expect(ledger.execute(purchase('P1', 'S1'), keyed('k1'))).rejects.toBeInstanceOf(StoreUnavailable);
    const restarted = await start();
    now += 61_000; // RESERVATION_LEASE_MS later
    const other = await restarted.ledger.execute(purchase('P2', 'S1'), { actor: 'sales', correlationId: 'later' });
    expect(other.repeat).toBe(false);
    expect(await view(restarted.store, 'S1')).toMatchObject({ planId: 'P2' });
    // the orphan stays in the log (it is a fact that the attempt was made) and no decision claims it
    expect((await decisionsInLog(restarted.store)).map((d) => d.decisionId)).toEqual([other.decisionId]);
  });

  test('an activation that settles a 2-Year bundle\'s second year: the primary is written last, so a crash leaves no activation, and the retry completes it once', async () => {
    const { store, ledger } = await start();
    // a 2-Year bundle sold before its unit was activated: its second year waits for the activation (W2, P6)
    await ledger.execute(purchase('PB', 'B1', { channel: 'bundle', term: '2y' }), { actor: 'sales', correlationId: 'bundle' });
    const sold = await view(store, 'B1');
    const activation = { type: 'ActivateDevice' as const, serial: 'B1', model: 'Mavic 3', region: 'US' as const, activatedAt: '2024-05-31T09:00:00Z' };
    const ctx = { ...keyed('k-act'), actor: 'device-registry' };
    const decisionId = Ledger.keyedDecisionId('token-a', 'k-act');

    store.fault = { afterParts: 1, mode: 'crash' };
    await expect(ledger.execute(activation, ctx)).rejects.toBeInstanceOf(StoreUnavailable);
    // the decider lists the activation (primary) first; the ledger wrote the plan's grant first
    expect(store.written[store.written.length - 1]).toEqual(['plan-PB']);

    const restarted = await start();
    const tail = (await restarted.store.readAll()).slice(-1);
    expect(tail.map((e) => [e.streamId, e.type, e.metadata.decision])).toEqual([['plan-PB', 'WarrantyExtensionGranted', { id: decisionId }]]);
    // no decision: the idempotency lookup and the decision log find none; the unit is not activated
    expect(await storeDecisionLookup(restarted.store).find(decisionId)).toBeNull();
    expect((await decisionsInLog(restarted.store)).map((d) => d.command)).toEqual(['PurchasePlan']);
    // the unit's view is the plan as sold: the orphan second-year grant counts for nothing while its
    // activation is not in the log (a 2-Year bundle's years run from the activation, P6)
    const between = await view(restarted.store, 'B1');
    expect(between).toEqual(sold);
    expect(between.warranty.official).toBeNull();
    expect(between.warranty.extensions.map((x) => x.kind)).not.toContain('plan-year-2');

    const done = await restarted.ledger.execute(activation, ctx);
    expect(done).toMatchObject({ repeat: false, decisionId });
    const facts = (await restarted.store.readAll()).map((e) => e.type);
    expect(facts.filter((t) => t === 'DeviceActivated')).toHaveLength(1);
    expect(facts.filter((t) => t === 'WarrantyExtensionGranted')).toHaveLength(1);
    await expectWholeDecisions(restarted.store);
    expect(done.eventIds).toHaveLength(2);
    expect(await storeDecisionLookup(restarted.store).find(decisionId)).toMatchObject({ outcome: 'accepted', eventIds: done.eventIds });
    const activated = await view(restarted.store, 'B1');
    expect(activated.warranty.official).not.toBeNull();
    expect(activated.warranty.extensions.map((x) => x.kind)).toContain('plan-year-2');
    expect(await restarted.ledger.execute(activation, ctx)).toMatchObject({ repeat: true, decisionId });
  });

  test('a failure between parts (the node lives on): the same ledger completes the command on the client\'s retry', async () => {
    const { store, ledger } = await start();
    store.fault = { afterParts: 1, mode: 'fail' };
    await expect(ledger.execute(purchase('P1', 'S1'), keyed('k1'))).rejects.toBeInstanceOf(StoreUnavailable);
    const done = await ledger.execute(purchase('P1', 'S1'), keyed('k1'));
    expect(done.repeat).toBe(false);
    expect((await store.readAll()).map((e) => e.type)).toEqual(['DeviceBoundToPlan', 'PlanPurchased']);
    await expectWholeDecisions(store);
  });

  test('an explicit decision id (seeded data) completes the same way, without an Idempotency-Key', async () => {
    const { store, ledger } = await start();
    const ctx = { actor: 'seed', correlationId: 'seed', decisionId: 'd0000000-0000-4000-8000-000000000001' };
    store.fault = { afterParts: 1, mode: 'crash' };
    await expect(ledger.execute(purchase('P1', 'S1'), ctx)).rejects.toBeInstanceOf(StoreUnavailable);
    const restarted = await start();
    const done = await restarted.ledger.execute(purchase('P1', 'S1'), ctx);
    expect(done).toMatchObject({ repeat: false, decisionId: ctx.decisionId });
    await expectWholeDecisions(restarted.store);
    expect((await restarted.store.readAll()).map((e) => e.type)).toEqual(['DeviceBoundToPlan', 'PlanPurchased']);
    // again: the domain sees the plan and answers a repeat
    expect(await restarted.ledger.execute(purchase('P1', 'S1'), ctx)).toMatchObject({ repeat: true });
  });

  test('with multi-stream transactions nothing changes: the decider\'s order, one append', async () => {
    const { store, ledger } = await start();
    Object.assign(store.capabilities, { atomicMultiStream: true });
    await ledger.execute(purchase('PB', 'B1', { channel: 'bundle', term: '2y' }), { actor: 'sales', correlationId: 'bundle' });
    await ledger.execute({ type: 'ActivateDevice', serial: 'B1', model: 'Mavic 3', region: 'US', activatedAt: '2024-05-31T09:00:00Z' }, keyed('k'));
    expect(store.written[store.written.length - 1]).toEqual(['device-B1', 'plan-PB']);
    await expectWholeDecisions(store);
  });
});
