/**
 * The event stores a test can run on here: SQLite always (a temporary file), PostgreSQL when
 * CARELEDGER_DATABASE_URL names a server on this machine (a schema of its own, dropped after).
 * Suites that use it say when PostgreSQL is skipped.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EventStore, openPostgresEventStore, openSqliteEventStore } from '@careledger/event-store';

/** Where a test store lives, for a child process that opens it as another node. */
export type TestStoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };

export interface TestStore {
  store: EventStore;
  /** A directory for the node's own files (read store, keys). */
  dir: string;
  /** Another connection to the same store: a second node. The caller closes it. */
  connect(): Promise<EventStore>;
  location: TestStoreLocation;
  cleanup(): Promise<void>;
}

/** Opens a store at a location (a child process playing another node). */
export async function openTestStoreAt(location: TestStoreLocation): Promise<EventStore> {
  return location.kind === 'sqlite'
    ? openSqliteEventStore({ path: location.path })
    : openPostgresEventStore({ connectionString: location.url, schema: location.schema, poolSize: 4 });
}

export type TestStoreFactory = () => Promise<TestStore>;

export const postgresUrl = (): string | null => {
  const url = process.env.CARELEDGER_DATABASE_URL;
  if (!url) return null;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname) ? url : null;
  } catch {
    return null;
  }
};

export function testStores(suite: string): [string, TestStoreFactory][] {
  const stores: [string, TestStoreFactory][] = [
    [
      'sqlite',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'careledger-test-'));
        const location: TestStoreLocation = { kind: 'sqlite', path: join(dir, 'events.sqlite') };
        const store = await openTestStoreAt(location);
        return { store, dir, location, connect: () => openTestStoreAt(location), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    ],
  ];
  const url = postgresUrl();
  if (url) {
    stores.push([
      'postgres',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'careledger-test-'));
        const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
        const location: TestStoreLocation = { kind: 'postgres', url, schema };
        const store = await openTestStoreAt(location);
        return {
          store,
          dir,
          location,
          connect: () => openTestStoreAt(location),
          cleanup: async () => {
            rmSync(dir, { recursive: true, force: true });
            const client = new Client({ connectionString: url });
            await client.connect();
            try {
              await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
            } finally {
              await client.end();
            }
          },
        };
      },
    ]);
  } else {
    console.warn(`${suite} on PostgreSQL skipped: CARELEDGER_DATABASE_URL is not set to a server on this machine (eval "$(bash .ci/postgres.sh)" starts one).`);
  }
  return stores;
}
