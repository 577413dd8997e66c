/**
 * One JSON logger (pino) for everything the node says: requests, 5xx with their request id,
 * start-up, and Nest's own messages (through the LoggerService below instead of its coloured console).
 */
import type { LoggerService } from '@nestjs/common';
import pino from 'pino';

export class AppLogger implements LoggerService {
  readonly pino: pino.Logger;

  constructor(level: string) {
    this.pino = pino({ level, base: { service: 'careledger-api' } });
  }

  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
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
