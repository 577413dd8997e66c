/**
 * The entitlement view of each unit, now, cached until the next date it names (a window bound, the
 * renewal deadline); dated and as-of views come from the domain fold over the unit's facts. The
 * cache is kept in columns: the view without its request-specific fields, and its explanation.
 */
import type Database from 'better-sqlite3';
import {
  Catalogue, EntitlementView, gatherUnit, instantInZone, instantMs, RecordedEvent, startOfDay, timeline, UnitFold,
} from '@careledger/domain';
import type { ReadModelSchema, StreamSource } from './model';
import { HistoryEntry, toHistoryEntry } from './log';

export const entitlementsSchema: ReadModelSchema = {
  name: 'entitlements',
  tables: ['entitlements'],
  schema: (p) => `
    CREATE TABLE IF NOT EXISTS ${p}entitlements (
      serial TEXT PRIMARY KEY,
      zone TEXT NOT NULL,
      view TEXT NOT NULL,
      explanation TEXT NOT NULL,
      source_position INTEGER NOT NULL,
      valid_until_ms INTEGER NOT NULL
    );`,
  queryIndexes: () => '',
};

/** Drops the cached views that applying events made stale. */
export class EntitlementsProjection {
  private readonly drop: Database.Statement<[string]>;

  constructor(db: Database.Database, p: string) {
    this.drop = db.prepare(`DELETE FROM ${p}entitlements WHERE serial = ?`);
  }

  invalidate(serials: Iterable<string>): void {
    for (const serial of serials) this.drop.run(serial);
  }
}

interface CachedRow {
  zone: string;
  view: string;
  /** Read only when asked for (it is larger than the view). */
  explanation?: string;
  valid_until_ms: number;
}

export interface EntitlementQuery {
  at?: string;
  knownAt?: string;
  now: Date;
  explain?: boolean;
}

/** A re-check at least this often, whatever the view names (catalogue or clock changes). */
const SAFETY_MS = 6 * 3_600_000;

/** How many events the per-unit folds may hold in memory, all units together (CARELEDGER_UNIT_CACHE_EVENTS). */
export const DEFAULT_UNIT_CACHE_EVENTS = 100_000;

/**
 * Per-unit folds kept in memory (UnitFold: the unit's events, folded once per knownAt and per set
 * of facts visible at an `at`), least recently used first out, bounded by their events. The runner
 * drops a unit's fold in the batch that changes its facts (forget), a rebuild drops them all
 * (clear); a fold gathered while a batch was applied is not kept (the generation moved on).
 */
export class UnitFolds {
  private readonly folds = new Map<string, UnitFold>();
  private events = 0;
  private generation = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxEvents = DEFAULT_UNIT_CACHE_EVENTS) {}

  /** The generation to hand back to `keep`: a fold gathered across a change is not kept. */
  get current(): number {
    return this.generation;
  }

  get(serial: string): UnitFold | undefined {
    const fold = this.folds.get(serial);
    if (!fold) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.folds.delete(serial);
    this.folds.set(serial, fold);
    return fold;
  }

  keep(fold: UnitFold, generation: number): void {
    if (generation !== this.generation || fold.size > this.maxEvents) return;
    this.drop(fold.serial);
    this.folds.set(fold.serial, fold);
    this.events += fold.size;
    for (const [serial] of this.folds) {
      if (this.events <= this.maxEvents) break;
      this.drop(serial);
    }
  }

  forget(serials: Iterable<string>): void {
    this.generation += 1;
    for (const serial of serials) this.drop(serial);
  }

  clear(): void {
    this.generation += 1;
    this.folds.clear();
    this.events = 0;
  }

  get size(): { units: number; events: number } {
    return { units: this.folds.size, events: this.events };
  }

  private drop(serial: string): void {
    const fold = this.folds.get(serial);
    if (!fold) return;
    this.folds.delete(serial);
    this.events -= fold.size;
  }
}

export class EntitlementQueries {
  private readonly cached: Database.Statement<[string], CachedRow>;
  private readonly cachedExplained: Database.Statement<[string], CachedRow>;
  private readonly store: Database.Statement<[string, string, string, string, number, number]>;

  constructor(
    db: Database.Database,
    private readonly catalogue: Catalogue,
    p: string,
    private readonly read: StreamSource,
    readonly folds: UnitFolds = new UnitFolds(),
  ) {
    this.cached = db.prepare(`SELECT zone, view, valid_until_ms FROM ${p}entitlements WHERE serial = ?`);
    this.cachedExplained = db.prepare(`SELECT zone, view, explanation, valid_until_ms FROM ${p}entitlements WHERE serial = ?`);
    this.store = db.prepare(`INSERT INTO ${p}entitlements (serial, zone, view, explanation, source_position, valid_until_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(serial) DO UPDATE SET zone = excluded.zone, view = excluded.view, explanation = excluded.explanation,
      source_position = excluded.source_position, valid_until_ms = excluded.valid_until_ms`);
  }

