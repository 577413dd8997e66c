/**
 * How the PostgreSQL adapter reads a failure: the caller's fault (a port error, passed on), a lost
 * connection or a serialization failure (the store retries where that is safe), or anything else
 * (StoreUnavailable: not the caller's fault).
 */
import { ConcurrencyConflict, DuplicateEventIdConflict, StoreUnavailable } from '../port';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs that mean "this connection (or server) went away", not "your statement is wrong". */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres reports a lost or unusable connection with these messages and no SQLSTATE. */
const CLIENT_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /connection ended/i,
  /socket hang up/i,
  /connection error/i,
];

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The connection was lost or could not be made (the statement may or may not have run). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('08') || SERVER_GONE.has(code))) return true;
  if (sqlState(error) !== undefined) return false;
  return CLIENT_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** The client refused to send the statement at all (its connection was already known dead). */
export function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && /not queryable/i.test(error.message);
}

/** 40001 serialization_failure, 40P01 deadlock_detected: rolled back, safe to run again. */
export function isSerializationFailure(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40001' || code === '40P01';
}

export function isPortError(error: unknown): boolean {
  return error instanceof ConcurrencyConflict || error instanceof DuplicateEventIdConflict || error instanceof StoreUnavailable;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || errorCode(error) || error.name;
  return String(error);
}

/** Port errors pass through; anything else is StoreUnavailable. */
export function toStoreError(error: unknown, what: string): Error {
  if (isPortError(error)) return error as Error;
  const code = sqlState(error) ?? errorCode(error);
  return new StoreUnavailable(`PostgreSQL: ${what} failed${code ? ` (${code})` : ''}: ${describe(error)}`, error);
}
