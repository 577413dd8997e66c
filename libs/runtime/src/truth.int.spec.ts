/**
 * "The log is the only truth", on real SQLite files: a command's events and its decision commit
 * together or not at all (a node SIGKILLed under load, many rounds); an edited refusal is caught
 * by verify; a log restored from an older backup under a kept read store is detected at start and
 * nothing is acknowledged into the void; saved signed checkpoints catch a truncated tail and a
 * consistent rewrite of the chain; an old data directory's decision log and idempotency records
 * are carried into the log once.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Refusal } from '@careledger/domain';
import { eventHash, openSqliteEventStore, StoredEvent } from '@careledger/event-store';
import { COMMAND_REFUSED, decisionEventIds, isAcceptedDecision, ReplayedRefusal } from '@careledger/ledger';
import { checkSavedCheckpoints } from './checkpoints';
import { Runtime } from './runtime';
import type { SignedCheckpoint } from './signing';

const ROOT = join(__dirname, '..', '..', '..');
const ctx = { actor: 'test', correlationId: 'c' };
const purchase = (serial: string, purchasedAt = '2024-03-10T10:00:00Z') => ({
  type: 'PurchasePlan' as const, planId: `P-${serial}`, term: '1y', model: 'Mavic 3', region: 'US' as const, channel: 'online' as const,
  purchasedAt, orderId: `O-${serial}`, serial, deliveredAt: null, price: null,
});

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'careledger-truth-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (options: Partial<Parameters<typeof Runtime.open>[0]> = {}) =>
  Runtime.open({ dbPath: join(dir, 'store.sqlite'), readDbPath: join(dir, 'read.sqlite'), signingKeyDefaultFile: join(dir, 'key.pem'), ...options });

/** Rewrites rows behind the store's back (its triggers dropped), recomputing the chain from `from` on. */
function rewrite(path: string, from: number, change: (row: { position: number; type: string; data: string }) => string | null): void {
  const db = new Database(path);
  try {
    db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update; DROP TRIGGER IF EXISTS events_are_immutable_delete');
    const rows = db.prepare('SELECT * FROM events WHERE position >= ? ORDER BY position').all(from) as Record<string, never>[];
    let previous = (db.prepare('SELECT hex(hash) AS hash FROM events WHERE position = ?').get(from - 1) as { hash: string } | undefined)?.hash.toLowerCase() ?? 'careledger:event-store:genesis:v1';
    const update = db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = ?');
    for (const row of rows) {
      const r = row as unknown as { position: number; event_id: Buffer; stream_id: string; revision: number; type: string; recorded_at: string; data: string; metadata: string };
      const data = change(r) ?? r.data;
      const hex = r.event_id.toString('hex');
      const eventId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const hash = eventHash(previous, { position: BigInt(r.position), eventId, streamId: r.stream_id, revision: r.revision, type: r.type, recordedAt: r.recorded_at, data, metadata: r.metadata });
      update.run(data, hash, r.position);
      previous = hash;
    }
  } finally {
    db.close();
  }
}

