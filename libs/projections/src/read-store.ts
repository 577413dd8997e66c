/**
 * The node's read store: one SQLite file of rebuildable read models, one module per model
 * (models/*: its tables, its evolve, its queries). Every table name carries a prefix so that a
 * rebuild can fill a fresh set (`rmb_`) while queries keep reading the live one (`rm_`), then swap
 * them in one transaction. The checkpoint names the position AND the chain hash of the last event
 * applied, so a node can tell whether the log it follows is still the log its read models came from.
 */
import Database from 'better-sqlite3';
import { createOwnerOnly } from '@careledger/event-store';
import { MODELS } from './models';

export const LIVE = 'rm_';
export const BUILD = 'rmb_';

export const TABLES: readonly string[] = ['checkpoint', ...MODELS.flatMap((m) => m.tables)];

/** The read models' schema version: a read store of another version is rebuilt, not migrated. */
export const READ_SCHEMA_VERSION = 3;

export interface Checkpoint {
  position: bigint;
  /** The chain hash of the event at `position` ('' before the first event). */
  hash: string;
}

/** Opens (creating) a read store file with the pragmas the node uses. */
export function openReadStore(path: string): Database.Database {
  createOwnerOnly(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536'); // 64 MiB: the read models are read on every request
  return db;
}

/**
 * Creates the tables. A rebuild leaves out the indexes that only queries use (`secondaryIndexes:
 * false`) and builds them once the bulk of the log is in (createSecondaryIndexes): one sort per
 * index instead of a random B-tree insert per event. A live schema of an older version is dropped
 * (read models are rebuildable; the runner then projects the log from the start).
 */
export function createSchema(db: Database.Database, p: string, options: { secondaryIndexes?: boolean; indexTag?: string } = {}): void {
  if (p === LIVE) {
    db.exec('CREATE TABLE IF NOT EXISTS read_store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.prepare<[], { value: string }>("SELECT value FROM read_store_meta WHERE key = 'schema_version'").get();
    if (row && Number(row.value) === READ_SCHEMA_VERSION && tableExists(db, `${LIVE}checkpoint`)) return;
    // a rebuild's swap renames tables, not indexes: the live tables carry the build's index names
    dropAllWithPrefix(db, LIVE);
    db.prepare("INSERT INTO read_store_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(READ_SCHEMA_VERSION));
  }
  const i = `${p}${options.indexTag ?? ''}`;
  db.exec(`CREATE TABLE IF NOT EXISTS ${p}checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL, hash TEXT NOT NULL);`);
  for (const model of MODELS) db.exec(model.schema(p, i));
  if (options.secondaryIndexes !== false) createSecondaryIndexes(db, p, options.indexTag);
}

/** Indexes no projection step reads (audit filters, the reward sweep, dashboards). */
export function createSecondaryIndexes(db: Database.Database, p: string, indexTag = ''): void {
  const i = `${p}${indexTag}`;
  for (const model of MODELS) db.exec(model.queryIndexes(p, i));
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function dropAllWithPrefix(db: Database.Database, p: string): void {
  const tables = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`).all();
  for (const { name } of tables) if (name.startsWith(p)) db.exec(`DROP TABLE IF EXISTS "${name}"`);
}

export function dropSchema(db: Database.Database, p: string): void {
  for (const t of TABLES) db.exec(`DROP TABLE IF EXISTS ${p}${t}`);
}

/**
 * Renames the build tables over the live ones (inside the caller's transaction). Indexes follow
 * their tables and keep the build's names (tagged per rebuild, so the next rebuild's never clash);
 * nothing is re-indexed while the write lock is held.
 */
export function swapIn(db: Database.Database): void {
  dropSchema(db, LIVE);
  for (const t of TABLES) db.exec(`ALTER TABLE ${BUILD}${t} RENAME TO ${LIVE}${t}`);
}

export function readCheckpoint(db: Database.Database, p: string): Checkpoint {
  const row = db.prepare<[], { position: number | bigint; hash: string }>(`SELECT position, hash FROM ${p}checkpoint WHERE name = 'main'`).get();
  return { position: BigInt(row?.position ?? 0), hash: row?.hash ?? '' };
}

export function writeCheckpoint(db: Database.Database, p: string, checkpoint: Checkpoint): void {
  db.prepare(`INSERT INTO ${p}checkpoint (name, position, hash) VALUES ('main', ?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position, hash = excluded.hash`)
    .run(checkpoint.position, checkpoint.hash);
}
