/** Configuration from the environment (API.md "Operations"). */
import { resolve, dirname, join } from 'node:path';

export interface AppConfig {
  port: number;
  host: string;
  /** SQLite file: the embedded event store, the decision log and idempotency records. */
  dbPath: string;
  /** SQLite file of the read models (rebuildable). */
  readDbPath: string;
  /** PostgreSQL: the store of several nodes (API.md v1.1). */
  databaseUrl: string | null;
  eventStoreConnectionString: string | null;
  tokensFile: string | null;
  cataloguePath: string | null;
  /** Seconds between safe-use reward sweeps; 0 turns the timer off. */
  sweepIntervalSeconds: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** Dashboard and docs need no extra origins; CORS stays off unless listed here. */
  corsOrigins: string[];
  /** The checkpoint signing key: PEM text, a file, or (default) generated beside the tokens file. */
  signingKeyPem: string | null;
  signingKeyFile: string | null;
  signingKeyDefaultFile: string;
  /** Seconds between signed checkpoints of the log's head (0: only on demand). */
  checkpointIntervalSeconds: number;
  /** How long a read waits for the read models to reach the position it needs before 503 NotCaughtUp (ms). */
  readWaitMs: number;
  /** Events the per-unit folds of dated and as-of reads may keep in memory. */
  unitCacheEvents: number;
  /** GET /metrics without a token (default: an auditor or admin token is needed). */
  metricsPublic: boolean;
  /** On SIGTERM: how long requests in flight may finish before lingering connections are cut (ms). */
  shutdownGraceMs: number;
}

/** Every environment variable the app reads (the compose test checks docker-compose.yml against it). */
export const ENV_VARS = [
  'PORT', 'HOST', 'CARELEDGER_DB', 'CARELEDGER_READ_DB', 'CARELEDGER_DATABASE_URL', 'EVENTSTORE_CONNECTION_STRING', 'CARELEDGER_TOKENS_FILE',
  'CARELEDGER_CATALOGUE', 'CARELEDGER_SWEEP_INTERVAL_SECONDS', 'CARELEDGER_BODY_LIMIT_BYTES', 'LOG_LEVEL', 'CARELEDGER_CORS_ORIGINS',
  'CARELEDGER_SIGNING_KEY', 'CARELEDGER_SIGNING_KEY_FILE', 'CARELEDGER_CHECKPOINT_INTERVAL_SECONDS', 'NODE_ENV',
  'CARELEDGER_READ_WAIT_MS', 'CARELEDGER_METRICS_PUBLIC', 'CARELEDGER_SHUTDOWN_GRACE_MS', 'CARELEDGER_UNIT_CACHE_EVENTS',
] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const dbPath = resolve(env.CARELEDGER_DB ?? join('data', 'careledger.sqlite'));
  const readDbPath = resolve(env.CARELEDGER_READ_DB ?? join(dirname(dbPath), `${basenameWithoutExt(dbPath)}.read.sqlite`));
  return {
    port: intOf(env.PORT, 3000),
    host: env.HOST ?? '0.0.0.0',
    dbPath,
    readDbPath,
    databaseUrl: env.CARELEDGER_DATABASE_URL || null,
    eventStoreConnectionString: env.EVENTSTORE_CONNECTION_STRING || null,
    tokensFile: env.CARELEDGER_TOKENS_FILE ? resolve(env.CARELEDGER_TOKENS_FILE) : null,
    cataloguePath: env.CARELEDGER_CATALOGUE ? resolve(env.CARELEDGER_CATALOGUE) : null,
    sweepIntervalSeconds: intOf(env.CARELEDGER_SWEEP_INTERVAL_SECONDS, 3600),
    bodyLimitBytes: intOf(env.CARELEDGER_BODY_LIMIT_BYTES, 64 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    corsOrigins: (env.CARELEDGER_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    signingKeyPem: env.CARELEDGER_SIGNING_KEY || null,
    signingKeyFile: env.CARELEDGER_SIGNING_KEY_FILE ? resolve(env.CARELEDGER_SIGNING_KEY_FILE) : null,
    signingKeyDefaultFile: join(dirname(env.CARELEDGER_TOKENS_FILE ? resolve(env.CARELEDGER_TOKENS_FILE) : dbPath), 'signing-key.pem'),
    checkpointIntervalSeconds: intOf(env.CARELEDGER_CHECKPOINT_INTERVAL_SECONDS, 300),
    readWaitMs: intOf(env.CARELEDGER_READ_WAIT_MS, 5000),
    unitCacheEvents: intOf(env.CARELEDGER_UNIT_CACHE_EVENTS, 100_000),
    metricsPublic: boolOf(env.CARELEDGER_METRICS_PUBLIC, false),
    shutdownGraceMs: intOf(env.CARELEDGER_SHUTDOWN_GRACE_MS, 3000),
  };
}

function basenameWithoutExt(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? 'careledger';
  return base.replace(/\.[^.]+$/, '');
}

function boolOf(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`expected true or false, got "${value}"`);
}

function intOf(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${value}"`);
  return n;
}