describe('the log is the only truth (SQLite)', () => {
  test("SIGKILL under load: every command's events are in the log with their decision, or none of them, round after round", async () => {
    for (let round = 0; round < 6; round++) {
      const store = join(dir, `busy-${round}.sqlite`);
      const child = spawn(process.execPath, ['-r', join(ROOT, 'libs/testing/register.js'), join(__dirname, '__fixtures__', 'busy-node.fixture.ts'), store, join(dir, `busy-${round}.read.sqlite`), String(round)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const acked: string[] = [];
      let refusals = 0;
      let buffered = '';
      let stderr = '';
      const killAfter = 20 + round * 17;
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith('ok ')) acked.push(line.split(' ')[1]);
          else if (line.startsWith('refused ')) refusals++;
        }
        if (acked.length + refusals >= killAfter) child.kill('SIGKILL');
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });

      const s = openSqliteEventStore({ path: store });
      const events = await s.readAll();
      const byId = new Map(events.map((e) => [e.eventId, e]));
      // every decision is whole: its primary event lists its events, and every one of them is there
      const decided = new Map<string, StoredEvent>();
      for (const e of events) {
        const decision = e.metadata.decision;
        expect(decision).toBeTruthy(); // nothing in this log was written outside a decision
        if (isAcceptedDecision(decision)) {
          decided.set(e.eventId, e);
          // the primary names its other events; each is there and names the primary
          for (const id of decisionEventIds(e).slice(1)) expect(byId.get(id)?.metadata.decision?.id).toBe(e.eventId);
        } else if (e.type === COMMAND_REFUSED) decided.set(e.eventId, e);
        else {
          const primary = byId.get(String(decision!.id));
          expect(primary && isAcceptedDecision(primary.metadata.decision) && decisionEventIds(primary).includes(e.eventId)).toBe(true);
        }
      }
      // every command acknowledged before the kill is in the log
      for (const id of acked) expect(decided.has(id)).toBe(true);
      expect((await s.verifyIntegrity()).ok).toBe(true);
      await s.close();
    }
  }, 90_000);

  test('a refusal is a fact in the chain: editing it in the file is reported by verify', async () => {
    const rt = await open();
    await rt.ledger.execute({ type: 'ActivateDevice', serial: 'R1', model: 'Mavic 3', region: 'US', activatedAt: '2024-01-01T10:00:00Z' }, ctx);
    expect((await rt.verify()).ok).toBe(true);
    await expect(rt.ledger.execute(purchase('R1'), ctx)).rejects.toBeInstanceOf(Refusal);
    const refusal = (await rt.store.readAll()).find((e) => e.type === COMMAND_REFUSED)!;
    expect(refusal.data).toMatchObject({ code: 'PurchaseWindowClosed', rule: 'P4', command: 'PurchasePlan' });
    await rt.close();

    // flip the refusal behind the store's back (without recomputing the chain)
    const db = new Database(join(dir, 'store.sqlite'));
    db.exec('DROP TRIGGER events_are_immutable_update');
    db.prepare(`UPDATE events SET data = replace(data, '"PurchaseWindowClosed"', '"Accepted"') WHERE position = ?`).run(refusal.position);
    db.close();

    const again = await open();
    const incremental = await again.verify();
    expect(incremental).toMatchObject({ ok: false, firstBrokenPosition: refusal.position });
    expect(await again.verify({ full: true })).toMatchObject({ ok: false, firstBrokenPosition: refusal.position });
    await again.close();
  });

  test('a log restored from an older backup under a kept read store: detected at start, the read models rebuilt, nothing acknowledged into the void', async () => {
    const rt = await open();
    await rt.ledger.execute(purchase('T1'), ctx);
    await rt.close();
    copyFileSync(join(dir, 'store.sqlite'), join(dir, 'backup.sqlite'));
    const later = await open();
    await later.ledger.execute(purchase('T2'), ctx);
    await later.ledger.execute(purchase('T3'), ctx);
    expect(await later.consistentRead()).toBe(true);
    await later.close();
    // restore the older backup; the read store still reflects T2 and T3
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `store.sqlite${suffix}`), { force: true });
    copyFileSync(join(dir, 'backup.sqlite'), join(dir, 'store.sqlite'));

    const stopped = await open({ onDivergence: 'stop' });
    await waitFor(() => stopped.runner.state === 'diverged');
    expect(stopped.ready).toBe(false);
    expect(String((stopped.runner.lastError as Error).message)).toMatch(/position 3.*log ends at 2|truncated/);
    await expect(stopped.ledger.execute(purchase('T4'), ctx)).rejects.toThrow(/read models do not match the log/);
    expect(await stopped.consistentRead(undefined, 200)).toBe(false);
    await stopped.close();

    const rebuilt = await open();
    expect(await rebuilt.consistentRead()).toBe(true);
    expect(rebuilt.ready).toBe(true);
    const t4 = await rebuilt.ledger.execute(purchase('T4'), ctx);
    expect(await rebuilt.consistentRead(BigInt(t4.position))).toBe(true);
    expect(rebuilt.reads.plan('P-T4', new Date())).toMatchObject({ currentUnit: 'T4' });
    expect(rebuilt.reads.plan('P-T2', new Date())).toBeNull(); // gone with the restore, not served from the old read models
    await rebuilt.close();
  });

  test('saved signed checkpoints catch a truncated tail and a consistent rewrite of the chain', async () => {
    const rt = await open();
    await rt.ledger.execute(purchase('C1'), ctx);
    const first = (await rt.checkpoints.signHead())!;
    await rt.ledger.execute(purchase('C2'), ctx);
    const second = (await rt.checkpoints.signHead())!;
    expect(await rt.checkpoints.signHead()).toEqual(second); // the head did not move
    const saved: SignedCheckpoint[] = await rt.checkpoints.list(null, 100);
    expect(saved).toEqual([first, second]);
    const keys = await rt.checkpoints.keys();
    expect(await checkSavedCheckpoints(rt.store, saved, keys)).toEqual([
      { position: first.position, ok: true, problem: null, kind: null, found: first.hash },
      { position: second.position, ok: true, problem: null, kind: null, found: second.hash },
    ]);
    // a forged signature is refused
    const forged = { ...second, hash: 'f'.repeat(64) };
    expect((await checkSavedCheckpoints(rt.store, [forged], keys))[0]).toMatchObject({ ok: false, problem: 'the signature does not verify', kind: 'signature' });
    await rt.close();

    // a consistent rewrite from the first purchase on: every hash recomputed, verify alone is fooled
    rewrite(join(dir, 'store.sqlite'), 1, (row) => (row.type === 'PlanPurchased' ? row.data.replace('"O-C1"', '"O-FORGED"') : null));
    const rewritten = openSqliteEventStore({ path: join(dir, 'store.sqlite') });
    expect((await rewritten.verifyIntegrity()).ok).toBe(true);
    const checks = await checkSavedCheckpoints(rewritten, saved, keys);
    expect(checks.every((c) => !c.ok && /rewritten/.test(c.problem!))).toBe(true);
    await rewritten.close();

    // a truncated tail: the second checkpoint's position is gone
    const db = new Database(join(dir, 'store.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS events_are_immutable_delete');
    const deleted = db.prepare('DELETE FROM events WHERE position > ?').run(Number(first.position)).changes;
    db.close();
    expect(deleted).toBe(2);
    const short = openSqliteEventStore({ path: join(dir, 'store.sqlite') });
    const truncated = await checkSavedCheckpoints(short, saved, keys);
    expect(truncated[1]).toMatchObject({ ok: false });
    expect(truncated[1].problem).toMatch(/holds no event at position/);
    await short.close();
  });

  test('an old data directory: its decision log and idempotency records are carried into the log once', async () => {
    const path = join(dir, 'store.sqlite');
    const old = openSqliteEventStore({ path });
    await old.appendToStream('device-OLD1', [{ eventId: 'a0000000-0000-4000-8000-000000000001', type: 'DeviceActivated', data: { serial: 'OLD1', model: 'Mavic 3', region: 'US', activatedAt: '2024-01-01T10:00:00Z' }, metadata: { occurredAt: '2024-01-01T10:00:00Z', actor: 'device-registry', correlationId: 'r1' } }]);
    const db = old.database;
    db.exec(`CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, recorded_ms INTEGER NOT NULL, command TEXT NOT NULL, actor TEXT NOT NULL,
      correlation_id TEXT NOT NULL, outcome TEXT NOT NULL, code TEXT, rule TEXT, detail TEXT, serial TEXT, plan_id TEXT, claim_id TEXT, event_ids TEXT NOT NULL, position TEXT, request TEXT);
      CREATE TABLE idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, content_type TEXT NOT NULL, created_at TEXT NOT NULL);`);
    db.prepare(`INSERT INTO decisions (recorded_at, recorded_ms, command, actor, correlation_id, outcome, code, rule, detail, serial, plan_id, claim_id, event_ids, position, request)
      VALUES ('2024-01-01T10:00:00.001Z', 1704103200001, 'ActivateDevice', 'device-registry', 'r1', 'accepted', NULL, NULL, NULL, 'OLD1', NULL, NULL, '["a0000000-0000-4000-8000-000000000001"]', '1', '{}')`).run();
    db.prepare(`INSERT INTO decisions (recorded_at, recorded_ms, command, actor, correlation_id, outcome, code, rule, detail, serial, plan_id, claim_id, event_ids, position, request)
      VALUES ('2024-01-02T10:00:00.000Z', 1704189600000, 'PurchasePlan', 'sales', 'r2', 'refused', 'PurchaseWindowClosed', 'P4', 'too late', 'OLD1', 'P-OLD1', NULL, '[]', NULL, '{"body":{}}')`).run();
    db.prepare(`INSERT INTO idempotency VALUES ('idem:sales:k-old', 'fp', 422, ?, 'application/problem+json', '2024-01-02T10:00:00.000Z')`)
      .run(JSON.stringify({ type: 'x', title: 'Unprocessable Content', status: 422, detail: 'too late', code: 'PurchaseWindowClosed', rule: 'P4' }));
    await old.close();

    const rt = await open();
    expect(await rt.consistentRead()).toBe(true);
    const decisions = rt.reads.decisions.list({ limit: 10 });
    expect(decisions.map((d) => [d.command, d.outcome, d.code])).toEqual([
      ['ActivateDevice', 'accepted', null],
      ['PurchasePlan', 'refused', 'PurchaseWindowClosed'],
    ]);
    // the old key answers as before, to the same actor, from the log
    await expect(rt.ledger.execute(purchase('OLD1'), { actor: 'sales', tokenId: 't', correlationId: 'c', idempotencyKey: 'k-old', requestHash: 'fp' })).rejects.toBeInstanceOf(ReplayedRefusal);
    expect((await rt.verify({ full: true })).ok).toBe(true);
    const carried = (await rt.store.readAll()).filter((e) => e.streamId === 'decision-legacy').length;
    await rt.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'legacy_%' ORDER BY name`).all()).toEqual([
      { name: 'legacy_decisions_imported' }, { name: 'legacy_idempotency_imported' },
    ]);
    check.close();
    // a second start carries nothing again
    const again = await open();
    expect((await again.store.readAll()).filter((e) => e.streamId === 'decision-legacy')).toHaveLength(carried);
    await again.close();
    expect(existsSync(path)).toBe(true);
  });
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
