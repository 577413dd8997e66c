/**
 * `careledger export`: the log as NDJSON, one event per line in position order, in the shape
 * `careledger import` (SqliteEventStore.importEvents) restores. A store with one global hash chain
 * (SQLite, PostgreSQL) exports each event's hash, and import checks it. EventStoreDB chains each
 * stream on its own: its hashes are not the global chain's, so import would refuse them ("hash
 * mismatch"); they are left out and import recomputes the global chain. EventStoreDB's positions
 * (byte offsets, with gaps) are kept: they only need to increase.
 */
import type { EventStore, StoredEvent } from '@careledger/event-store';

/** One event as an export line (with its newline), for a store with or without a global chain. */
export function exportLine(e: StoredEvent, globalChain: boolean): string {
  const { hash, hashedMetadata, ...rest } = e;
  const kept = globalChain ? { ...rest, ...(hash !== undefined ? { hash } : {}), ...(hashedMetadata !== undefined ? { hashedMetadata } : {}) } : rest;
  return JSON.stringify({ ...kept, position: e.position.toString() }) + '\n';
}

export interface ExportResult {
  exported: number;
  /** The reader closed the pipe before the end (`export | head`). */
  stopped: boolean;
}

/**
 * Writes the whole log to `out`, in batches, waiting for the reader; stops quietly when the reader
 * closes the pipe (EPIPE). `onProgress` gets the events written so far.
 */
export async function exportLog(store: EventStore, out: NodeJS.WritableStream, onProgress?: (events: number) => void): Promise<ExportResult> {
  let closed = false;
  let failure: Error | null = null;
  const onError = (error: NodeJS.ErrnoException) => {
    closed = true;
    if (error.code !== 'EPIPE') failure = error;
  };
  // stays attached: a reader may close the pipe after the last write too
  out.on('error', onError);
  const globalChain = store.capabilities.globalChain;
  let after: bigint | null = null;
  let count = 0;
  while (!closed) {
    const batch: StoredEvent[] = await store.readAll({ after, maxCount: 5000 });
    if (batch.length === 0) break;
    for (const e of batch) {
      if (!out.write(exportLine(e, globalChain))) await drained(out);
      if (closed) break;
      count++;
    }
    after = batch[batch.length - 1].position;
    onProgress?.(count);
  }
  if (failure) throw failure;
  return { exported: count, stopped: closed };
}

/** Resolves when a stream can take more, or can take nothing any more (error, close). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
    out.on('close', done);
  });
}
