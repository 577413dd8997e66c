/**
 * The SQLite log's hash chain: how a row's hash is made, and the walk that recomputes it. Used by
 * the appender (to stamp rows), by the import, and by the verifier (in a worker thread).
 */
import type Database from 'better-sqlite3';
import { eventHash, GENESIS_HASH } from '../hash';
import type { ChainPoint, IntegrityReport } from '../port';
import { hashText, idText } from './codec';

/** A row as stored: since schema 3 the id is 16 bytes (a UUID) and the hash 32 bytes (codec.ts). */
export interface EventRow {
  position: bigint;
  event_id: Buffer | string;
  stream_id: string;
  revision: bigint;
  type: string;
  data: string;
  /** The canonical JSON that was hashed (since schema 3 without recordedAt: the column has it). */
  metadata: string;
  recorded_at: string;
  hash: Buffer | string;
}

export function rowHash(previousHash: string, row: Omit<EventRow, 'hash'>): string {
  return eventHash(previousHash, {
    position: row.position,
    eventId: idText(row.event_id),
    streamId: row.stream_id,
    revision: Number(row.revision),
    type: row.type,
    recordedAt: row.recorded_at,
    data: row.data,
    metadata: row.metadata,
  });
}

export const GENESIS: ChainPoint = { position: 0n, hash: GENESIS_HASH };

/**
 * Walks the log after `from` in position order, `batchSize` rows at a time, recomputing the chain.
 * A changed row breaks its own hash; a removed or reordered row breaks the next one, because every
 * hash covers the previous one and the row's own position. `from` must itself still be in the log
 * with the same hash (a log truncated or rewritten under it is reported at `from`).
 */
export function walkChain(
  db: Database.Database,
  from: ChainPoint,
  batchSize: number,
  onBatch: (progress: { events: number; position: bigint }) => void,
): IntegrityReport {
  const page = db.prepare<[bigint, number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?');
  let previous = from.hash;
  let verified: ChainPoint = from;
  if (from.position > 0n) {
    const anchor = db.prepare<[bigint], { hash: Buffer | string }>('SELECT hash FROM events WHERE position = ?').get(from.position);
    if (!anchor || hashText(anchor.hash) !== from.hash) {
      return { events: 0, ok: false, firstBrokenPosition: from.position, verifiedUpTo: GENESIS };
    }
  }
  let events = 0;
  for (;;) {
    const batch = page.all(verified.position, batchSize);
    for (const row of batch) {
      events += 1;
      const stored = hashText(row.hash);
      if (rowHash(previous, row) !== stored) return { events, ok: false, firstBrokenPosition: row.position, verifiedUpTo: verified };
      previous = stored;
      verified = { position: row.position, hash: stored };
    }
    if (batch.length > 0) onBatch({ events, position: verified.position });
    if (batch.length < batchSize) return { events, ok: true, firstBrokenPosition: null, verifiedUpTo: verified };
  }
}
