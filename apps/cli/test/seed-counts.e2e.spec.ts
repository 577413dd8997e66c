/**
 * seed counts the events it appended as they are appended (each command's events, each refusal
 * fact), in one process or several: positions are not counts on EventStoreDB or PostgreSQL, so
 * neither the progress bar nor the manifest subtracts positions. On a fresh SQLite store the count
 * must be exactly the events in it (the store is the judge here, where positions happen to count).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '@careledger/event-store';
import { careledger } from './support';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'careledger-cli-seed-counts-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function storedEvents(path: string): Promise<number> {
  const store = openSqliteEventStore({ path });
  try {
    return (await store.readAll()).length;
  } finally {
    await store.close();
  }
}

describe('seed counts events, not positions', () => {
  test.each([1, 2])('with %i worker(s): the manifest\'s events are the events in the store, refusal facts included', async (workers) => {
    const db = join(dir, `w${workers}`, 'ledger.sqlite');
    const ran = await careledger(['seed', '--db', db, '--devices', '30', '--workers', String(workers), '--quiet', '--no-project'], dir);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const summary = JSON.parse(ran.stdout) as { events: number; commands: number; refused: Record<string, number> };
    const manifest = JSON.parse(readFileSync(db.replace(/\.sqlite$/, '.seed.json'), 'utf8')) as { events: number };
    const stored = await storedEvents(db);
    expect({ summary: summary.events, manifest: manifest.events }).toEqual({ summary: stored, manifest: stored });
    expect(stored).toBeGreaterThan(summary.commands);
  }, 60_000);
});
