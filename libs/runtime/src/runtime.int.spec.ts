/**
 * A node on real SQLite files: commands through the ledger, reads through the projections, and
 * the two views of "now" (cached read model and direct fold) agreeing.
 */
import { join } from 'node:path';
import { Command, foldEntitlements } from '@careledger/domain';
import { TestStore, testStores } from '@careledger/testing/stores';
import { Runtime } from './runtime';

describe.each(testStores('The runtime test'))('Runtime on %s', (_name, open) => {
  let rt: Runtime;
  let node: TestStore;
  const ctx = { actor: 'test', correlationId: 'c-1' };

  beforeEach(async () => {
    node = await open();
    rt = await Runtime.open({ store: node.store, dbPath: join(node.dir, 'unused.sqlite'), readDbPath: join(node.dir, 'read.sqlite') });
  });
  afterEach(async () => {
    await rt.close();
    await node.cleanup();
  });

  const replace = async (serial: string, claimRef: string, at: string, next: string) => {
    const open = await rt.ledger.execute(
      {
        type: 'OpenClaim', claimId: `claim-${claimRef}`, claimRef, serial, kind: 'damage', cause: 'collision',
        incidentAt: at, openedAt: at, serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false,
      } as Command,
      ctx,
    );
    const planId = (open.outcome as { planId: string }).planId;
    const approval = await rt.ledger.execute({ type: 'ApproveClaim', planId, claimId: `claim-${claimRef}`, at }, ctx);
    const fee = (approval.outcome as { fee: { amount: string; currency: string } }).fee;
    await rt.ledger.execute({ type: 'PayClaim', planId, claimId: `claim-${claimRef}`, at, amount: fee.amount, currency: fee.currency }, ctx);
    await rt.ledger.execute({ type: 'FulfilClaim', planId, claimId: `claim-${claimRef}`, at, replacementSerial: next }, ctx);
  };

  test('I1/I2: a chain of replacements through the store, read back through the projections', async () => {
    await rt.ledger.execute(
      {
        type: 'PurchasePlan', planId: 'P1', term: '2y', model: 'Mavic 3', region: 'US', channel: 'online',
        purchasedAt: '2024-03-10T10:00:00-07:00', orderId: 'O-1', serial: 'A', deliveredAt: null, price: null,
      },
      ctx,
    );
    await replace('A', 'R1', '2024-06-01T10:00:00-07:00', 'B');
    await replace('B', 'R2', '2025-01-15T10:00:00-08:00', 'C');
    expect(await rt.consistentRead()).toBe(true);
    const view = JSON.parse((await rt.reads.entitlements.entitlements('C', { at: '2025-01-16', now: new Date() }, rt.reads.checkpoint()))!);
    expect(view.replacement).toMatchObject({ window: { from: '2024-03-10', until: '2026-03-10' }, remaining: 2, used: 2 });
    expect(view.inheritedFrom).toEqual(['A', 'B']);
    expect(view.checkpoint).toBe(rt.runner.checkpoint.toString());

    // the cached "now" view equals the fold over the store's own events
    const now = new Date();
    const cachedFirst = JSON.parse((await rt.reads.entitlements.entitlements('C', { now, explain: true }, rt.reads.checkpoint()))!);
    const cachedAgain = JSON.parse((await rt.reads.entitlements.entitlements('C', { now, explain: true }, rt.reads.checkpoint()))!);
    const all = await rt.store.readAll();
    const direct = foldEntitlements(rt.catalogue, all, { serial: 'C', now: now.toISOString() });
    expect(cachedAgain).toEqual(cachedFirst);
    expect({ ...cachedAgain, checkpoint: undefined }).toEqual({ ...JSON.parse(JSON.stringify(direct)), checkpoint: undefined });

    const history = (await rt.reads.entitlements.history('C'))!;
    expect(history.map((h) => h.type)).toContain('ClaimFulfilled');
    const claims = rt.reads.claims.centerClaims('SC-1', undefined, undefined, 10);
    expect(claims.map((c) => c.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(rt.reads.claims.dashboard('SC-1', undefined, undefined)).toMatchObject({ replacementsIssued: 2, claims: { fulfilled: 2 } });
    // every accepted command is a decision in the log, listed by the decision log read model
    const decisions = rt.reads.decisions.list({ limit: 100 });
    expect(decisions.map((d) => d.command)).toEqual([
      'PurchasePlan', 'OpenClaim', 'ApproveClaim', 'PayClaim', 'FulfilClaim', 'OpenClaim', 'ApproveClaim', 'PayClaim', 'FulfilClaim',
    ]);
    expect(decisions.every((d) => d.outcome === 'accepted')).toBe(true);
  });

  test('concurrent verifies of one kind share one walk of the chain (eight auditors at once cost one walk)', async () => {
    for (let i = 0; i < 3; i++) {
      await rt.ledger.execute({
        type: 'PurchasePlan', planId: `P-V${i}`, term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
        purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-V${i}`, serial: `S-V${i}`, deliveredAt: null, price: null,
      } as Command, ctx);
    }
    const walk = node.store.verifyIntegrity.bind(node.store);
    let walks = 0;
    node.store.verifyIntegrity = (options) => {
      walks++;
      return walk(options);
    };
    const full = await Promise.all(Array.from({ length: 8 }, () => rt.verify({ full: true })));
    expect(walks).toBe(1);
    expect(full.every((r) => r.ok && r === full[0])).toBe(true);
    const incremental = await Promise.all(Array.from({ length: 8 }, () => rt.verify()));
    expect(walks).toBe(2);
    expect(incremental.every((r) => r.ok)).toBe(true);
    // once a walk has ended, the next call walks again
    await rt.verify({ full: true });
    expect(walks).toBe(3);
  });
});
