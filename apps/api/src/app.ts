/**
 * Builds the HTTP app on Fastify: strict validation, problem+json errors (the framework's own
 * too), security headers, request ids into event metadata, structured request logs, metrics,
 * OpenAPI at /docs, and a bounded shutdown.
 */
import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { Runtime } from '@careledger/runtime';
import { AppModule } from './app.module';
import { AuthOptions } from './auth/auth.guard';
import { TokenRegistry } from './auth/tokens';
import { AppConfig } from './config';
import { clientErrorHandler, DRAIN_LIMIT_BYTES, frameworkErrors, registerBodyLimit, registerJsonParser, securityHeaders } from './http/hardening';
import { AppLogger } from './http/logger';
import { MetricsService } from './http/metrics.service';
import { buildDocument } from './http/openapi';
import { problem, problemCodeOf, ProblemException, sendProblem } from './http/problem';
import { CatchUpProgress } from './startup';

export interface App {
  app: NestFastifyApplication;
  runtime: Runtime;
  metrics: MetricsService;
  logger: AppLogger;
  /**
   * Stops the node, once however often it is called: new requests are answered 503 at once, the
   * requests in flight get `shutdownGraceMs` to finish, then every connection still open (keep-alive,
   * a half-sent request, a long poll or a stream) is cut; then the runtime closes.
   */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export async function createApp(config: AppConfig, tokens: TokenRegistry, runtime?: Runtime): Promise<App> {
  const logger = new AppLogger(config.logLevel, config.logFormat);
  const metrics = new MetricsService();
  // a long log is applied before the node listens: say how far it got, every few seconds
  const progress = new CatchUpProgress(logger.pino, 5000, Date.now, () => logger.flush());
  const rt =
    runtime ??
    (await Runtime.open({
      dbPath: config.dbPath,
      readDbPath: config.readDbPath,
      databaseUrl: config.databaseUrl,
      eventStoreConnectionString: config.eventStoreConnectionString,
      cataloguePath: config.cataloguePath,
      signingKeyPem: config.signingKeyPem,
      signingKeyFile: config.signingKeyFile,
      signingKeyDefaultFile: config.signingKeyDefaultFile,
      readWaitMs: config.readWaitMs,
      unitCacheEvents: config.unitCacheEvents,
      onAppended: (_position, ms) => {
        metrics.appends.inc();
        metrics.appendLatency.observe(ms / 1000);
      },
      onApplied: (applied) => progress.applied(applied),
      logger: logger.pino,
    }));

  const parserLimit = Math.max(config.bodyLimitBytes, DRAIN_LIMIT_BYTES);
  const adapter = new FastifyAdapter({
    // the parser may read up to the drain limit; the configured limit is enforced, honestly, by registerBodyLimit
    bodyLimit: parserLimit,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // the app logs one structured line per request itself (below)
    logger: false,
    // answered below as problem+json instead of Fastify's plain JSON
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.create(rt, tokens, metrics, logger, new AuthOptions({ metrics: config.metricsPublic })),
    adapter,
    { logger: config.logLevel === 'silent' ? false : logger, bodyParser: false },
  );

  const fastify = app.getHttpAdapter().getInstance();
  let closing = false;
  const security = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/docs') ? security.docs : security.common);
    if (request.protocol === 'https') reply.header('Strict-Transport-Security', security.hsts);
    reply.header('X-Request-Id', request.id);
    (request as unknown as { startedAt: bigint }).startedAt = process.hrtime.bigint();
    if (closing) {
      reply.header('Connection', 'close');
      sendProblem(reply, problem(503, 'ShuttingDown', 'This node is shutting down; retry shortly (or on another node).'), 2);
      return;
    }
    done();
  });
  if (config.corsOrigins.length > 0) app.enableCors({ origin: config.corsOrigins });

  fastify.addHook('onResponse', async (request, reply) => {
    const started = (request as unknown as { startedAt?: bigint }).startedAt;
    const seconds = started ? Number(process.hrtime.bigint() - started) / 1e9 : 0;
    // the route's pattern, never the URL: no serial, query string or secret in one reaches the log
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, seconds);
    if (reply.statusCode === 409 || reply.statusCode === 412) metrics.conflicts.inc({ status: String(reply.statusCode), code: problemCodeOf(reply) ?? 'unknown' });
    if (logger.pino.isLevelEnabled('info')) {
      logger.pino.info({
        reqId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        actor: (request as unknown as { principal?: { actor: string } }).principal?.actor,
      });
    }
  });
  // JSON in UTF-8 only; anything else is 415 (a form body is not read as fields)
  registerJsonParser(fastify, parserLimit);
  registerBodyLimit(fastify, config.bodyLimitBytes);
  app.useGlobalPipes({
    // a body must be a JSON object (arrays, strings and numbers are malformed input)
    transform(value: unknown, metadata) {
      if (metadata.type !== 'body') return value;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ProblemException(problem(400, 'ValidationFailed', 'The body must be a JSON object.', { errors: [{ field: '', message: 'must be a JSON object' }] }));
      }
      return value;
    },
  });

  app.useGlobalPipes(
    new EmptyQueryFastPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      stopAtFirstError: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ProblemException(problem(400, 'ValidationFailed', 'The request has invalid fields.', { errors: flatten(errors) })),
    }),
  );
  SwaggerModule.setup('docs', app, buildDocument(app), { jsonDocumentUrl: 'docs-json' });

  await app.init();
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const server = app.getHttpServer();
      server.closeIdleConnections();
      // requests in flight may finish; then whatever still holds a connection is cut
      const cut = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      if (!runtime) await rt.close();
    })());
  return { app, runtime: rt, metrics, logger, close };
}

/**
 * Most reads carry no query string. Validating `{}` against a query DTO answers the same every
 * time, so it is done once per DTO and then skipped (class-transformer + class-validator cost
 * ~40 µs a request, a sixth of a cached entitlement read).
 */
class EmptyQueryFastPipe extends ValidationPipe {
  private readonly emptyValid = new Map<unknown, boolean>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const empty = metadata.type === 'query' && typeof metadata.metatype === 'function' && value !== null && typeof value === 'object' && Object.keys(value).length === 0;
    if (!empty) return super.transform(value, metadata);
    if (this.emptyValid.get(metadata.metatype) === true) return new (metadata.metatype as new () => object)();
    const transformed = await super.transform(value, metadata);
    this.emptyValid.set(metadata.metatype, true);
    return transformed;
  }
}

function flatten(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({ field, message: message.replace(/^property (\S+) should not exist$/, 'is not a known field') });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

