/**
 * Integration (API.md v1.1): the event feed for admin, auditor and the read-only `integration`
 * role, as JSON pages (with long-poll `wait`) or as a text/event-stream; and webhooks (admin),
 * whose delivery attempts auditors may read too. The feed reads this node's copy of the log
 * (libs/runtime/src/feed.ts says why); webhooks live in the store's records and are delivered by
 * the runtime's dispatcher (libs/runtime/src/webhooks.ts).
 */
import { Body, Controller, Get, Inject, Injectable, OnModuleDestroy, Param, PipeTransform, Put, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { FeedPage, WEBHOOK_ID } from '@careledger/runtime';
import { Roles } from '../auth/auth.guard';
import { DeliveriesPage, DeliveriesQuery, FeedEventView, FeedPageView, FeedQuery, WebhookDto, WebhookView } from '../dto/integration.dto';
import { AppLogger } from '../http/logger';
import { Problem } from '../dto/answers.dto';
import { ApiProblemResponse, ApiReadResponse, PROBLEMS } from '../http/openapi';
import { badRequest, notCaughtUp, notFound, PROBLEM_BASE } from '../http/problem';
import { EventFeed, WebhookDirectory } from '../ports/integration-ports';
import { cursorOf, nextCursor } from './params';

/** An idle event stream gets a comment this often, so proxies and clients know it is alive. */
export const FEED_HEARTBEAT_MS = 15_000;
/** Events an event stream reads from the log copy at a time. */
const STREAM_BATCH = 500;
const POSITION = /^\d{1,20}$/;

const problems = {
  400: { description: 'Malformed path, header or body: `errors` names each field (ValidationFailed).', example: { type: `${PROBLEM_BASE}ValidationFailed`, title: 'Bad Request', status: 400, detail: 'The request has invalid fields.', code: 'ValidationFailed', errors: [{ field: 'url', message: 'url must be an absolute http or https URL' }] } },
  403: { description: 'The role may not do this.', example: { type: `${PROBLEM_BASE}Forbidden`, title: 'Forbidden', status: 403, detail: 'The role integration may not do this.', code: 'Forbidden' } },
  503: { description: 'The read models have not reached what this read needs (NotCaughtUp), or the store is unreachable (StoreUnavailable).', example: { type: `${PROBLEM_BASE}NotCaughtUp`, title: 'Service Unavailable', status: 503, detail: 'The read models have not reached the position this read needs yet; retry shortly.', code: 'NotCaughtUp' } },
};

/** The feed as text/event-stream (HTML Living Standard, "Server-sent events"): what the stream carries. */
const EVENT_STREAM = {
  schema: {
    type: 'string',
    description: 'UTF-8 server-sent events, open until the client or the server closes them: first `retry: 3000` and a comment; then one message per event in global order, '
      + '`id:` its position (what Last-Event-ID resumes after), `event:` its type and `data:` the event as one line of JSON, a FeedEventView '
      + '(#/components/schemas/FeedEventView, the same as in a page); when idle, a `: heartbeat` comment every 15 s, with an `id:` line (and no event) when a types filter skipped events since.',
  },
  example: 'retry: 3000\n: CareLedger event feed after position 1041\n\nid: 1042\nevent: PlanPurchased\ndata: {"position":"1042","eventId":"…","streamId":"plan-…","revision":0,"type":"PlanPurchased",…}\n\n: heartbeat\n\n',
};

// ---------------------------------------------------------------------------------------------

@Injectable()
export class WebhookIdParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!WEBHOOK_ID.test(value)) throw badRequest('The webhook id in the path is malformed.', [{ field: 'webhookId', message: 'must be 1-100 letters, digits, dots, underscores or dashes' }]);
    return value;
  }
}

const wantsStream = (accept: string | undefined) => typeof accept === 'string' && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);

@ApiTags('integration')
@ApiExtraModels(Problem, FeedPageView, FeedEventView)
@Controller('v1')
export class IntegrationController implements OnModuleDestroy {
  /** Aborted when the app shuts down: waits end at once and event streams are closed. */
  private readonly closing = new AbortController();
  private readonly streams = new Set<ServerResponse>();

  constructor(
    @Inject(EventFeed) private readonly feed: EventFeed,
    @Inject(WebhookDirectory) private readonly webhooks: WebhookDirectory,
    @Inject(AppLogger) private readonly logger: AppLogger,
  ) {}

  /** The app is closing: long-polls answer now, event streams end (they must not hold the server open). */
  onModuleDestroy(): void {
    this.closing.abort();
    for (const stream of this.streams) if (!stream.writableEnded) stream.end();
  }

