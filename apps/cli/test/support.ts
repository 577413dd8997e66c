/**
 * What the CLI's tests share: running `careledger` as a child process (the TypeScript sources
 * through libs/testing/register.js, as cli.e2e.spec.ts does), a small real ledger, and the two ways
 * an attacker changes a SQLite log behind the store's back (one row edited; the chain rewritten
 * with every hash recomputed from some position on).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { serviceCenterStream } from '@careledger/domain';
import { eventHash } from '@careledger/event-store';
import type { Runtime } from '@careledger/runtime';

export const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'apps', 'cli', 'src', 'main.ts');
const REGISTER = join(ROOT, 'libs', 'testing', 'register.js');
const RUN_TIMEOUT_MS = 30_000;

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A Node stack frame ("    at fn (file.ts:12:3)"): never shown to an operator. */
export const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** The environment of an operator who set nothing: no store, key, catalogue or EventStoreDB variables. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(CARELEDGER_|EVENTSTORE_)/.test(key)) env[key] = value;
  return { ...env, ...extra };
}

/** `careledger ARGS` in `cwd`; `stopReadingAfter` closes our end of its stdout after that many characters (like `| head -c N`). */
export function careledger(args: string[], cwd: string, env: Record<string, string> = {}, opts: { stopReadingAfter?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', REGISTER, MAIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`careledger ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (opts.stopReadingAfter !== undefined && stdout.length >= opts.stopReadingAfter) child.stdout.destroy();
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const ctx = { actor: 'test', correlationId: 'cli-test' };

/** A plan for `serial` with a damage claim approved (its fee is the fact an attacker would like to change). */
export async function planWithApprovedClaim(rt: Runtime, serial: string): Promise<void> {
  if ((await rt.store.readStream(serviceCenterStream('SC-1'))).length === 0) {
    await rt.ledger.execute({ type: 'RegisterServiceCenter', centerId: 'SC-1', name: 'Center one', region: 'US', at: '2024-01-01T00:00:00Z' }, ctx);
  }
  await rt.ledger.execute({
    type: 'PurchasePlan', planId: `P-${serial}`, term: '1y', model: 'Mavic 3', region: 'US', channel: 'online',
    purchasedAt: '2024-03-10T10:00:00Z', orderId: `O-${serial}`, serial, deliveredAt: null, price: null,
  }, ctx);
  await rt.ledger.execute({
    type: 'OpenClaim', claimId: `C-${serial}`, claimRef: `R-${serial}`, serial, kind: 'damage', cause: 'collision',
    incidentAt: '2024-05-01T10:00:00Z', openedAt: '2024-05-01T10:00:00Z', serviceCenterId: 'SC-1', express: false, flightRecordsSynced: false,
  }, ctx);
  await rt.ledger.execute({ type: 'ApproveClaim', planId: `P-${serial}`, claimId: `C-${serial}`, at: '2024-05-02T10:00:00Z' }, ctx);
}

interface Row {
  position: number;
  event_id: Buffer;
  stream_id: string;
  revision: number;
  type: string;
  recorded_at: string;
  data: string;
  metadata: string;
}

const idOf = (raw: Buffer) => {
  const hex = raw.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The position of the first event of `type` in the file. */
export function positionOf(path: string, type: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT position FROM events WHERE type = ? ORDER BY position LIMIT 1').get(type) as { position: number }).position;
  } finally {
    db.close();
  }
}

/**
 * Changes the data of events from `from` on behind the store's back (its triggers dropped; they come
 * back when the store opens). `rehash` recomputes every hash from `from` on (a consistent rewrite,
 * which the chain alone cannot tell); without it the hashes stay as they were (a plain edit).
 */
export function tamper(path: string, from: number, change: (row: Row) => string | null, options: { rehash: boolean }): number {
  const db = new Database(path);
  let changed = 0;
  try {
    db.exec('DROP TRIGGER IF EXISTS events_are_immutable_update; DROP TRIGGER IF EXISTS events_are_immutable_delete');
    const rows = db.prepare('SELECT * FROM events WHERE position >= ? ORDER BY position').all(from) as Row[];
    const before = db.prepare('SELECT hash FROM events WHERE position < ? ORDER BY position DESC LIMIT 1').get(from) as { hash: Buffer } | undefined;
    let previous = before ? before.hash.toString('hex') : 'careledger:event-store:genesis:v1';
    const update = db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = ?');
    const updateData = db.prepare('UPDATE events SET data = ? WHERE position = ?');
    for (const r of rows) {
      const next = change(r);
      if (next !== null && next !== r.data) changed++;
      const data = next ?? r.data;
      if (!options.rehash) {
        if (next !== null) updateData.run(data, r.position);
        continue;
      }
      const hash = eventHash(previous, {
        position: BigInt(r.position), eventId: idOf(r.event_id), streamId: r.stream_id, revision: r.revision, type: r.type,
        recordedAt: r.recorded_at, data, metadata: r.metadata,
      });
      update.run(data, Buffer.from(hash, 'hex'), r.position);
      previous = hash;
    }
  } finally {
    db.close();
  }
  return changed;
}

/** The fee of every ClaimApproved from `from` on, forged to 1.00. */
export function forgeFees(path: string, from: number, rehash: boolean): number {
  return tamper(path, from, (row) => (row.type === 'ClaimApproved' ? row.data.replace(/"amount":"[0-9.]+"/, '"amount":"1.00"') : null), { rehash });
}
