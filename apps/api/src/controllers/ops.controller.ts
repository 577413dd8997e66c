/** Liveness and readiness with projection lag (public, as probes expect), and Prometheus metrics (a token, unless opened). */
import { Controller, Get, Inject, OnApplicationBootstrap, OnApplicationShutdown, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OpenWhen, Public, Roles } from '../auth/auth.guard';
import { MetricsService } from '../http/metrics.service';
import { Health, Liveness } from '../dto/views.dto';
import { ApiAuthProblems } from '../http/openapi';
import { LedgerQueries, Operations } from '../ports/ports';

@ApiTags('operations')
@Controller()
export class OpsController implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly started = Date.now();
  private warmUp: NodeJS.Timeout | null = null;

  constructor(
    @Inject(Operations) private readonly ops: Operations,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /**
   * The business counters count the whole log once, then only what is new: that first count starts
   * a moment after start-up instead of in the first scrape (grouped index counts, a few seconds for
   * ten million events, which need not fall into a scrape's timeout).
   */
  onApplicationBootstrap(): void {
    this.warmUp = setTimeout(() => void this.metrics.refresh(this.reads, this.ops).catch(() => undefined), 1000);
    this.warmUp.unref();
  }

  onApplicationShutdown(): void {
    if (this.warmUp) clearTimeout(this.warmUp);
  }

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness and readiness in one: store reachable, read models caught up and within the lag limit.' })
  @ApiOkResponse({ type: Health, description: 'Ready.' })
  @ApiServiceUnavailableResponse({ type: Health, description: 'Not ready: `reasons` says why.' })
  async getHealth(@Res({ passthrough: true }) reply: FastifyReply) {
    const h = await this.ops.health();
    reply.status(h.ready ? 200 : 503);
    return {
      status: h.ready ? 'ok' : 'unavailable',
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      reasons: h.reasons,
      store: h.store,
      projection: h.projection,
      catalogue: h.catalogue,
    };
  }

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'The process is up (200), whatever the store does.' })
  @ApiOkResponse({ type: Liveness, description: 'Alive.' })
  getLiveness() {
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.started) / 1000) };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: '200 when the store is reachable and the read models are within the lag limit, else 503 with the reasons.' })
  @ApiOkResponse({ type: Health, description: 'Ready.' })
  @ApiServiceUnavailableResponse({ type: Health, description: 'Not ready: `reasons` says why.' })
  getReadiness(@Res({ passthrough: true }) reply: FastifyReply) {
    return this.getHealth(reply);
  }

  @Get('metrics')
  @Roles('auditor')
  @OpenWhen('metrics')
  @ApiOperation({ summary: 'Prometheus text exposition. Needs an auditor (or admin) token, unless the operator set CARELEDGER_METRICS_PUBLIC=true.' })
  @ApiOkResponse({
    description: 'The metrics in the Prometheus text format.',
    content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
  })
  @ApiAuthProblems()
  async getMetrics(@Res({ passthrough: true }) reply: FastifyReply) {
    await this.metrics.refresh(this.reads, this.ops);
    reply.type(this.metrics.registry.contentType);
    return this.metrics.exposition();
  }
}
