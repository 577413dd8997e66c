/**
 * Runs a command for a request: Idempotency-Key replays, business-key dedupe (orderId, claimRef),
 * If-Match, the ledger call, and the answer `{ eventIds, revision, position, ...resource }`
 * (201 when appended, 200 for a repeat).
 */
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { Command, Refusal } from '@careledger/domain';
import { CommandOutcome, LocalStore } from '@careledger/ledger';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Principal } from '../auth/tokens';
import { badRequest, conflict, problem, ProblemException, toProblem } from './problem';

export interface CommandRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  principal: Principal;
  command: Command;
  body: unknown;
  /** A business key (order or claim reference): a repeat returns the first answer. */
  businessKey?: string | null;
  /** Extra fields of the answer. */
  answer?: (outcome: CommandOutcome) => Record<string, unknown>;
}

interface Stored {
  status: number;
  body: string;
  contentType: string;
}

@Injectable()
export class CommandsService {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(@Inject(Runtime) private readonly runtime: Runtime) {}

  private get local(): LocalStore {
    return this.runtime.local;
  }

  async run(c: CommandRequest): Promise<unknown> {
    const key = header(c.request, 'idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > 200)) {
      throw badRequest('Idempotency-Key must be 1 to 200 characters.', [{ field: 'Idempotency-Key', message: 'must be 1 to 200 characters' }]);
    }
    const ifMatch = parseIfMatch(header(c.request, 'if-match'));
    if (key === undefined) return this.execute(c, null, ifMatch);
    const storageKey = `idem:${c.principal.actor}:${key}`;
    const fingerprint = sha256(`${c.request.method} ${c.request.url.split('?')[0]}\n${canonical(c.body)}`);
    // one request per key at a time in this process; others wait and then replay
    const previous = this.inFlight.get(storageKey) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(async () => {
      const stored = this.local.idempotency(storageKey);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          throw conflict('IdempotencyKeyReused', 'This Idempotency-Key was used with a different request.');
        }
        return this.replay(c.reply, stored);
      }
      try {
        const body = await this.execute(c, `idem:${c.principal.actor}:${key}`, ifMatch);
        await this.local.rememberIdempotency({
          key: storageKey, fingerprint, status: c.reply.statusCode, body: JSON.stringify(body),
          contentType: 'application/json; charset=utf-8', createdAt: new Date().toISOString(),
        });
        return body;
      } catch (error) {
        if (error instanceof Refusal) {
          const p = toProblem(error);
          await this.local.rememberIdempotency({
            key: storageKey, fingerprint, status: p.status, body: JSON.stringify(p),
            contentType: 'application/problem+json; charset=utf-8', createdAt: new Date().toISOString(),
          });
        }
        throw error;
      }
    });
    this.inFlight.set(storageKey, current);
    try {
      return await current;
    } finally {
      if (this.inFlight.get(storageKey) === current) this.inFlight.delete(storageKey);
    }
  }

  private async execute(c: CommandRequest, idSeed: string | null, ifMatch: number | null): Promise<unknown> {
    if (c.businessKey) {
      const first = this.local.idempotency(c.businessKey);
      if (first) return this.replay(c.reply, first);
    }
    const correlationId = (c.request.id as string) ?? randomUUID();
    const outcome = await this.runtime.ledger.execute(c.command, {
      actor: c.principal.actor,
      correlationId,
      idSeed: idSeed ?? (c.businessKey ? `${c.businessKey}` : null),
      ifMatch,
      request: { method: c.request.method, path: c.request.url.split('?')[0], body: c.body },
    });
    const body = {
      ...outcome.decision.resource,
      ...outcome.decision.answer,
      ...(c.answer ? c.answer(outcome) : {}),
      eventIds: outcome.eventIds,
      revision: outcome.revision,
      position: outcome.position,
    };
    c.reply.status(outcome.repeat ? 200 : 201);
    if (c.businessKey && !outcome.repeat) {
      await this.local.rememberIdempotency({
        key: c.businessKey, fingerprint: '', status: 201, body: JSON.stringify(body),
        contentType: 'application/json; charset=utf-8', createdAt: new Date().toISOString(),
      });
    }
    return body;
  }

  /** The first answer again: 200 for a success (an idempotent repeat), the same problem otherwise. */
  private replay(reply: FastifyReply, stored: Stored): unknown {
    const body = JSON.parse(stored.body);
    if (stored.status >= 400) throw new ProblemException(body);
    reply.status(200);
    return body;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** If-Match: "3" (or 3, or W/"3"); "*" means no precondition. */
export function parseIfMatch(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '*' || value.trim() === '') return null;
  const m = /^\s*(?:W\/)?"?(-?\d{1,15})"?\s*$/.exec(value);
  if (!m) {
    throw new ProblemException(problem(400, 'ValidationFailed', 'If-Match must be a revision such as "3".', { errors: [{ field: 'If-Match', message: 'must be a quoted revision number' }] }));
  }
  return Number(m[1]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted keys, so the same body always has the same fingerprint. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
