/**
 * Errors as RFC 9457 problem details (application/problem+json): { type, title, status, detail,
 * code } plus `errors` for malformed input (400) and `rule` for business refusals (422).
 * One mapping from every error kind (the domain's, the ledger's, the store's, the framework's) to
 * its problem; one filter that sends it and logs a 5xx with the request id. Nothing a client sends
 * ends as a 500.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { InvalidCommand, NotFound, Refusal, StateConflict } from '@careledger/domain';
import { ConcurrencyConflict, DuplicateEventIdConflict, StoreUnavailable } from '@careledger/event-store';
import { IdempotencyKeyReused, ReplayedRefusal, StaleRevision } from '@careledger/ledger';
import { NodeNotServing } from '@careledger/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from './logger';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  rule?: string;
  errors?: { field: string; message: string }[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_BASE = 'https://careledger.dev/problems/';

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: `${PROBLEM_BASE}${code}`, title: TITLES[status] ?? 'Error', status, detail, code, ...extra };
}

/** The API's own error: a problem to answer with (and, for 503, when to retry). */
export class ProblemException extends Error {
  constructor(
    readonly problem: Problem,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(problem.detail);
  }
}

export const badRequest = (detail: string, errors: { field: string; message: string }[] = []) =>
  new ProblemException(problem(400, 'ValidationFailed', detail, { errors }));
export const unauthorized = (detail = 'A valid Bearer token is required.') => new ProblemException(problem(401, 'Unauthorized', detail));
export const forbidden = (detail: string) => new ProblemException(problem(403, 'Forbidden', detail));
export const notFound = (code: string, detail: string) => new ProblemException(problem(404, code, detail));
export const conflict = (code: string, detail: string) => new ProblemException(problem(409, code, detail));
/** API.md v1.1: a read whose minPosition (or the node's own acknowledged writes) the read models do not reach in time. */
export const notCaughtUp = (detail = 'The read models have not reached the position this read needs yet; retry shortly.') =>
  new ProblemException(problem(503, 'NotCaughtUp', detail), 1);

/** Maps anything thrown while handling a request to a problem. */
export function toProblem(error: unknown): { problem: Problem; retryAfter: number | null } {
  const plain = (p: Problem) => ({ problem: p, retryAfter: null });
  if (error instanceof ProblemException) return { problem: error.problem, retryAfter: error.retryAfterSeconds };
  // a refusal answers where the log records it: another node reads it with minPosition
  if (error instanceof Refusal) return plain(problem(422, error.code, error.message, { rule: error.rule, ...(error.recorded ?? {}) }));
  if (error instanceof ReplayedRefusal) return plain(problem(422, error.code, error.message, { ...(error.rule ? { rule: error.rule } : {}), ...(error.recorded ?? {}) }));
  if (error instanceof InvalidCommand) return plain(problem(400, 'ValidationFailed', error.message, { errors: error.errors }));
  if (error instanceof StateConflict) return plain(problem(409, error.code, error.message));
  if (error instanceof NotFound) return plain(problem(404, error.code, error.message));
  if (error instanceof IdempotencyKeyReused) return plain(problem(409, 'IdempotencyKeyReused', error.message));
  if (error instanceof StaleRevision) return plain(problem(412, 'ConcurrencyConflict', `${error.message} Read the resource again and retry with its current revision.`));
  if (error instanceof ConcurrencyConflict) return plain(problem(409, 'ConcurrencyConflict', 'The resource kept changing while the command was decided; retry.'));
  if (error instanceof DuplicateEventIdConflict) return plain(problem(409, 'IdempotencyKeyReused', 'These event ids belong to another command.'));
  if (error instanceof NodeNotServing) return { problem: problem(503, 'NotServing', `This node does not serve until its read models match the log: ${error.message}`), retryAfter: 30 };
  if (error instanceof StoreUnavailable) return { problem: problem(503, 'StoreUnavailable', 'The event store is unreachable; retry later.'), retryAfter: 2 };
  if (error instanceof HttpException) return plain(fromStatus(error.getStatus(), error.message));
  const fastify = error as { statusCode?: number; message?: string; code?: string };
  const framework = typeof fastify?.code === 'string' ? FRAMEWORK[fastify.code] : undefined;
  if (framework) return plain(framework());
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return plain(fromStatus(fastify.statusCode, ''));
  }
  return plain(problem(500, 'InternalError', 'Something went wrong on our side; it has been logged.'));
}

/** Fastify's own errors, by code: what the client did, never an echo of its URL or body. */
const FRAMEWORK: Record<string, () => Problem> = {
  FST_ERR_BAD_URL: () =>
    problem(400, 'MalformedPath', 'The path is not valid percent-encoded UTF-8.', { errors: [{ field: 'path', message: 'invalid percent-encoding' }] }),
  FST_ERR_MAX_PARAM_LENGTH: () => problem(414, 'UriTooLong', 'A path parameter is longer than this server accepts (100 characters).'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => problem(415, 'UnsupportedMediaType', 'Send the body as application/json (UTF-8).'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => problem(413, 'PayloadTooLarge', 'The request body is too large.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    problem(400, 'MalformedRequest', 'The body\'s length does not match its Content-Length.', { errors: [{ field: 'Content-Length', message: 'does not match the body' }] }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => problem(400, 'MalformedJson', 'The body is empty.', { errors: [{ field: '', message: 'malformed JSON' }] }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => problem(400, 'MalformedJson', 'The body is not valid JSON.', { errors: [{ field: '', message: 'malformed JSON' }] }),
};

/** Client errors raised by the HTTP layer itself (routing, body parsing, limits). */
function fromStatus(status: number, message: string): Problem {
  switch (status) {
    case 400:
      return problem(400, 'MalformedJson', 'The body is not valid JSON.', { errors: [{ field: '', message: 'malformed JSON' }] });
    case 404:
      // Nest's not-found handler says "Cannot GET /path?query": the method and path, never the query
      return problem(404, 'NotFound', message ? `No such route: ${message.replace(/^Cannot /, '').split('?')[0].slice(0, 200)}.` : 'No such resource.');
    case 405:
      return problem(405, 'MethodNotAllowed', 'Method not allowed.');
    case 413:
      return problem(413, 'PayloadTooLarge', 'The request body is too large.');
    case 415:
      return problem(415, 'UnsupportedMediaType', 'Send the body as application/json (UTF-8).');
    default:
      return problem(status, status >= 500 ? 'InternalError' : `Http${status}`, status >= 500 ? 'Something went wrong on our side; it has been logged.' : 'Request refused.');
  }
}

/** The problem code each reply was answered with (the metrics count conflicts by it). */
const answeredCodes = new WeakMap<FastifyReply, string>();

/** The problem code a reply was answered with, if it was a problem. */
export function problemCodeOf(reply: FastifyReply): string | undefined {
  return answeredCodes.get(reply);
}

export function sendProblem(reply: FastifyReply, p: Problem, retryAfter: number | null = null): void {
  answeredCodes.set(reply, p.code);
  if (p.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="careledger"');
  if (retryAfter !== null) reply.header('Retry-After', String(retryAfter));
  reply.status(p.status).header('Content-Type', 'application/problem+json; charset=utf-8').send(JSON.stringify(p));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(AppLogger) private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { problem: p, retryAfter } = toProblem(exception);
    if (p.status >= 500) this.logger.pino.error({ reqId: request?.id, err: exception, status: p.status, code: p.code }, 'request failed');
    sendProblem(reply, p, retryAfter);
  }
}
