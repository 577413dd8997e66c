/**
 * Integration (API.md v1.1): the event feed for admin, auditor and the read-only `integration`
 * role, as JSON pages (with long-poll `wait`) or as a text/event-stream; and webhooks (admin),
 * whose delivery attempts auditors may read too. The feed reads this node's copy of the log
 * (libs/runtime/src/feed.ts says why); webhooks live in the store's records and are delivered by
 * the runtime's dispatcher (libs/runtime/src/webhooks.ts).
 */
import { Body, Controller, Get, Inject, Injectable, OnModuleDestroy, Param, PipeTransform, Put, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth, ApiCreatedResponse, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { FeedPage, WEBHOOK_ID } from '@careledger/runtime';
import { Roles } from '../auth/auth.guard';
import { DeliveriesQuery, FeedQuery, WebhookDto } from '../dto/integration.dto';
import { AppLogger } from '../http/logger';
import { Problem } from '../dto/answers.dto';
import { ApiProblemResponse } from '../http/openapi';
import { badRequest, notCaughtUp, notFound, PROBLEM_BASE } from '../http/problem';
import { EventFeed, WebhookDirectory } from '../ports/integration-ports';
import { cursorOf, nextCursor } from './params';

/** An idle event stream gets a comment this often, so proxies and clients know it is alive. */
export const FEED_HEARTBEAT_MS = 15_000;
/** Events an event stream reads from the log copy at a time. */
const STREAM_BATCH = 500;
const POSITION = /^\d{1,20}$/;
const POSITION_DOC = 'A global position of the log (decimal string). Compare positions; never subtract them (on EventStoreDB they are byte offsets).';

// ---------------------------------------------------------------------------------------------
// OpenAPI classes (documentation only)

export class FeedEventView {
  @ApiProperty({ description: POSITION_DOC, example: '1042' })
  position: string;

  @ApiProperty()
  eventId: string;

  @ApiProperty({ example: 'plan-plan-7f3c2a' })
  streamId: string;

  @ApiProperty({ description: 'The event\'s revision in its stream (0 = first).', type: 'integer' })
  revision: number;

  @ApiProperty({ description: 'The event type, including the ledger\'s decision facts (CommandRefused, CommandRepeated).', example: 'PlanPurchased' })
  type: string;

  @ApiProperty({ description: 'When it happened (business time).' })
  occurredAt: string;

  @ApiProperty({ description: 'When the ledger recorded it (millisecond precision).' })
  recordedAt: string;

  @ApiProperty()
  actor: string;

  @ApiProperty()
  correlationId: string;

  @ApiProperty({ nullable: true, type: String })
  causationId: string | null;

  @ApiProperty({ description: 'The event\'s data, as its type defines it.', type: 'object', additionalProperties: true })
  data: Record<string, unknown>;

  @ApiProperty({ description: 'The chain hash the store stamped on the event (sha256 hex).', nullable: true, type: String })
  hash: string | null;
}

export class FeedPageView {
  @ApiProperty({ type: () => FeedEventView, isArray: true, description: 'In global order.' })
  events: FeedEventView[];

  @ApiProperty({
    description: `Pass as \`after\` for the next page: the last event's position, or (with \`types\`) the last position examined; \`after\` itself on an empty page. ${POSITION_DOC}`,
  })
  next: string;
}

export class PendingDeliveryView {
  @ApiProperty({ description: POSITION_DOC })
  position: string;

  @ApiProperty()
  eventId: string;

  @ApiProperty()
  type: string;

  @ApiProperty({ description: 'The delivery id (X-CareLedger-Delivery): the same on every retry of this event.' })
  deliveryId: string;

  @ApiProperty({ type: 'integer', description: 'Attempts made for this event so far.' })
  attempts: number;
}

export class WebhookView {
  @ApiProperty()
  webhookId: string;

  @ApiProperty({ description: 'Where deliveries are POSTed.' })
  url: string;

  @ApiProperty({ description: 'The event types delivered; null for every event.', type: String, isArray: true, nullable: true })
  types: string[] | null;

  @ApiProperty()
  createdAt: string;

  @ApiProperty()
  updatedAt: string;

  @ApiProperty({ enum: ['active', 'paused'], description: 'paused: it kept failing and is not retried until an admin PUTs it again.' })
  status: string;

  @ApiProperty({ nullable: true, type: String })
  pausedAt: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why it paused.' })
  pausedReason: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'When an admin last resumed it.' })
  resumedAt: string | null;

  @ApiProperty({ description: `Every event up to this position was delivered (or is not of its types). ${POSITION_DOC}` })
  position: string;

  @ApiProperty({ type: 'integer' })
  delivered: number;

  @ApiProperty({ type: 'integer', description: 'Delivery attempts made (successful or not).' })
  attempts: number;

  @ApiProperty({ type: 'integer' })
  consecutiveFailures: number;

  @ApiProperty({ nullable: true, type: String })
  failingSince: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'When the failing event is tried again.' })
  nextAttemptAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  lastSuccessAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  lastFailureAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  lastError: string | null;

  @ApiProperty({ nullable: true, type: () => PendingDeliveryView, description: 'The event being retried.' })
  pending: PendingDeliveryView | null;

  @ApiProperty({ nullable: true, type: String, description: 'The node delivering it now (holding its lease); null when none is.' })
  deliveringNode: string | null;
}

