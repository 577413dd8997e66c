/** Prometheus metrics: request rates and latencies, append latency, projection lag. */
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'careledger_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'careledger_http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly appendLatency = new Histogram({
    name: 'careledger_append_duration_seconds',
    help: 'Latency of event-store appends (including the durable commit).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly appends = new Counter({
    name: 'careledger_appends_total',
    help: 'Appends acknowledged by the event store.',
    registers: [this.registry],
  });
  readonly projectionLag = new Gauge({
    name: 'careledger_projection_lag_seconds',
    help: 'How far behind the log the read models are: 0 when caught up, else the age of the oldest event not applied yet.',
    registers: [this.registry],
  });
  readonly projectionCheckpoint = new Gauge({
    name: 'careledger_projection_checkpoint',
    help: 'Global position the read models reflect.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'careledger_' });
  }
}
