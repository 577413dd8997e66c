/**
 * One pino logger for everything the node says: requests, 5xx with their request id, start-up,
 * catch-up progress, and Nest's own messages (through the LoggerService below instead of its
 * coloured console; the route table it prints at start-up is debug, not info). LOG_FORMAT picks
 * JSON lines (pino's own, for log collectors) or text lines (`12:00:01.234 INFO  message key=value`,
 * for a terminal); the records are the same.
 */
import type { LoggerService } from '@nestjs/common';
import pino from 'pino';
import type { LogFormat } from '../config';

/** Nest's start-up chatter (one line per module and route): debug. */
const BOOTSTRAP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export class AppLogger implements LoggerService {
  readonly pino: pino.Logger;
  private readonly destination: pino.DestinationStream & { flushSync?: () => void };

  constructor(
    level: string,
    readonly format: LogFormat = 'json',
    out: (text: string) => void = (text) => void process.stdout.write(text),
  ) {
    // JSON: pino's own asynchronous destination (cheap per request line); text: formatted, written as it comes
    this.destination = format === 'text' ? { write: (line: string) => out(formatRecord(line)) } : pino.destination({ dest: 1, sync: false });
    this.pino = pino({ level, base: { service: 'careledger-api' } }, this.destination);
  }

  /**
   * Writes out what is buffered now. For lines that must show while the event loop is busy (a
   * catch-up applies the log in one go before the node listens): an asynchronous write would wait
   * for the loop.
   */
  flush(): void {
    try {
      this.destination.flushSync?.();
    } catch {
      // not ready, or closed: the line goes out with the next write
    }
  }

  log(message: unknown, context?: string): void {
    if (context !== undefined && BOOTSTRAP_CONTEXTS.has(context)) this.pino.debug({ context }, String(message));
    else this.pino.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}

/**
 * One pino record (a JSON line) as a text line: the time of day (UTC), the level, the message, then
 * the other fields as key=value (strings with spaces or quotes JSON-quoted); an error's stack
 * follows on its own lines.
 */
export function formatRecord(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, msg, service: _service, pid: _pid, hostname: _hostname, err, ...fields } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const name = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${textValue(value)}`);
  const error = err as { message?: string; stack?: string } | undefined;
  if (error?.message) parts.push(`err=${textValue(error.message)}`);
  const text = [when, name, typeof msg === 'string' && msg !== '' ? msg : null, parts.length > 0 ? parts.join(' ') : null].filter((p) => p !== null && p !== '').join(' ');
  const stack = error?.stack && (level as number) >= 50 ? `\n${error.stack.split('\n').map((l) => `    ${l.trim()}`).join('\n')}` : '';
  return `${text}${stack}\n`;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
