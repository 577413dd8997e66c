/**
 * Statements on each kind of chain, through the library (no HTTP): a global chain (SQLite, and
 * PostgreSQL where CARELEDGER_DATABASE_URL is set) is verified fully; a per-stream chain
 * (EventStoreDB, here the adapter over its in-memory stand-in of the client) is verified as far as
 * it can be, and the verifier says what it could not check.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Command } from '@careledger/domain';
import { EventStore, EventStoreDbClientCalls, EventStoreDbEventStore } from '@careledger/event-store';
import { EventStoreDbStandIn } from '@careledger/event-store/eventstoredb/__fixtures__/eventstoredb-stand-in';
import { TestStore, testStores } from '@careledger/testing/stores';

/** The statement tests need a store and a directory only (the stand-in has no second connection). */
type Opener = () => Promise<Pick<TestStore, 'store' | 'dir' | 'cleanup'>>;
import { Runtime } from './runtime';
import { buildStatement, verifyStatement } from './statement';

const ctx = { actor: 'test', correlationId: 'c-1' };

const standIn: Opener = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'careledger-esdb-'));
  const store = new EventStoreDbEventStore(new EventStoreDbStandIn() as unknown as EventStoreDbClientCalls, {
    readTimeoutMs: 2000,
    connectionString: 'esdb://127.0.0.1:2113?tls=false',
  });
  return { store, dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
};

const stores: [string, Opener, 'global' | 'per-stream'][] = [
  ...testStores('The statement library test').map(([name, open]) => [name, open, 'global'] as [string, Opener, 'global']),
  ['eventstoredb (stand-in)', standIn, 'per-stream'],
];

describe.each(stores)('statements on %s', (_name, open, chain) => {
  let rt: Runtime;
  let store: EventStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const node = await open();
    store = node.store;
    cleanup = node.cleanup;
    rt = await Runtime.open({ store, dbPath: join(node.dir, 'unused.sqlite'), readDbPath: join(node.dir, 'read.sqlite'), project: false });
    const run = (command: Command) => rt.ledger.execute(command, ctx);
    await run({ type: 'ActivateDevice', serial: 'L-A', model: 'Mavic 3', region: 'US', activatedAt: '2026-03-10T08:00:00-07:00' });
    await run({
      type: 'PurchasePlan', planId: 'L-P', term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
      purchasedAt: '2026-03-10T09:00:00-07:00', orderId: 'L-O', serial: 'L-A', deliveredAt: null, price: null,
    });
    const at = '2026-06-01T10:00:00-07:00';
    await run({ type: 'OpenClaim', claimId: 'L-C', claimRef: 'L-C', serial: 'L-A', kind: 'damage', cause: 'drop', incidentAt: at, openedAt: at, serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false });
    const approval = await run({ type: 'ApproveClaim', planId: 'L-P', claimId: 'L-C', at });
    const fee = (approval.outcome as { fee: { amount: string; currency: string } }).fee;
    await run({ type: 'PayClaim', planId: 'L-P', claimId: 'L-C', at, amount: fee.amount, currency: fee.currency });
    await run({ type: 'FulfilClaim', planId: 'L-P', claimId: 'L-C', at, replacementSerial: 'L-B' });
  }, 30_000);

  afterAll(async () => {
    await rt?.close();
    await cleanup?.();
  });

  const source = () => ({ store: rt.store, catalogue: rt.catalogue, checkpoints: rt.checkpoints });

  test('the statement names its chain, is covered by a signed checkpoint, and verifies with the node\'s key', async () => {
    const statement = (await buildStatement(source(), { serial: 'L-B', now: new Date() }))!;
    expect(statement.integrity.chain).toBe(chain);
    expect(statement.integrity.store).toBe(store.kind);
    expect(statement.view.inheritedFrom).toEqual(['L-A']);
    const last = statement.events[statement.events.length - 1];
    expect(BigInt(statement.integrity.checkpoint.position)).toBeGreaterThanOrEqual(BigInt(last.position));
    const result = verifyStatement(JSON.parse(JSON.stringify(statement)), { publicKeys: rt.checkpoints.publicKeyPem, catalogue: rt.catalogue });
    expect(result).toMatchObject({ ok: true, reason: null });
    if (chain === 'global') {
      expect(result.notChecked).toEqual([]);
      expect(result.checks.map((c) => c.name)).toContain('event hashes');
    } else {
      // the links inside each stream are checked, the hashes themselves cannot be, and it says so
      expect(result.checks.map((c) => c.name)).toContain('event links');
      expect(result.notChecked).toEqual([expect.stringMatching(/^the event hashes themselves: on a per-stream chain \(EventStoreDB\)/)]);
      expect(statement.integrity.chainNote).toMatch(/per stream|its own hash chain/);
    }
    // unknown units have no statement
    expect(await buildStatement(source(), { serial: 'L-NONE', now: new Date() })).toBeNull();
  });

  test('what a per-stream chain still catches: a changed event breaks the attestation; a broken link is named', async () => {
    const statement = JSON.parse(JSON.stringify(await buildStatement(source(), { serial: 'L-A', now: new Date() })));
    const key = { publicKeys: rt.checkpoints.publicKeyPem, catalogue: rt.catalogue };
    const changed = JSON.parse(JSON.stringify(statement));
    changed.events[0].data.model = 'Mavic 4';
    expect(verifyStatement(changed, key)).toMatchObject({ ok: false, reason: chain === 'global' ? expect.stringMatching(/does not match its hash/) : expect.stringMatching(/changed after it was attested/) });
    const unlinked = JSON.parse(JSON.stringify(statement));
    const second = unlinked.events.findIndex((e: { revision: number }) => e.revision > 0);
    unlinked.events[second].previousHash = 'c'.repeat(64);
    expect(verifyStatement(unlinked, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match its hash|do not link/) });
    // a key given that is not the node's; no key at all
    expect(verifyStatement(statement, { ...key, publicKeys: 'not a key' })).toMatchObject({ ok: false, reason: expect.stringMatching(/holds no PEM public key/) });
    expect(verifyStatement(statement, { catalogue: rt.catalogue })).toMatchObject({ ok: false, reason: expect.stringMatching(/no public key/) });
    expect(verifyStatement(statement, { catalogue: rt.catalogue, useEmbeddedKey: true })).toMatchObject({ ok: true, key: { source: 'embedded' } });
    // not a statement at all
    expect(verifyStatement([1, 2], key)).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(verifyStatement({ format: 'something-else' }, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/not a careledger-statement\/v1 statement/) });
  });
});
