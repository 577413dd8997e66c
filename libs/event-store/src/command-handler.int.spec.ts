import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleCommand } from './command-handler';
import { newEvent } from './contract/event-store.contract';
import { ConcurrencyConflict, type NewEvent } from './port';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite/sqlite-event-store';

type ReplacementEvent = { type: 'ReplacementUsed'; data: { claimId: string } } | { type: 'PlanPurchased'; data: { allowance: number } };
type PlanState = { status: 'none' } | { status: 'active'; remaining: number };

class NoReplacementLeft extends Error {
  readonly code = 'NoReplacementLeft';
}

const initialState = (): PlanState => ({ status: 'none' });
const evolve = (state: PlanState, event: ReplacementEvent): PlanState => {
  switch (event.type) {
    case 'PlanPurchased':
      return { status: 'active', remaining: event.data.allowance };
    case 'ReplacementUsed':
      return state.status === 'active' ? { ...state, remaining: state.remaining - 1 } : state;
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
};
const useReplacement = (claimId: string) => (state: PlanState): NewEvent[] => {
  if (state.status !== 'active' || state.remaining === 0) throw new NoReplacementLeft(`claim ${claimId}`);
  return [newEvent('ReplacementUsed', { claimId })];
};

describe('handleCommand (on a real SQLite store)', () => {
  let dir: string;
  let store: SqliteEventStore;
  const plan = 'plan-42';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'careledger-handler-'));
    store = openSqliteEventStore({ path: join(dir, 'ledger.sqlite') });
    await store.appendToStream(plan, [newEvent('PlanPurchased', { allowance: 2 })]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('folds the stream, decides, appends at the exact revision and returns the new state', async () => {
    const result = await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c1') });
    expect(result.state).toEqual({ status: 'active', remaining: 1 });
    expect(result.appended).toMatchObject({ nextExpectedRevision: 1, deduplicated: false });
    expect(result.events.map((e) => e.type)).toEqual(['ReplacementUsed']);
  });

  it("appends with 'no_stream' to an empty stream, and returns appended: null when nothing is decided", async () => {
    const fresh = await handleCommand(store, 'plan-new', {
      initialState,
      evolve,
      decide: () => [newEvent('PlanPurchased', { allowance: 1 })],
    });
    expect(fresh.appended?.nextExpectedRevision).toBe(0);
    const idle = await handleCommand(store, plan, { initialState, evolve, decide: () => [] });
    expect(idle).toEqual({ state: { status: 'active', remaining: 2 }, appended: null, events: [] });
  });

  it('lets a domain refusal propagate untouched', async () => {
    await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c1') });
    await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c2') });
    const refusal = await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c3') }).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(NoReplacementLeft);
    expect(await store.readStream(plan)).toHaveLength(3);
  });

  it('on a conflict re-reads and re-decides: two agents cannot spend the last replacement twice', async () => {
    await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c1') });
    const results = await Promise.allSettled([
      handleCommand(store, plan, { initialState, evolve, decide: useReplacement('agent-a') }),
      handleCommand(store, plan, { initialState, evolve, decide: useReplacement('agent-b') }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toBeInstanceOf(NoReplacementLeft);
    expect((await store.readStream(plan)).filter((e) => e.type === 'ReplacementUsed')).toHaveLength(2);
  });

  it('gives up after maxRetries conflicts', async () => {
    let decisions = 0;
    const interfering = (state: PlanState): NewEvent[] => {
      decisions += 1;
      void store.appendToStream(plan, [newEvent('ReplacementUsed', { claimId: `other-${decisions}` })]);
      return state.status === 'active' ? [newEvent('ReplacementUsed', { claimId: 'mine' })] : [];
    };
    const error = await handleCommand(store, plan, {
      initialState: () => ({ status: 'active', remaining: 100 }) as PlanState,
      evolve,
      decide: interfering,
      maxRetries: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect(decisions).toBe(3);
  });

  it('with a caller expectedRevision (If-Match) it does not retry: the conflict propagates', async () => {
    let decisions = 0;
    const decide = (state: PlanState) => {
      decisions += 1;
      return useReplacement('c1')(state);
    };
    await handleCommand(store, plan, { initialState, evolve, decide: useReplacement('c0') });
    const error = await handleCommand(store, plan, { initialState, evolve, decide, expectedRevision: 0 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect(error).toMatchObject({ expected: 0, actual: 1 });
    expect(decisions).toBe(1);

    const ok = await handleCommand(store, plan, { initialState, evolve, decide, expectedRevision: 1 });
    expect(ok.appended?.nextExpectedRevision).toBe(2);
  });
});
