import type { Readable } from 'node:stream';
import { StoreUnavailable } from '../port';

/** A client read: an object-mode Readable the client can cancel (client 6.2.1 `StreamingRead`). */
export type CancellableRead = Readable & { cancel?: () => Promise<void> };

/** What a closed store answers to a call that was in flight. */
export function closedError(signal: AbortSignal): unknown {
  return signal.reason ?? new StoreUnavailable('the event store is closed');
}

/**
 * Collects a client read with a deadline of our own. Client 6.2.1 sends every read with an infinite
 * gRPC deadline, so a read on a half-open connection waits until keep-alive notices (or forever on
 * a middlebox that answers keep-alives). The timer is an idle timer: it is re-armed on every event,
 * so a long read that keeps moving is not cut, and a read that stops answering is cancelled
 * (gRPC cancel and stream destroy) and rejected with StoreUnavailable after `idleTimeoutMs`.
 * `signal` (the store closing) cancels it at once.
 *
 * Other errors (StreamNotFoundError, UnavailableError...) reject unchanged: callers translate them.
 */
export function collectRead<T>(label: string, open: () => CancellableRead, idleTimeoutMs: number, signal: AbortSignal): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    if (signal.aborted) {
      reject(closedError(signal));
      return;
    }
    const items: T[] = [];
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let stream: CancellableRead;
    try {
      stream = open();
    } catch (error) {
      reject(error);
      return;
    }
    const abandon = () => {
      void stream.cancel?.().catch(() => undefined);
      stream.destroy();
    };
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      // a late error from the destroyed stream must not become an unhandled 'error' event
      stream.on('error', () => undefined);
      if (error === undefined) resolve(items);
      else reject(error);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(new StoreUnavailable(`EventStoreDB did not answer ${label} within ${idleTimeoutMs} ms (read cancelled)`));
        abandon();
      }, idleTimeoutMs);
    };
    const onData = (item: T) => {
      items.push(item);
      arm();
    };
    const onEnd = () => finish(undefined);
    const onError = (error: unknown) => finish(error ?? new Error(`${label} failed`));
    const onClose = () => finish(new StoreUnavailable(`EventStoreDB closed ${label} before it ended`));
    const onAbort = () => {
      finish(closedError(signal));
      abandon();
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * Races a call against a timer and the store closing; the loser is ignored (its rejection is
 * swallowed) and the timer is always cleared.
 */
export function bounded<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => unknown, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(closedError(signal));
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(closedError(signal));
    };
    const timer = setTimeout(() => {
      done();
      reject(onTimeout());
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

/** Waits `ms`, or less when the store closes (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
