/**
 * The reward sweep against the two bugs issue 10 reproduced, on a real node (SQLite store and read
 * store): a reward's due time comes from the domain only (30 calendar days in the plan's zone, not
 * 30 x 24 h), and the sweep decides with the `now` it chose plans with, so it never marks a plan
 * checked that its decision did not settle.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from './runtime';

const ctx = { actor: 'test', correlationId: 'c' };
// A 1-Year online plan on a safe-use-reward model in the US, whose first replacement window ends on
// 2024-10-05: the reward settles 30 calendar days later, at 0:00 Los Angeles time on 2024-11-04,
// the day after the clocks went back (08:00Z, PST). 30 x 24 h from 0:00 PDT on 10-05 is 07:00Z.
const plan = {
  type: 'PurchasePlan' as const, planId: 'P-DST', term: '1y', model: 'Mavic 3', region: 'US' as const, channel: 'online' as const,
  purchasedAt: '2023-10-05T10:00:00-07:00', orderId: 'O-DST', serial: 'S-DST', deliveredAt: null, price: null,
};
const SETTLES = '2024-11-04T08:00:00.000Z';
const HOUR_AFTER_CHANGE = new Date('2024-11-04T07:30:00Z');

let dir: string;
let rt: Runtime;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-sweep-'));
  rt = await Runtime.open({ dbPath: join(dir, 'store.sqlite'), readDbPath: join(dir, 'read.sqlite'), signingKeyDefaultFile: join(dir, 'key.pem') });
  await rt.ledger.execute(plan, ctx);
  await rt.catchUpToHead();
});
afterEach(async () => {
  await rt.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const grants = async () => (await rt.store.readStream('plan-P-DST')).filter((e) => e.type === 'WarrantyExtensionGranted');

test('the read store keeps the due time the domain computed: 0:00 PST on the 30th calendar day, not 30 x 24 h from 0:00 PDT', () => {
  const db = new Database(join(dir, 'read.sqlite'), { readonly: true });
  try {
    const row = db.prepare('SELECT reward_due_ms FROM rm_plans WHERE plan_id = ?').get('P-DST') as { reward_due_ms: number };
    expect(new Date(row.reward_due_ms).toISOString()).toBe(SETTLES);
  } finally {
    db.close();
  }
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES) - 1, 10)).toEqual([]);
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES), 10)).toEqual(['P-DST']);
});

test('bug 1: a sweep in the hour after the US autumn clock change grants nothing and leaves the plan for the next sweep, which grants it', async () => {
  expect(await rt.sweep(HOUR_AFTER_CHANGE)).toEqual({ examined: 0, granted: 0 });
  expect(await grants()).toHaveLength(0);
  // the plan was not marked checked: the sweep at the due instant grants the reward, once
  expect(await rt.sweep(new Date(SETTLES))).toEqual({ examined: 1, granted: 1 });
  expect(await rt.sweep(new Date('2024-11-05T00:00:00Z'))).toMatchObject({ granted: 0 });
  expect((await grants()).map((e) => (e.data as { kind: string }).kind)).toEqual(['safe-use-reward']);
});

test('bug 2: a sweep "now" the clock has not reached is refused before any plan is chosen or marked; a sweep now grants', async () => {
  const future = new Date(Date.now() + 24 * 3600_000);
  await expect(rt.sweep(future)).rejects.toThrow(/in the future/);
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES), 10)).toEqual(['P-DST']);
  // and a sweep with the clock's now (long after the due time) decides with that now and grants
  expect(await rt.sweep()).toEqual({ examined: 1, granted: 1 });
  expect(await grants()).toHaveLength(1);
});

test('bug 2: a past "now" is the decision\'s instant too: before the due time nothing is granted and nothing is marked', async () => {
  // chosen with the stored due time and decided with the same instant: they agree, so the plan is not examined
  expect(await rt.sweep(new Date(Date.parse(SETTLES) - 1))).toEqual({ examined: 0, granted: 0 });
  // the plan stays due for the next sweep, whatever instant that one takes
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES), 10)).toEqual(['P-DST']);
  expect(await rt.sweep(new Date(SETTLES))).toEqual({ examined: 1, granted: 1 });
});

test('bug 2: the decision takes the sweep\'s "now", not the clock: a due time stored an hour early (30 x 24 h, as an older version wrote it) is rescheduled, not marked checked', async () => {
  rt.reads.plans.rescheduleReward('P-DST', Date.parse(SETTLES) - 3600_000);
  // chosen at 07:30Z with the early due time; decided at 07:30Z (with the clock, 2026, it would grant)
  expect(await rt.sweep(HOUR_AFTER_CHANGE)).toEqual({ examined: 1, granted: 0 });
  expect(await grants()).toHaveLength(0);
  // rescheduled to the domain's due time, not marked checked
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES) - 1, 10)).toEqual([]);
  expect(rt.reads.plans.dueRewardPlans(Date.parse(SETTLES), 10)).toEqual(['P-DST']);
  expect(await rt.sweep(new Date(SETTLES))).toEqual({ examined: 1, granted: 1 });
});
