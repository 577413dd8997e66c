/**
 * Clients that behave like the ones outside: fetch in its own thread. A fetch client run on the
 * server's own event loop takes turns with the server and never races it, so an answer sent while
 * the client is still writing (an early 413) cannot reset its connection there; in a worker thread,
 * as from another process, it can.
 */
import { Worker } from 'node:worker_threads';

export interface PostOutcome {
  status?: number;
  contentType?: string | null;
  code?: string;
  /** The connection failed before an answer was read (a reset while sending). */
  error?: string;
}

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const body = 'x'.repeat(workerData.bytes);
  const out = [];
  for (let i = 0; i < workerData.times; i++) {
    try {
      const res = await fetch(workerData.url, { method: 'POST', headers: workerData.headers, body });
      const text = await res.text();
      let code;
      try { code = JSON.parse(text).code; } catch {}
      out.push({ status: res.status, contentType: res.headers.get('content-type'), code });
    } catch (error) {
      out.push({ error: String((error && error.cause) || error) });
    }
  }
  parentPort.postMessage(out);
})();
`;

/** POSTs a body of `bytes` bytes `times` times, one after the other, from a fetch client in a worker thread. */
export function postFromWorker(url: string, bytes: number, times: number, headers: Record<string, string>, timeoutMs = 60_000): Promise<PostOutcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SCRIPT, { eval: true, workerData: { url, bytes, times, headers } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the worker's client did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (outcomes: PostOutcome[]) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(outcomes);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