  @Get('feed')
  @Roles('auditor', 'integration')
  @ApiOperation({
    summary: 'The log in global order after a position, optionally of some event types only (the ledger\'s decision facts such as CommandRefused included unless filtered out). '
      + '`wait` (0-30 s) holds the request until an event arrives. With `Accept: text/event-stream` it streams: each message\'s `id` is the position, `event` the type, `data` the event; '
      + '`Last-Event-ID` resumes after that position; a `: heartbeat` comment every 15 s when idle (with an `id` when a types filter skipped events since).',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Event stream only: resume after this position (takes precedence over `after`).', schema: { type: 'string', pattern: '^\\d{1,20}$' } })
  @ApiOkResponse({
    description: 'A page of events `{ events, next }` (application/json), or an event stream (text/event-stream).',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(FeedPageView) } },
      'text/event-stream': EVENT_STREAM,
    },
  })
  @ApiProblemResponse(400, PROBLEMS[400]('query or Last-Event-ID'))
  @ApiProblemResponse(401, PROBLEMS[401]())
  @ApiProblemResponse(403, problems[403])
  @ApiProblemResponse(503, problems[503])
  async readFeed(@Query() q: FeedQuery, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const stream = wantsStream(request.headers.accept);
    const lastEventId = request.headers['last-event-id'];
    if (stream && lastEventId !== undefined && (typeof lastEventId !== 'string' || !POSITION.test(lastEventId))) {
      throw badRequest('Last-Event-ID must be a position this feed sent.', [{ field: 'Last-Event-ID', message: 'must be a global position (digits)' }]);
    }
    const after = stream && typeof lastEventId === 'string' ? BigInt(lastEventId) : BigInt(q.after ?? '0');
    const types = q.types ? [...new Set(q.types.split(','))] : null;
    if (!(await this.feed.consistent(q.minPosition === undefined ? undefined : BigInt(q.minPosition)))) throw notCaughtUp();
    if (stream) return this.stream(reply, after, types);

    const limit = q.limit === undefined ? 100 : Number(q.limit);
    const deadline = Date.now() + (q.wait === undefined ? 0 : Number(q.wait)) * 1000;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.on('close', onClose);
    try {
      const stop = AbortSignal.any([gone.signal, this.closing.signal]);
      let page: FeedPage = this.feed.page({ after, types, limit });
      while (page.events.length === 0 && Date.now() < deadline && !stop.aborted) {
        await this.feed.waitBeyond(BigInt(page.next), deadline - Date.now(), stop);
        page = this.feed.page({ after: BigInt(page.next), types, limit });
      }
      if (gone.signal.aborted) return;
      reply.status(200).header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(page));
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /** The feed as a text/event-stream until the client goes away or the app shuts down. */
  private async stream(reply: FastifyReply, start: bigint, types: string[] | null): Promise<void> {
    const raw = reply.raw;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    raw.on('close', onClose);
    const stop = AbortSignal.any([gone.signal, this.closing.signal]);
    reply.hijack();
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
    raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.streams.add(raw);
    let lastWrite = Date.now();
    const write = async (chunk: string) => {
      lastWrite = Date.now();
      if (!raw.write(chunk)) await drained(raw, stop);
    };
    try {
      let after = start;
      let announced = start;
      await write(`retry: 3000\n: CareLedger event feed after position ${start}\n\n`);
      while (!stop.aborted) {
        const page = this.feed.page({ after, types, limit: STREAM_BATCH });
        for (const e of page.events) {
          if (stop.aborted) return;
          await write(`id: ${e.position}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
          announced = BigInt(e.position);
        }
        after = BigInt(page.next);
        if (page.events.length === STREAM_BATCH) continue;
        const idle = Date.now() - lastWrite;
        if (idle >= FEED_HEARTBEAT_MS) {
          // an id-only message moves the client's Last-Event-ID past events its types filter skipped (no event fires)
          await write(after > announced ? `: heartbeat\nid: ${after}\n\n` : ': heartbeat\n\n');
          announced = after > announced ? after : announced;
          continue;
        }
        await this.feed.waitBeyond(after, FEED_HEARTBEAT_MS - idle, stop);
      }
    } catch (error) {
      this.logger.pino.warn({ reqId: reply.request.id, err: error }, 'event stream ended on an error');
    } finally {
      raw.off('close', onClose);
      this.streams.delete(raw);
      if (!raw.writableEnded && !raw.destroyed) raw.end();
    }
  }

  @Put('webhooks/:webhookId')
  @Roles()
  @ApiOperation({
    summary: 'Create or replace a webhook (admin). A new one delivers the events recorded after it was created; a replaced one keeps its place in the log, '
      + 'and a paused one resumes from where it stopped. The secret is kept in the store\'s records only and never answered.',
  })
  @ApiExtraModels(WebhookView)
  @ApiCreatedResponse({ type: WebhookView, description: 'Created.' })
  @ApiOkResponse({ type: WebhookView, description: 'Replaced (and resumed when it was paused).' })
  @ApiProblemResponse(400, problems[400])
  @ApiProblemResponse(401, PROBLEMS[401]())
  @ApiProblemResponse(403, problems[403])
  async putWebhook(@Param('webhookId', WebhookIdParam) webhookId: string, @Body() dto: WebhookDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, view } = await this.webhooks.put(webhookId, { url: dto.url, types: dto.types ? [...dto.types] : null, secret: dto.secret });
    reply.status(created ? 201 : 200);
    return view;
  }

  @Get('webhooks/:webhookId')
  @Roles()
  @ApiOperation({ summary: 'A webhook and where its delivery stands (admin); never its secret.' })
  @ApiReadResponse(WebhookView, { notFound: 'WebhookNotFound', description: 'The webhook.' })
  async getWebhook(@Param('webhookId', WebhookIdParam) webhookId: string) {
    const view = await this.webhooks.get(webhookId);
    if (!view) throw notFound('WebhookNotFound', `No webhook ${webhookId}.`);
    return view;
  }

  @Get('webhooks/:webhookId/deliveries')
  @Roles('auditor')
  @ApiOperation({ summary: 'A webhook\'s delivery attempts, newest first (the last 200 are kept), paginated by cursor (admin, auditor).' })
  @ApiReadResponse(DeliveriesPage, { notFound: 'WebhookNotFound', description: 'A page of attempts, `{ items, nextCursor }`.' })
  async listDeliveries(@Param('webhookId', WebhookIdParam) webhookId: string, @Query() q: DeliveriesQuery) {
    const page = await this.webhooks.deliveries(webhookId, { before: cursorOf(q.cursor), limit: q.limit === undefined ? 50 : Number(q.limit) });
    if (!page) throw notFound('WebhookNotFound', `No webhook ${webhookId}.`);
    return { items: page.items, nextCursor: nextCursor(page.next) };
  }
}

function drained(raw: ServerResponse, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
    stop.addEventListener('abort', done, { once: true });
  });
}
