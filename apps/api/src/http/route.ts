/** What a route hands to the CommandRunner and the reads: the request, the reply and who is calling. */
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthedRequest } from '../auth/auth.guard';
import { LedgerQueries } from '../ports/ports';
import type { RouteContext } from './command-runner';
import { badRequest, notCaughtUp } from './problem';

export const Http = createParamDecorator((_: unknown, ctx: ExecutionContext): RouteContext => {
  const http = ctx.switchToHttp();
  const request = http.getRequest<AuthedRequest>();
  return { request, reply: http.getResponse<FastifyReply>(), principal: request.principal! };
});

/**
 * For a route that takes no input: no body, or `{}`; anything else is a 400 naming the fields
 * (OpenAPI: `ApiNoBody()` in openapi.ts).
 */
export const NoBody = createParamDecorator((_: unknown, ctx: ExecutionContext): void => {
  const body = ctx.switchToHttp().getRequest<AuthedRequest>().body;
  if (body === undefined) return;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('This route takes no body (or an empty JSON object).', [{ field: '', message: 'must be empty' }]);
  }
  const fields = Object.keys(body);
  if (fields.length > 0) throw badRequest('This route takes no body (or an empty JSON object).', fields.slice(0, 20).map((field) => ({ field, message: 'is not a known field' })));
});

/**
 * Read-your-writes (API.md): wait (at most the node's read wait, CARELEDGER_READ_WAIT_MS) for the
 * read models to reach what this read needs, else 503 NotCaughtUp with Retry-After, never stale
 * data. A minPosition beyond the log's head cannot be reached by waiting: it is answered at once.
 */
export async function consistent(queries: LedgerQueries, minPosition?: string): Promise<void> {
  const min = minPosition === undefined ? undefined : BigInt(minPosition);
  if (min !== undefined && min > queries.checkpoint()) {
    const head = await queries.head();
    if (head !== null && min > head) throw notCaughtUp(`The log's head is at position ${head}; position ${min} does not exist yet.`);
  }
  if (!(await queries.consistent(min))) throw notCaughtUp();
}
