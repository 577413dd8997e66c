/**
 * `careledger export` on EventStoreDB, whose hashes chain each stream on its own (not the global
 * chain SQLite and PostgreSQL keep) and whose positions are byte offsets with gaps: the export must
 * be one that `careledger import` restores into an embedded store. No EventStoreDB server runs
 * here: the real adapter runs over the event-store library's in-memory stand-in of the client
 * (libs/event-store/src/eventstoredb/__fixtures__), the real Ledger writes a small life into it,
 * exportLog (what `careledger export` runs) writes the file, and the real CLI imports it.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCatalogue, foldEntitlements, gatherUnit } from '@careledger/domain';
import { EventStoreDbEventStore, openSqliteEventStore, type EventStoreDbClientCalls, type StoredEvent } from '@careledger/event-store';
import { EventStoreDbStandIn } from '@careledger/event-store/eventstoredb/__fixtures__/eventstoredb-stand-in';
import { Ledger } from '@careledger/ledger';
import { systemClock } from '@careledger/event-store';
import { exportLine, exportLog } from '../src/export';
import { eventsAfter } from '../src/progress';
import { careledger } from './support';

let dir: string;
let esdb: EventStoreDbEventStore;

const ctx = { actor: 'test', correlationId: 'export-esdb' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'careledger-cli-export-esdb-'));
  esdb = new EventStoreDbEventStore(new EventStoreDbStandIn() as unknown as EventStoreDbClientCalls, { connectionString: 'esdb://127.0.0.1:2113?tls=false', readTimeoutMs: 2000 });
  const ledger = new Ledger(esdb, defaultCatalogue(), systemClock);
  await ledger.execute({ type: 'RegisterServiceCenter', centerId: 'SC-1', name: 'Center one', region: 'US', at: '2024-01-01T00:00:00Z' }, ctx);
  await ledger.execute({ type: 'ActivateDevice', serial: 'E1', model: 'Mavic 3', region: 'US', activatedAt: '2024-03-01T10:00:00Z' }, ctx);
  for (const serial of ['E1', 'E2']) {
    await ledger.execute({
      type: 'PurchasePlan', planId: `P-${serial}`, term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
      purchasedAt: '2024-03-02T10:00:00Z', orderId: `O-${serial}`, serial, deliveredAt: null, price: null,
    }, ctx);
  }
  await ledger.execute({
    type: 'OpenClaim', claimId: 'C-E1', claimRef: 'R-E1', serial: 'E1', kind: 'damage', cause: 'collision',
    incidentAt: '2024-05-01T10:00:00Z', openedAt: '2024-05-01T10:00:00Z', serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false,
  }, ctx);
  await ledger.execute({ type: 'ApproveClaim', planId: 'P-E1', claimId: 'C-E1', at: '2024-05-02T10:00:00Z' }, ctx);
  // a refusal is a fact in the log too
  await expect(ledger.execute({ type: 'ApproveClaim', planId: 'P-E1', claimId: 'C-E1', at: '2024-05-03T10:00:00Z' }, ctx)).rejects.toThrow();
});

afterAll(async () => {
  await esdb.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exportTo(file: string): Promise<number> {
  const out = createWriteStream(file);
  const { exported } = await exportLog(esdb, out);
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return exported;
}

describe('careledger export on a per-stream-hash store (EventStoreDB)', () => {
  test('the export leaves the per-stream hashes out; import recomputes the global chain and restores every event', async () => {
    const log = await esdb.readAll();
    expect(esdb.capabilities.globalChain).toBe(false);
    expect(log.every((e) => typeof e.hash === 'string')).toBe(true);
    // positions are byte offsets: not counts
    expect(Number(log[log.length - 1].position)).toBeGreaterThan(log.length * 10);

    const file = join(dir, 'esdb.ndjson');
    expect(await exportTo(file)).toBe(log.length);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(log.length);
    expect(lines.some((l) => 'hash' in l || 'hashedMetadata' in l)).toBe(false);
    expect(lines.map((l) => l.position)).toEqual(log.map((e) => e.position.toString()));

    const target = join(dir, 'restored', 'ledger.sqlite');
    const imported = await careledger(['import', '--in', file, '--db', target], dir);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: log.length, ok: true });
    const verified = await careledger(['verify', '--db', target], dir);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, events: log.length });

    // the restored log is the same log: same events, same positions, same entitlement view
    const sqlite = openSqliteEventStore({ path: target });
    try {
      const restored = await sqlite.readAll();
      const strip = (e: StoredEvent) => ({ eventId: e.eventId, streamId: e.streamId, revision: e.revision, position: e.position, type: e.type, data: e.data, metadata: e.metadata });
      expect(restored.map(strip)).toEqual(log.map(strip));
      const catalogue = defaultCatalogue();
      const view = async (read: (s: string) => Promise<StoredEvent[]>) => {
        const g = await gatherUnit(catalogue, 'E1', read);
        const { explanation: _e, ...rest } = foldEntitlements(catalogue, g.events, { serial: 'E1', at: '2024-06-01', knownAt: null, now: '2024-06-01T00:00:00Z' });
        return rest;
      };
      expect(await view((s) => sqlite.readStream(s))).toEqual(await view((s) => esdb.readStream(s)));
      // positions with gaps: the store counts events, not positions (what the progress bars show)
      expect(await eventsAfter(sqlite)).toBe(log.length);
      expect(await sqlite.headPosition()).toBe(log[log.length - 1].position);
      // the global chain import recomputes is EventStoreDB's rolling hash: a checkpoint signed there holds here
      expect(await sqlite.head()).toEqual(await esdb.head());
      const middle = log[Math.floor(log.length / 2)].position;
      expect(await sqlite.hashAt(middle)).toBe(await esdb.hashAt(middle));
    } finally {
      await sqlite.close();
    }
  });

  test('kept, the per-stream hashes would make import refuse the export (what leaving them out fixes)', async () => {
    const log = await esdb.readAll();
    const file = join(dir, 'with-hashes.ndjson');
    writeFileSync(file, log.map((e) => exportLine(e, true)).join(''));
    const ran = await careledger(['import', '--in', file, '--db', join(dir, 'refused', 'ledger.sqlite')], dir);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/hash mismatch at position/);
  });

  test('exportLine keeps the hash of a global chain and drops a per-stream one', () => {
    const e: StoredEvent = {
      eventId: 'a0000000-0000-4000-8000-000000000001', type: 'DeviceActivated', streamId: 'device-X', revision: 0, position: 7n,
      data: { serial: 'X' }, metadata: { occurredAt: '2024-01-01T00:00:00Z', recordedAt: '2024-01-01T00:00:00.000Z', actor: 'a', correlationId: 'c' },
      hash: 'ab'.repeat(32), hashedMetadata: '{}',
    };
    expect(JSON.parse(exportLine(e, true))).toMatchObject({ position: '7', hash: 'ab'.repeat(32), hashedMetadata: '{}' });
    const perStream = JSON.parse(exportLine(e, false));
    expect(perStream).toMatchObject({ position: '7', eventId: e.eventId, data: { serial: 'X' } });
    expect(perStream).not.toHaveProperty('hash');
    expect(perStream).not.toHaveProperty('hashedMetadata');
  });

  test('export --help documents it', async () => {
    const ran = await careledger(['export', '--help'], dir);
    expect(ran.stdout).toMatch(/On EventStoreDB each stream has its own chain: those hashes are left out \(`import` recomputes the global\nchain\)/);
  });
});
