/**
 * Read-model tables. Every table name carries a prefix so that a rebuild can fill a fresh set
 * (`rmb_`) while queries keep reading the live one (`rm_`), then swap them in one transaction.
 */
import type Database from 'better-sqlite3';

export const LIVE = 'rm_';
export const BUILD = 'rmb_';

export const TABLES = ['events', 'links', 'plans', 'units', 'orders', 'claims', 'centers', 'entitlements', 'checkpoint'] as const;

/**
 * Creates the tables. A rebuild leaves out the indexes that only queries use (`secondaryIndexes:
 * false`) and builds them once the bulk of the log is in (createSecondaryIndexes): one sort per
 * index instead of a random B-tree insert per event.
 */
export function createSchema(db: Database.Database, p: string, options: { secondaryIndexes?: boolean; indexTag?: string } = {}): void {
  // a rebuild's swap renames tables, not indexes: the live tables then carry the build's index
  // names, so creating the live schema again must not add a second copy of each index
  if (p === LIVE && tableExists(db, `${LIVE}events`)) return;
  const i = `${p}${options.indexTag ?? ''}`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${p}events (
      position INTEGER PRIMARY KEY,
      event_id TEXT NOT NULL UNIQUE,
      stream_id TEXT NOT NULL,
      revision INTEGER NOT NULL,
      type TEXT NOT NULL,
      occurred_at TEXT,
      recorded_at TEXT NOT NULL,
      recorded_ms INTEGER NOT NULL,
      actor TEXT,
      correlation_id TEXT,
      causation_id TEXT,
      data TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${i}events_stream ON ${p}events(stream_id, revision);
    CREATE TABLE IF NOT EXISTS ${p}links (
      key TEXT NOT NULL,
      position INTEGER NOT NULL,
      PRIMARY KEY (key, position)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${p}plans (
      plan_id TEXT PRIMARY KEY,
      model TEXT NOT NULL,
      region TEXT NOT NULL,
      term TEXT NOT NULL,
      channel TEXT NOT NULL,
      serial TEXT,
      order_id TEXT NOT NULL,
      purchased_at TEXT NOT NULL,
      effective_date TEXT,
      reward_due_ms INTEGER,
      reward_done INTEGER NOT NULL DEFAULT 0,
      last_position INTEGER NOT NULL DEFAULT 0,
      reward_checked_position INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS ${i}plans_serial ON ${p}plans(serial);
    CREATE TABLE IF NOT EXISTS ${p}units (
      serial TEXT PRIMARY KEY,
      plan_id TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${i}units_plan ON ${p}units(plan_id);
    CREATE TABLE IF NOT EXISTS ${p}orders (
      order_id TEXT PRIMARY KEY,
      plan_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      event_id TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${p}claims (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      claim_id TEXT NOT NULL UNIQUE,
      plan_id TEXT NOT NULL,
      claim_ref TEXT NOT NULL,
      center_id TEXT NOT NULL,
      serial TEXT NOT NULL,
      kind TEXT NOT NULL,
      cause TEXT NOT NULL,
      express INTEGER NOT NULL,
      status TEXT NOT NULL,
      incident_at TEXT NOT NULL,
      opened_at TEXT NOT NULL,
      opened_ms INTEGER NOT NULL,
      opened_date TEXT NOT NULL,
      approved_at TEXT,
      ordinal INTEGER,
      fee_amount TEXT,
      fee_currency TEXT,
      paid_amount TEXT,
      paid_currency TEXT,
      paid_at TEXT,
      fulfilled_at TEXT,
      fulfilled_ms INTEGER,
      replacement_serial TEXT,
      closed_at TEXT
    );
    CREATE INDEX IF NOT EXISTS ${i}claims_plan ON ${p}claims(plan_id);
    CREATE UNIQUE INDEX IF NOT EXISTS ${i}claims_ref ON ${p}claims(center_id, claim_ref);
    CREATE TABLE IF NOT EXISTS ${p}centers (
      center_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      region TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${p}entitlements (
      serial TEXT PRIMARY KEY,
      view TEXT NOT NULL,
      source_position INTEGER NOT NULL,
      valid_until_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${p}checkpoint (
      name TEXT PRIMARY KEY,
      position INTEGER NOT NULL
    );
  `);
  if (options.secondaryIndexes !== false) createSecondaryIndexes(db, p, options.indexTag);
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Indexes no projection step reads (audit filters, the reward sweep, dashboards). */
export function createSecondaryIndexes(db: Database.Database, p: string, indexTag = ''): void {
  const i = `${p}${indexTag}`;
  db.exec(`
    CREATE INDEX IF NOT EXISTS ${i}events_type ON ${p}events(type, position);
    CREATE INDEX IF NOT EXISTS ${i}events_actor ON ${p}events(actor, position);
    CREATE INDEX IF NOT EXISTS ${i}events_recorded ON ${p}events(recorded_ms, position);
    CREATE INDEX IF NOT EXISTS ${i}plans_reward ON ${p}plans(reward_done, reward_due_ms);
    CREATE INDEX IF NOT EXISTS ${i}claims_center ON ${p}claims(center_id, seq);
    CREATE INDEX IF NOT EXISTS ${i}claims_center_date ON ${p}claims(center_id, opened_date);
  `);
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
