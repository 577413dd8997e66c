/** What a route hands to the CommandRunner and the reads: the request, the reply and who is calling. */
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthedRequest } from '../auth/auth.guard';
import { LedgerQueries } from '../ports/ports';
import type { RouteContext } from './command-runner';
import { notCaughtUp } from './problem';

export const Http = createParamDecorator((_: unknown, ctx: ExecutionContext): RouteContext => {
  const http = ctx.switchToHttp();
  const request = http.getRequest<AuthedRequest>();
  return { request, reply: http.getResponse<FastifyReply>(), principal: request.principal! };
});

/** Read-your-writes (API.md): wait for the read models to reach what this read needs, else 503 NotCaughtUp. */
export async function consistent(queries: LedgerQueries, minPosition?: string): Promise<void> {
  if (!(await queries.consistent(minPosition === undefined ? undefined : BigInt(minPosition)))) throw notCaughtUp();
}