  /** Every event of the unit, its chain and the chain's units (what its views fold). */
  async unitEvents(serial: string): Promise<readonly RecordedEvent[]> {
    return (await this.fold(serial)).events;
  }

  /** The unit's fold: kept in memory, or gathered from the log copy (and kept when nothing changed meanwhile). */
  private async fold(serial: string): Promise<UnitFold> {
    const kept = this.folds.get(serial);
    if (kept) return kept;
    const generation = this.folds.current;
    const fold = new UnitFold(this.catalogue, serial, (await gatherUnit(this.catalogue, serial, this.read)).events);
    if (fold.size > 0) this.folds.keep(fold, generation);
    return fold;
  }

  /**
   * The unit's entitlements as JSON text, or null when the ledger has no record of it. Without
   * `at`/`knownAt` the answer comes from the cache while it is valid; with them, from the fold.
   */
  async entitlements(serial: string, q: EntitlementQuery, checkpoint: bigint): Promise<string | null> {
    const nowMs = q.now.getTime();
    const header = (at: string, knownAt: string) => `{"at":${JSON.stringify(at)},"knownAt":${JSON.stringify(knownAt)},"checkpoint":"${checkpoint}",`;
    const compose = (row: { view: string; explanation?: string }, at: string, knownAt: string) =>
      header(at, knownAt) + row.view.slice(1, -1) + (q.explain ? `,"explanation":${row.explanation}}` : '}');
    if (!q.at && !q.knownAt) {
      const hit = (q.explain ? this.cachedExplained : this.cached).get(serial);
      if (hit && nowMs < hit.valid_until_ms) return compose(hit, instantInZone(nowMs, hit.zone), q.now.toISOString());
    }
    const generation = this.folds.current;
    const fold = await this.fold(serial);
    if (fold.size === 0) return null;
    const view = fold.view({ serial, at: q.at, knownAt: q.knownAt, now: q.now.toISOString() });
    const { at, knownAt, explanation, ...rest } = view;
    const row = { view: JSON.stringify(rest), explanation: JSON.stringify(explanation) };
    // not when a batch changed facts while this was folded: the batch's invalidation came first
    if (!q.at && !q.knownAt && generation === this.folds.current) {
      this.store.run(serial, fold.zone, row.view, row.explanation, Number(checkpoint), validUntil(view, fold.events, nowMs, this.catalogue));
    }
    return compose(row, at, knownAt);
  }

  /** The view itself (the fold), for callers that need the object (statements). */
  async view(serial: string, q: { at?: string; knownAt?: string; now: Date }): Promise<{ view: EntitlementView; events: readonly RecordedEvent[] } | null> {
    const fold = await this.fold(serial);
    if (fold.size === 0) return null;
    return { view: fold.view({ serial, at: q.at, knownAt: q.knownAt, now: q.now.toISOString() }), events: fold.events };
  }

  /** Every event of the unit and its chain in global order, or null when the ledger has none. */
  async history(serial: string, knownAt?: string): Promise<HistoryEntry[] | null> {
    const limit = knownAt ? instantMs(knownAt) : Number.POSITIVE_INFINITY;
    const events = await this.unitEvents(serial);
    if (events.length === 0) return null;
    return events
      .filter((e) => Date.parse(e.metadata.recordedAt) <= limit)
      .sort((a, b) => (a.position < b.position ? -1 : 1))
      .map(toHistoryEntry);
  }

  /** The view after each event, as the ledger knew it when the event was recorded. */
  async timeline(serial: string, knownAt: string): Promise<ReturnType<typeof timeline> | null> {
    const events = await this.unitEvents(serial);
    if (events.length === 0) return null;
    return timeline(this.catalogue, events, serial, knownAt);
  }
}

/** The next instant at which the current view may change: the earliest date it names after now. */
function validUntil(view: EntitlementView, events: readonly RecordedEvent[], nowMs: number, catalogue: Catalogue): number {
  const zone = view.region ? catalogue.zone(view.region) : 'UTC';
  const dates = new Set<string>();
  const addWindow = (w: { from: string; until: string } | null) => {
    if (w) {
      dates.add(w.from);
      dates.add(w.until);
    }
  };
  for (const t of view.chain) addWindow(t);
  addWindow(view.replacement.window);
  addWindow(view.warranty.official);
  if (view.warranty.coveredUntil) dates.add(view.warranty.coveredUntil);
  for (const x of view.warranty.extensions) addWindow(x);
  addWindow(view.safeUseReward.window);
  let next = nowMs + SAFETY_MS;
  for (const d of dates) {
    const ms = startOfDay(d, zone);
    if (ms > nowMs && ms < next) next = ms;
  }
  if (view.renewal.deadline) {
    const ms = Date.parse(view.renewal.deadline);
    if (ms > nowMs && ms < next) next = ms;
  }
  for (const e of events) {
    const ms = Date.parse(e.metadata.occurredAt);
    if (Number.isFinite(ms) && ms > nowMs && ms < next) next = ms;
  }
  return next;
}
