/**
 * Two nodes (two Runtimes, each with its own read store) on one SQLite file, and one node under
 * which the log loses its tail: the sweep's lease covers a sweep, not the time after it; a node
 * whose read models were rebuilt from a shorter log stops waiting for positions that went with the
 * lost tail. (The multi-node e2e suite runs the same on PostgreSQL with processes.)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from './runtime';

const ctx = { actor: 'test', correlationId: 'c' };
/** A 1-Year plan on a safe-use-reward model whose first term ended long ago: its reward is due. */
const duePlan = (serial: string) => ({
  type: 'PurchasePlan' as const, planId: `P-${serial}`, term: '1y', model: 'Mavic 3', region: 'US' as const, channel: 'online' as const,
  purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-${serial}`, serial, deliveredAt: null, price: null,
});

let dir: string;
const opened: Runtime[] = [];
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'careledger-nodes-'))));
afterEach(async () => {
  for (const rt of opened.splice(0)) await rt.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const node = async (name: string) => {
  const rt = await Runtime.open({ dbPath: join(dir, 'store.sqlite'), readDbPath: join(dir, `${name}.read.sqlite`), signingKeyDefaultFile: join(dir, 'key.pem') });
  opened.push(rt);
  return rt;
};

test("the sweep's lease is given back when the sweep ends: the next sweep on another node does the work", async () => {
  const a = await node('a');
  const b = await node('b');
  await a.ledger.execute(duePlan('S-1'), ctx);
  const first = await a.sweep();
  expect(first).toMatchObject({ granted: 1 });
  expect(first.leaseHeldBy).toBeUndefined();

  // an hour later, or an operator on another node, or `careledger sweep`: not refused for the lease
  await b.ledger.execute(duePlan('S-2'), ctx);
  const second = await b.sweep();
  expect(second.leaseHeldBy).toBeUndefined();
  expect(second.granted).toBe(1);
  // and back on the first node: S-1 and S-2 are granted, nothing twice
  const third = await a.sweep();
  expect(third).toMatchObject({ granted: 0 });
  expect(third.leaseHeldBy).toBeUndefined();
  const grants = (await a.store.readAll()).filter((e) => e.type === 'WarrantyExtensionGranted').map((e) => e.streamId);
  expect(grants.sort()).toEqual(['plan-P-S-1', 'plan-P-S-2']);
});

test('while a sweep runs, a sweep on another node is refused with the holder named', async () => {
  const a = await node('a');
  const b = await node('b');
  for (let i = 0; i < 5; i++) await a.ledger.execute(duePlan(`C-${i}`), ctx);
  const running = a.sweep();
  // a's sweep took the lease before its first await on the ledger
  await new Promise((resolve) => setImmediate(resolve));
  const meanwhile = await b.sweep();
  const done = await running;
  expect(done.granted).toBe(5);
  expect(meanwhile).toEqual({ examined: 0, granted: 0, leaseHeldBy: a.nodeId });
});

test('the log lost its tail under a running node: once rebuilt from it, reads stop waiting for the lost positions', async () => {
  const rt = await node('a');
  await rt.ledger.execute(duePlan('T-0'), ctx);
  const kept = await rt.store.headPosition();
  for (let i = 1; i <= 3; i++) await rt.ledger.execute(duePlan(`T-${i}`), ctx);
  expect(await rt.consistentRead()).toBe(true);
  expect(rt.acknowledged).toBeGreaterThan(kept);

  // what a restore into the running database (or a failover to a replica that was behind) leaves
  const db = new Database(join(dir, 'store.sqlite'));
  try {
    db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update; DROP TRIGGER IF EXISTS events_are_immutable_delete');
    db.prepare('DELETE FROM events WHERE position > ?').run(kept);
  } finally {
    db.close();
  }

  // the runner's anchor check finds the checkpoint gone and rebuilds from the shorter log
  const until = Date.now() + 15_000;
  while (rt.runner.checkpoint !== kept && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(rt.runner.checkpoint).toBe(kept);
  // reads answer from it (they waited for the lost positions before: 503 until the new log grew as long)
  expect(await rt.consistentRead(undefined, 2000)).toBe(true);
  expect(rt.acknowledged).toBe(kept);
  expect(rt.ready).toBe(true);
  expect(rt.reads.plan('P-T-0', new Date())).not.toBeNull();
  expect(rt.reads.plan('P-T-3', new Date())).toBeNull();
}, 30_000);