export class DeliveryAttemptView {
  @ApiProperty({ type: 'integer', description: 'The attempt\'s sequence number for this webhook.' })
  seq: number;

  @ApiProperty({ description: 'The same for every attempt of one event: receivers deduplicate on it.' })
  deliveryId: string;

  @ApiProperty()
  webhookId: string;

  @ApiProperty()
  eventId: string;

  @ApiProperty({ description: POSITION_DOC })
  position: string;

  @ApiProperty()
  type: string;

  @ApiProperty({ type: 'integer', description: 'The n-th attempt for this event.' })
  attempt: number;

  @ApiProperty()
  at: string;

  @ApiProperty({ type: 'integer' })
  durationMs: number;

  @ApiProperty({ description: 'The node that made the attempt.' })
  node: string;

  @ApiProperty({ enum: ['delivered', 'failed'] })
  outcome: string;

  @ApiPropertyOptional({ nullable: true, type: 'integer', description: 'The receiver\'s HTTP status; null when no answer came.' })
  status: number | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  error: string | null;
}

export class DeliveriesPage {
  @ApiProperty({ type: () => DeliveryAttemptView, isArray: true, description: 'Newest first; the last 200 attempts are kept.' })
  items: DeliveryAttemptView[];

  @ApiProperty({ description: 'Pass as cursor for older attempts; null on the last page.', nullable: true, type: String })
  nextCursor: string | null;
}

const problems = {
  400: { description: 'Malformed path, query, header or body: `errors` names each field (ValidationFailed).', example: { type: `${PROBLEM_BASE}ValidationFailed`, title: 'Bad Request', status: 400, detail: 'The request has invalid fields.', code: 'ValidationFailed', errors: [{ field: 'url', message: 'url must be an absolute http or https URL' }] } },
  401: { description: 'No valid Bearer token.', example: { type: `${PROBLEM_BASE}Unauthorized`, title: 'Unauthorized', status: 401, detail: 'A valid Bearer token is required.', code: 'Unauthorized' } },
  403: { description: 'The role may not do this.', example: { type: `${PROBLEM_BASE}Forbidden`, title: 'Forbidden', status: 403, detail: 'The role integration may not do this.', code: 'Forbidden' } },
  404: { description: 'No such webhook (WebhookNotFound).', example: { type: `${PROBLEM_BASE}WebhookNotFound`, title: 'Not Found', status: 404, detail: 'No webhook W-1.', code: 'WebhookNotFound' } },
  503: { description: 'The read models have not reached what this read needs (NotCaughtUp), or the store is unreachable (StoreUnavailable).', example: { type: `${PROBLEM_BASE}NotCaughtUp`, title: 'Service Unavailable', status: 503, detail: 'The read models have not reached the position this read needs yet; retry shortly.', code: 'NotCaughtUp' } },
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
@ApiBearerAuth()
@ApiExtraModels(Problem, FeedPageView)
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
      'text/event-stream': { schema: { type: 'string' }, example: 'id: 1042\nevent: PlanPurchased\ndata: {"position":"1042","eventId":"…","type":"PlanPurchased",…}\n\n: heartbeat\n\n' },
    },
  })
  @ApiProblemResponse(400, problems[400])
  @ApiProblemResponse(401, problems[401])
  @ApiProblemResponse(403, problems[403])
  @ApiProblemResponse(503, problems[503])
  async read(@Query() q: FeedQuery, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
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
  @ApiProblemResponse(401, problems[401])
  @ApiProblemResponse(403, problems[403])
  async put(@Param('webhookId', WebhookIdParam) webhookId: string, @Body() dto: WebhookDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, view } = await this.webhooks.put(webhookId, { url: dto.url, types: dto.types ? [...dto.types] : null, secret: dto.secret });
    reply.status(created ? 201 : 200);
    return view;
  }

  @Get('webhooks/:webhookId')
  @Roles()
  @ApiOperation({ summary: 'A webhook and where its delivery stands (admin); never its secret.' })
  @ApiOkResponse({ type: WebhookView, description: 'The webhook.' })
  @ApiProblemResponse(400, problems[400])
  @ApiProblemResponse(401, problems[401])
  @ApiProblemResponse(403, problems[403])
  @ApiProblemResponse(404, problems[404])
  async get(@Param('webhookId', WebhookIdParam) webhookId: string) {
    const view = await this.webhooks.get(webhookId);
    if (!view) throw notFound('WebhookNotFound', `No webhook ${webhookId}.`);
    return view;
  }

  @Get('webhooks/:webhookId/deliveries')
  @Roles('auditor')
  @ApiOperation({ summary: 'A webhook\'s delivery attempts, newest first (the last 200 are kept), paginated by cursor (admin, auditor).' })
  @ApiOkResponse({ type: DeliveriesPage, description: 'A page of attempts, `{ items, nextCursor }`.' })
  @ApiProblemResponse(400, problems[400])
  @ApiProblemResponse(401, problems[401])
  @ApiProblemResponse(403, problems[403])
  @ApiProblemResponse(404, problems[404])
  async deliveries(@Param('webhookId', WebhookIdParam) webhookId: string, @Query() q: DeliveriesQuery) {
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
