/**
 * Verifies the SQLite log's hash chain in a worker thread, on its own read-only connection, so a
 * long walk never stalls the node's event loop. Started by SqliteEventStore.verifyIntegrity; does
 * nothing when imported on the main thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { walkChain } from './chain-walk';

export const VERIFY_WORKER_KIND = 'careledger-sqlite-verify';

export interface VerifyRequest {
  kind: typeof VERIFY_WORKER_KIND;
  path: string;
  from: { position: string; hash: string };
  batchSize: number;
}

export type VerifyMessage =
  | { type: 'progress'; events: number; position: string }
  | { type: 'done'; events: number; ok: boolean; firstBrokenPosition: string | null; verifiedUpTo: { position: string; hash: string } }
  | { type: 'error'; message: string };

if (!isMainThread && parentPort && (workerData as VerifyRequest | undefined)?.kind === VERIFY_WORKER_KIND) {
  const request = workerData as VerifyRequest;
  const port = parentPort;
  try {
    const db = new Database(request.path, { readonly: true, fileMustExist: true });
    db.defaultSafeIntegers(true);
    try {
      const report = walkChain(db, { position: BigInt(request.from.position), hash: request.from.hash }, request.batchSize, (p) =>
        port.postMessage({ type: 'progress', events: p.events, position: p.position.toString() } satisfies VerifyMessage),
      );
      port.postMessage({
        type: 'done',
        events: report.events,
        ok: report.ok,
        firstBrokenPosition: report.firstBrokenPosition?.toString() ?? null,
        verifiedUpTo: { position: report.verifiedUpTo.position.toString(), hash: report.verifiedUpTo.hash },
      } satisfies VerifyMessage);
    } finally {
      db.close();
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies VerifyMessage);
  }
}
