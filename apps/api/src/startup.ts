/**
 * What `npm start` says and does around the app: catch-up progress while the read models apply a
 * long log, the banner (the URL that really answers, the store, the dashboard, the docs, the tokens
 * file), listen errors as configuration errors, and the directory entry of the service center whose
 * token a first start generates.
 */
import { hostname } from 'node:os';
import type { Runtime } from '@careledger/runtime';
import type { AppliedProgress } from '@careledger/runtime';
import { AppConfig, ConfigError } from './config';

export interface ProgressLog {
  info(fields: object, message: string): void;
}

/**
 * Reports a catch-up: every `everyMs` while the read models are behind the head the node opened at
 * (position reached / head, events per second since the last report, time left at that rate), and
 * once when they reach it (events applied, time taken, the average rate). Fed synchronously after
 * each applied batch (Runtime's onApplied), so it speaks even while the catch-up keeps the event
 * loop busy; `flush` writes each line out at once.
 */
export class CatchUpProgress {
  private startedAt: number | null = null;
  private firstPosition = 0n;
  private last = { at: 0, position: 0n };
  private done = false;

  constructor(
    private readonly log: ProgressLog,
    private readonly everyMs = 5000,
    private readonly now: () => number = Date.now,
    private readonly flush: () => void = () => undefined,
  ) {}

  applied({ position, events, startHead }: AppliedProgress): void {
    if (this.done) return;
    const at = this.now();
    if (this.startedAt === null) {
      this.firstPosition = position - BigInt(events);
      // the read models were at the head when the node opened: what comes now is live, not a catch-up
      if (this.firstPosition >= startHead) {
        this.done = true;
        return;
      }
      this.startedAt = at;
      this.last = { at, position: this.firstPosition };
    }
    if (position >= startHead) {
      this.done = true;
      const applied = Number(position - this.firstPosition);
      const seconds = (at - this.startedAt) / 1000;
      this.log.info(
        { position: position.toString(), head: startHead.toString(), events: applied, seconds: round(seconds, 1), eventsPerSecond: rate(applied, seconds) },
        `caught up with the log: ${applied} events applied in ${round(seconds, 1)} s (${rate(applied, seconds)} events/s), the read models are at position ${position}`,
      );
      this.flush();
      return;
    }
    if (at - this.last.at < this.everyMs) return;
    const seconds = (at - this.last.at) / 1000;
    const perSecond = rate(Number(position - this.last.position), seconds);
    const left = perSecond > 0 ? Math.ceil(Number(startHead - position) / perSecond) : null;
    const percent = startHead > 0n ? round((Number(position) / Number(startHead)) * 100, 1) : 100;
    this.log.info(
      { position: position.toString(), head: startHead.toString(), percent, eventsPerSecond: perSecond, secondsLeft: left },
      `catching up with the log: position ${position} of ${startHead} (${percent}%), ${perSecond} events/s${left === null ? '' : `, about ${left} s left`}`,
    );
    this.flush();
    this.last = { at, position };
  }
}

