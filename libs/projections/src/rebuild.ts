/**
 * Full rebuild: project the whole log into fresh tables (prefix rmb_) while the live ones keep
 * answering, then catch up on what arrived meanwhile and swap the fresh tables in, all under one
 * write transaction so no event falls between the two.
 */
import type Database from 'better-sqlite3';
import { Catalogue } from '@careledger/domain';
import { EventStore } from '@careledger/event-store';
import { BUILD, createSchema, createSecondaryIndexes, dropSchema, swapIn } from './read-store';
import { ProjectionRunner } from './runner';

export interface RebuildProgress {
  position: bigint;
  head: bigint;
  events: number;
}

export interface RebuildResult {
  events: number;
  position: bigint;
  ms: number;
}

export async function rebuild(
  store: EventStore,
  db: Database.Database,
  catalogue: Catalogue,
  options: { batchSize?: number; cacheMiB?: number; onProgress?: (p: RebuildProgress) => void } = {},
): Promise<RebuildResult> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 5000;
  // the fresh tables' indexes take random inserts (serials, event ids): with SQLite's default 2 MiB
  // page cache nearly every insert misses it; give this connection a bigger one while it builds
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  db.pragma(`cache_size = ${-(options.cacheMiB ?? 64) * 1024}`);
  try {
    dropSchema(db, BUILD);
    const indexTag = `g${Date.now().toString(36)}_`;
    createSchema(db, BUILD, { secondaryIndexes: false, indexTag });
    // the fresh tables have no cached views to invalidate
    const builder = new ProjectionRunner(store, db, catalogue, BUILD, { batchSize, invalidateCache: false });
    let events = 0;
    const head = await store.headPosition();
    const drain = async () => {
      for (;;) {
        const batch = await store.readAll({ after: builder.checkpoint === 0n ? null : builder.checkpoint, maxCount: batchSize });
        if (batch.length === 0) return;
        builder.applyBatch(batch);
        events += batch.length;
        options.onProgress?.({ position: builder.checkpoint, head, events });
      }
    };
    await drain();
    createSecondaryIndexes(db, BUILD, indexTag);
    db.exec('BEGIN IMMEDIATE');
    try {
      await drain();
      swapIn(db);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
    return { events, position: builder.checkpoint, ms: performance.now() - started };
  } finally {
    db.pragma(`cache_size = ${cacheSize}`);
  }
}
