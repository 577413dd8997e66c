/** Liveness/readiness with projection lag, and Prometheus metrics. Public, as probes expect. */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.guard';
import { MetricsService } from '../http/metrics.service';

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
  async prometheus(@Res({ passthrough: true }) reply: FastifyReply) {
    this.metrics.projectionCheckpoint.set(Number(this.runtime.runner.checkpoint));
    this.metrics.projectionLag.set(this.runtime.runner.lagMs / 1000);
    const behind = this.runtime.acknowledged - this.runtime.runner.checkpoint;
    this.metrics.projectionBehind.set(behind > 0n ? Number(behind) : 0);
    reply.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