function rate(events: number, seconds: number): number {
  return seconds > 0 ? Math.round(events / seconds) : events;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Where the node answers: the bound address as a URL, and for a wildcard bind the URLs that reach it. */
export interface Reachable {
  /** The address given to listen (HOST), and the port really bound (PORT=0 picks one). */
  host: string;
  port: number;
  /** Bound to every interface (0.0.0.0 or ::). */
  everywhere: boolean;
  /** A URL that reaches the node from this machine. */
  url: string;
  /** For a wildcard bind: the URL other machines may use (this machine's host name). */
  remoteUrl: string | null;
}

export function reachable(host: string, port: number, name: string = hostname()): Reachable {
  const wildcardV4 = host === '0.0.0.0';
  const wildcardV6 = host === '::' || host === '[::]' || host === '::0';
  const urlHost = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  if (wildcardV4 || wildcardV6) {
    return { host, port, everywhere: true, url: `http://${wildcardV6 ? '[::1]' : '127.0.0.1'}:${port}`, remoteUrl: name ? `http://${urlHost(name)}:${port}` : null };
  }
  return { host, port, everywhere: false, url: `http://${urlHost(host)}:${port}`, remoteUrl: null };
}

/** A connection string without its password (user:password@ → user:***@, password=... → password=***). */
export function redact(connection: string): string {
  return connection.replace(/(\/\/[^:/@]+:)[^@/]*@/, '$1***@').replace(/(password=)[^&;\s]*/gi, '$1***');
}

/** The store the node runs on and where it is. */
export function storeOf(config: AppConfig, kind: string): { kind: string; location: string; readDb: string } {
  const location = config.databaseUrl ? redact(config.databaseUrl) : config.eventStoreConnectionString ? redact(config.eventStoreConnectionString) : config.dbPath;
  return { kind, location, readDb: config.readDbPath };
}

export interface BannerFacts {
  version: string;
  at: Reachable;
  store: { kind: string; location: string; readDb: string };
  tokensFile: string;
  tokensGenerated: boolean;
  /** The service center registered for the generated token, if any. */
  center: { centerId: string; region: string } | null;
}

/** The start-up banner: a few plain lines (text logs), or the fields of one record (JSON logs). */
export function banner(f: BannerFacts): { lines: string[]; fields: Record<string, unknown>; message: string } {
  const where = f.at.everywhere ? `all interfaces (${f.at.host}), port ${f.at.port}` : `${f.at.host}, port ${f.at.port}${isLoopback(f.at.host) ? ' (this machine only)' : ''}`;
  const open = f.at.remoteUrl ? `${f.at.url} on this machine, ${f.at.remoteUrl} from others` : f.at.url;
  const tokens = f.tokensGenerated
    ? `${f.tokensFile} (written now: fresh random tokens for admin, sales, device-registry, auditor and service-center:SC-1${f.center ? `, whose center ${f.center.centerId} is in the directory in region ${f.center.region}` : ''})`
    : f.tokensFile;
  const message = `CareLedger ${f.version} is listening on ${where}: ${open}`;
  return {
    message,
    lines: [
      message,
      `  dashboard  ${f.at.url}/dashboard`,
      `  docs       ${f.at.url}/docs (OpenAPI document: ${f.at.url}/docs-json)`,
      `  store      ${f.store.kind}: ${f.store.location} (read models: ${f.store.readDb})`,
      `  tokens     ${tokens}`,
    ],
    fields: {
      version: f.version,
      url: f.at.url,
      remoteUrl: f.at.remoteUrl,
      host: f.at.host,
      port: f.at.port,
      dashboard: `${f.at.url}/dashboard`,
      docs: `${f.at.url}/docs`,
      store: f.store.kind,
      storeLocation: f.store.location,
      readDb: f.store.readDb,
      tokensFile: f.tokensFile,
      tokensGenerated: f.tokensGenerated,
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
}

/** A failed listen as a configuration error (the port taken, not allowed, or an address this machine does not have). */
export function listenError(error: unknown, config: AppConfig): ConfigError | null {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    return new ConfigError('PORT', `Port ${config.port} on ${config.host} is already in use (another CareLedger, or another program): stop it, or set PORT to a free port.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ConfigError('PORT', `This user may not listen on port ${config.port} (ports below 1024 need privileges): set PORT to 1024 or above (3000 by default), and put a proxy in front for port ${config.port}.`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConfigError('HOST', `HOST=${config.host} is not an address of this machine: set HOST to one of its addresses, 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).`);
  }
  return null;
}

/**
 * The service center a first start generates a token for, and the region it is registered in: the
 * region of the README's examples. An admin changes it with PUT /v1/service-centers/SC-1.
 */
export const FIRST_CENTER = { centerId: 'SC-1', name: 'Service center SC-1', region: 'US' } as const;

/**
 * Registers FIRST_CENTER in the directory through the ledger (RegisterServiceCenter), so that its
 * token's claims are decided against a service region (RULES R6) instead of an unknown one. The
 * decision is keyed (a stable Idempotency-Key of the system actor): a second first start, after the
 * tokens file was removed, finds it and does not record it again; a center already in the directory
 * (registered by an admin, maybe in another region) is left as it is.
 */
export async function registerFirstCenter(runtime: Runtime, waitMs: number): Promise<{ centerId: string; region: string; registered: boolean }> {
  const { centerId, name, region } = FIRST_CENTER;
  if (!(await runtime.catchUpToHead(waitMs))) throw new Error(`the read models did not catch up with the log within ${waitMs} ms`);
  const known = runtime.reads.centers.center(centerId);
  if (known) return { centerId, region: known.region, registered: false };
  const ctx = { actor: 'system:first-start', tokenId: 'system:first-start', correlationId: 'first-start', idempotencyKey: `register-service-center:${centerId}` };
  const result = await runtime.ledger.execute({ type: 'RegisterServiceCenter', centerId, name, region, at: runtime.clock.now().toISOString() }, ctx);
  return { centerId, region, registered: !result.repeat };
}
