/**
 * Configuration from the environment (API.md "Operations"). A value the node cannot use is a
 * ConfigError: one sentence that names the variable and says how to fix it (main.ts prints it and
 * exits 2, without a stack trace).
 */
import { resolve, dirname, join } from 'node:path';

/** A configuration the node cannot start with: `message` names the variable and the fix. */
export class ConfigError extends Error {
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** How the node logs: JSON lines (log collectors), or readable text lines (a terminal). */
export type LogFormat = 'json' | 'text';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
  /** LOG_FORMAT: `json` or `text`; unset, text on a terminal and JSON otherwise (a container, a pipe, a file). */
  logFormat: LogFormat;
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
  'LOG_FORMAT', 'CARELEDGER_DEBUG',
] as const;

/**
 * The log format LOG_FORMAT asks for; unset (or not one of the two, which loadConfig refuses), text
 * when standard output is a terminal and JSON otherwise. Never throws: errors are reported in it.
 */
export function logFormatOf(env: NodeJS.ProcessEnv = process.env, terminal = Boolean(process.stdout.isTTY)): LogFormat {
  const value = (env.LOG_FORMAT ?? '').trim().toLowerCase();
  if (value === 'json' || value === 'text') return value;
  return terminal ? 'text' : 'json';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, terminal = Boolean(process.stdout.isTTY)): AppConfig {
  if (env.CARELEDGER_DATABASE_URL && env.EVENTSTORE_CONNECTION_STRING) {
    throw new ConfigError(
      'CARELEDGER_DATABASE_URL',
      'Both CARELEDGER_DATABASE_URL (PostgreSQL) and EVENTSTORE_CONNECTION_STRING (EventStoreDB) are set, and a node has one store: unset one of them.',
    );
  }
  const format = (env.LOG_FORMAT ?? '').trim().toLowerCase();
  if (format !== '' && format !== 'json' && format !== 'text') {
    throw new ConfigError('LOG_FORMAT', `LOG_FORMAT must be json or text, not "${clip(env.LOG_FORMAT!)}": set one of them, or unset it (text on a terminal, JSON otherwise).`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${clip(logLevel)}": set one of them, or unset it for info.`);
  }
  const dbPath = resolve(env.CARELEDGER_DB ?? join('data', 'careledger.sqlite'));
  const readDbPath = resolve(env.CARELEDGER_READ_DB ?? join(dirname(dbPath), `${basenameWithoutExt(dbPath)}.read.sqlite`));
  return {
    port: portOf(env.PORT),
    host: env.HOST ?? '0.0.0.0',
    dbPath,
    readDbPath,
    databaseUrl: env.CARELEDGER_DATABASE_URL || null,
    eventStoreConnectionString: env.EVENTSTORE_CONNECTION_STRING || null,
    tokensFile: env.CARELEDGER_TOKENS_FILE ? resolve(env.CARELEDGER_TOKENS_FILE) : null,
    cataloguePath: env.CARELEDGER_CATALOGUE ? resolve(env.CARELEDGER_CATALOGUE) : null,
    sweepIntervalSeconds: intOf(env, 'CARELEDGER_SWEEP_INTERVAL_SECONDS', 3600, 'seconds (0 turns the timer off)'),
    bodyLimitBytes: intOf(env, 'CARELEDGER_BODY_LIMIT_BYTES', 64 * 1024, 'bytes'),
    logLevel,
    logFormat: logFormatOf(env, terminal),
    corsOrigins: (env.CARELEDGER_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    signingKeyPem: env.CARELEDGER_SIGNING_KEY || null,
    signingKeyFile: env.CARELEDGER_SIGNING_KEY_FILE ? resolve(env.CARELEDGER_SIGNING_KEY_FILE) : null,
    signingKeyDefaultFile: join(dirname(env.CARELEDGER_TOKENS_FILE ? resolve(env.CARELEDGER_TOKENS_FILE) : dbPath), 'signing-key.pem'),
    checkpointIntervalSeconds: intOf(env, 'CARELEDGER_CHECKPOINT_INTERVAL_SECONDS', 300, 'seconds (0: only on demand)'),
    readWaitMs: intOf(env, 'CARELEDGER_READ_WAIT_MS', 5000, 'milliseconds'),
    unitCacheEvents: intOf(env, 'CARELEDGER_UNIT_CACHE_EVENTS', 100_000, 'events (0: no cache)'),
    metricsPublic: boolOf(env, 'CARELEDGER_METRICS_PUBLIC', false),
    shutdownGraceMs: intOf(env, 'CARELEDGER_SHUTDOWN_GRACE_MS', 3000, 'milliseconds'),
  };
}

function basenameWithoutExt(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? 'careledger';
  return base.replace(/\.[^.]+$/, '');
}

/** At most 40 characters of a value, for a message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function portOf(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const n = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n > 65535) {
    throw new ConfigError('PORT', `PORT must be a port number from 0 to 65535, not "${clip(value)}": set PORT=3000 (or another free port), or unset it for 3000.`);
  }
  return n;
}

function boolOf(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `${name} must be true or false, not "${clip(value)}": set ${name}=true or ${name}=false, or unset it for ${fallback}.`);
}

function intOf(env: NodeJS.ProcessEnv, name: string, fallback: number, unit: string): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(name, `${name} must be a whole number of ${unit}, not "${clip(value)}": set it to one, or unset it for ${fallback}.`);
  }
  return n;
}
