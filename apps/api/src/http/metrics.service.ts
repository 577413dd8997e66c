/**
 * Prometheus metrics (GET /metrics).
 *
 * - Node.js process metrics under their stock names (`process_cpu_seconds_total`,
 *   `nodejs_eventloop_lag_seconds`, ...), so stock Node.js dashboards work; prom-client's three
 *   gauges whose names end in `_total` are exposed as `nodejs_active_handles_all`,
 *   `nodejs_active_requests_all` and `nodejs_active_resources_all` instead (`_total` is for
 *   counters: promtool flags a gauge with it). Only counters end in `_total`.
 * - HTTP: requests by method, route and status; latency; conflicts (409 and 412) by code.
 * - The store: append latency and count; the read models: checkpoint and lag.
 * - Business: claims by outcome, replacements issued, refusals by code and rule, sweep grants by
 *   kind, counted from the log as the read models applied it (ledger-tally.ts), so every node
 *   agrees and a restart does not reset them.
 * - `careledger_build_info`: 1, labelled with the version, Node.js version, store kind and catalogue version.
 */
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LedgerQueries, Operations } from '../ports/ports';
import { appVersion } from './build-info';
import { CLAIM_OUTCOMES, LedgerTally, TallySink } from './ledger-tally';

/** prom-client's gauges named like counters, and the names they are exposed under here. */
const RENAMED_GAUGES: { from: string; to: string; help: string; count: () => number }[] = [
  {
    from: 'nodejs_active_handles_total',
    to: 'nodejs_active_handles_all',
    help: 'Active libuv handles, all types together (prom-client\'s nodejs_active_handles_total, renamed: a gauge).',
    count: () => (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.().length ?? 0,
  },
  {
    from: 'nodejs_active_requests_total',
    to: 'nodejs_active_requests_all',
    help: 'Active libuv requests, all types together (prom-client\'s nodejs_active_requests_total, renamed: a gauge).',
    count: () => (process as unknown as { _getActiveRequests?: () => unknown[] })._getActiveRequests?.().length ?? 0,
  },
  {
    from: 'nodejs_active_resources_total',
    to: 'nodejs_active_resources_all',
    help: 'Resources keeping the event loop alive, all types together (prom-client\'s nodejs_active_resources_total, renamed: a gauge).',
    count: () => process.getActiveResourcesInfo().length,
  },
];

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
  readonly conflicts = new Counter({
    name: 'careledger_conflicts_total',
    help: 'Answers 409 and 412 by status and problem code (IdempotencyKeyReused, ConcurrencyConflict, AlreadyVoided, ...), as this node answered them.',
    labelNames: ['status', 'code'] as const,
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
    help: 'How far behind the log the read models are: 0 when caught up, else the age of the oldest event received and not applied yet.',
    registers: [this.registry],
  });
  readonly projectionCheckpoint = new Gauge({
    name: 'careledger_projection_checkpoint',
    help: 'Global position the read models reflect.',
    registers: [this.registry],
  });
  readonly claims = new Counter({
    name: 'careledger_claims_total',
    help: 'Claim facts in the log by outcome (opened, approved, denied, paid, fulfilled, cancelled), as the read models applied them.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly replacements = new Counter({
    name: 'careledger_replacements_issued_total',
    help: 'Replacement units issued (ClaimFulfilled facts in the log).',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'careledger_refusals_total',
    help: 'Commands refused by a business rule (the decision log\'s refusals), by code and rule.',
    labelNames: ['code', 'rule'] as const,
    registers: [this.registry],
  });
  readonly sweepGrants = new Counter({
    name: 'careledger_sweep_grants_total',
    help: 'Warranty extensions the scheduled sweep granted, by kind (plan-year-2, safe-use-reward).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly countedPosition = new Gauge({
    name: 'careledger_business_metrics_position',
    help: 'The log position the business counters (claims, replacements, refusals, sweep grants) reflect.',
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'careledger_build_info',
    help: 'Always 1; the labels say what runs: CareLedger version, Node.js version, store kind and catalogue version.',
    labelNames: ['version', 'node_version', 'store', 'catalogue'] as const,
    registers: [this.registry],
  });
  private tally: LedgerTally | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const gauge of RENAMED_GAUGES) {
      this.registry.removeSingleMetric(gauge.from);
      new Gauge({
        name: gauge.to,
        help: gauge.help,
        registers: [this.registry],
        collect() {
          this.set(gauge.count());
        },
      });
    }
    for (const outcome of Object.values(CLAIM_OUTCOMES)) this.claims.inc({ outcome }, 0);
    this.replacements.inc(0);
  }

  /** Brings the gauges and the business counters up to date with the node (before each exposition). */
  async refresh(queries: LedgerQueries, ops: Operations): Promise<void> {
    const health = await ops.health();
    this.projectionCheckpoint.set(Number(health.projection.checkpoint));
    this.projectionLag.set(health.projection.lagMs / 1000);
    this.buildInfo.reset();
    this.buildInfo.set({ version: appVersion(), node_version: process.version, store: health.store.kind, catalogue: health.catalogue }, 1);
    this.tally ??= new LedgerTally(queries, this.sink());
    await this.tally.update();
    this.countedPosition.set(this.tally.countedThrough);
  }

  /**
   * The text exposition. prom-client writes not-a-number as `Nan` (the event-loop lag statistics
   * before their first sample): Prometheus reads it (Go's ParseFloat ignores case), stricter parsers
   * (OpenMetrics) want `NaN`, which both read.
   */
  async exposition(): Promise<string> {
    return (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }

  private sink(): TallySink {
    return {
      claims: (outcome, n) => this.claims.inc({ outcome }, n),
      replacements: (n) => this.replacements.inc(n),
      refusals: (code, rule, n) => this.refusals.inc({ code, rule }, n),
      sweepGrants: (kind, n) => this.sweepGrants.inc({ kind }, n),
      reset: () => {
        this.claims.reset();
        this.replacements.reset();
        this.refusals.reset();
        this.sweepGrants.reset();
        for (const outcome of Object.values(CLAIM_OUTCOMES)) this.claims.inc({ outcome }, 0);
        this.replacements.inc(0);
      },
    };
  }
}
