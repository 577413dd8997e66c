/** Liveness/readiness with projection lag, and Prometheus metrics. Public, as probes expect. */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { MetricsService } from '../http/metrics.service';
import { Health } from '../http/openapi';

@ApiTags('operations')
@Controller()
export class OpsController {
  private readonly started = Date.now();

  constructor(
    @Inject(Runtime) private readonly runtime: Runtime,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness and readiness: store reachable, projection caught up (lag).' })
  @ApiOkResponse({ type: Health, description: 'Ready: the store answers and the read models know how far behind they are.' })
  @ApiServiceUnavailableResponse({ type: Health, description: 'Not ready (status unavailable): the store is unreachable.' })
  async health(@Res({ passthrough: true }) reply: FastifyReply) {
    const reachable = await this.runtime.store.ping().catch(() => false);
    const head = reachable ? await this.runtime.store.headPosition().catch(() => null) : null;
    const checkpoint = this.runtime.runner.checkpoint;
    const behind = head === null ? null : head > checkpoint ? (head - checkpoint).toString() : '0';
    const ready = reachable && behind !== null;
    reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'unavailable',
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      store: { kind: this.runtime.store.kind, reachable, head: head?.toString() ?? null },
      projection: { checkpoint: checkpoint.toString(), behind, lagMs: this.runtime.runner.lagMs },
      catalogue: this.runtime.catalogue.version,
    };
  }

  @Get('metrics')
  @Public()
  @ApiOperation({ summary: 'Prometheus text exposition.' })
  @ApiOkResponse({
    description: 'The metrics in the Prometheus text format.',
    content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
  })
  async prometheus(@Res({ passthrough: true }) reply: FastifyReply) {
    this.metrics.projectionCheckpoint.set(Number(this.runtime.runner.checkpoint));
    this.metrics.projectionLag.set(this.runtime.runner.lagMs / 1000);
    const behind = this.runtime.acknowledged - this.runtime.runner.checkpoint;
    this.metrics.projectionBehind.set(behind > 0n ? Number(behind) : 0);
    reply.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
