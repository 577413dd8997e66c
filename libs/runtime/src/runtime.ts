/**
 * One CareLedger node: the event store (embedded SQLite, PostgreSQL or EventStoreDB), the read store
 * fed by the projection runner, the ledger that runs commands, the sweep, signed checkpoints and
 * verification. The HTTP app and the CLI both stand on it. The node keeps nothing that cannot be
 * rebuilt from the log: decisions and idempotency answers are facts in the store.
 */
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { Catalogue, CatalogueData, defaultCatalogue } from '@careledger/domain';
import {
  ChainPoint, Clock, ConcurrencyConflict, EventStore, IntegrityProgress, IntegrityReport, openEventStoreDbEventStore, openPostgresEventStore, openSqliteEventStore,
  SqliteEventStore, systemClock,
} from '@careledger/event-store';
import { DecisionLookup, importLegacyRecords, Ledger, storeDecisionLookup } from '@careledger/ledger';
import {
  createSchema, DEFAULT_UNIT_CACHE_EVENTS, LIVE, openReadStore, ProjectionRunner, ReadModelDivergence, ReadModels, rebuild, RebuildProgress, UnitFolds,
} from '@careledger/projections';
import { Checkpoints } from './checkpoints';
import { loadSigningKey } from './signing';
import { WebhookDispatcher } from './webhooks';

export interface RuntimeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: RuntimeLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface RuntimeOptions {
  /** The embedded store's SQLite file (when neither PostgreSQL nor EventStoreDB is configured). */
  dbPath: string;
  /** The node's read store (rebuildable). */
  readDbPath: string;
  /** PostgreSQL (API.md v1.1: CARELEDGER_DATABASE_URL): several nodes may share it. */
  databaseUrl?: string | null;
  eventStoreConnectionString?: string | null;
  /** An already opened store (tests). */
  store?: EventStore;
  cataloguePath?: string | null;
  clock?: Clock;
  synchronous?: 'FULL' | 'NORMAL';
  /** Start the projection runner (default true). */
  project?: boolean;
  /** When the log no longer holds the read models' checkpoint: rebuild them (default) or stop the node. */
  onDivergence?: 'rebuild' | 'stop';
  /** The signing key for checkpoints: PEM text, or a file; default `<data dir>/signing-key.pem`, generated. */
  signingKeyPem?: string | null;
  signingKeyFile?: string | null;
  signingKeyDefaultFile?: string;
  /** How long a read waits for the read models to reach the position it needs (ms). */
  readWaitMs?: number;
  /** Events the per-unit folds may hold in memory (dated and as-of reads reuse them); default 100,000. */
  unitCacheEvents?: number;
  /** Readiness fails while the read models are further behind the log than this (ms). */
  lagLimitMs?: number;
  onAppended?: (position: bigint, durationMs: number) => void;
  /**
   * After each batch the read models applied: the position reached, the batch's size, and the log's
   * head when the node opened (the host reports catch-up progress with it; called synchronously,
   * also while a catch-up keeps the event loop busy).
   */
  onApplied?: (progress: AppliedProgress) => void;
  logger?: RuntimeLogger;
}

export interface AppliedProgress {
  position: bigint;
  events: number;
  startHead: bigint;
}

export function loadCatalogue(path: string | null | undefined): Catalogue {
  if (!path) return defaultCatalogue();
  return new Catalogue(JSON.parse(readFileSync(path, 'utf8')) as CatalogueData);
}

export interface VerifyResult extends IntegrityReport {
  /** Where this walk started (null: the start of the log). */
  from: ChainPoint | null;
  /** The latest signed checkpoint within the verified part of the log, and whether the log holds it. */
  checkpoint: { position: string; hash: string; keyId: string; holds: boolean } | null;
}

export interface SweepResult {
  examined: number;
  granted: number;
  /** Set when another node holds the sweep's lease: this node did nothing. */
  leaseHeldBy?: string;
}

/** The node refuses work until an operator settles a divergence (HTTP 503). */
export class NodeNotServing extends Error {
  readonly code = 'NotServing';
  constructor(message: string) {
    super(message);
    this.name = 'NodeNotServing';
  }
}

/** The actor the sweep records its decisions under (the timer, `careledger sweep`, POST /v1/admin/sweeps). */
export const SWEEP_ACTOR = 'system:sweep';
const SWEEP_LEASE = 'lease:sweep';
const SWEEP_LEASE_MS = 10 * 60_000;

export class Runtime {
  private lastAck = 0n;
  private sweepsRunning = 0;
  /** The walk in flight of each kind (from the remembered point, or from the start), shared by concurrent callers. */
  private readonly verifying = new Map<'incremental' | 'full', Promise<VerifyResult>>();
  private dispatcher: WebhookDispatcher | null = null;
  readonly nodeId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  private constructor(
    readonly store: EventStore,
    readonly readDb: Database.Database,
    readonly catalogue: Catalogue,
    readonly ledger: Ledger,
    readonly runner: ProjectionRunner,
    readonly reads: ReadModels,
    readonly clock: Clock,
    readonly checkpoints: Checkpoints,
    /** The log's head when the node opened: reads wait until the read models reach it. */
    private startAt: bigint,
    private readonly readWaitMs: number,
    readonly lagLimitMs: number,
    private readonly decisions: DecisionLookup,
    private readonly logger: RuntimeLogger,
  ) {}

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silent;
    const catalogue = loadCatalogue(options.cataloguePath);
    mkdirSync(dirname(options.readDbPath), { recursive: true });
    let store: EventStore;
    if (options.databaseUrl && options.eventStoreConnectionString) {
      throw new Error('Both CARELEDGER_DATABASE_URL (PostgreSQL) and EVENTSTORE_CONNECTION_STRING (EventStoreDB) are set: a node has one store; unset one of them.');
    }
    if (options.store) store = options.store;
    else if (options.databaseUrl) store = await openPostgresEventStore({ connectionString: options.databaseUrl });
    else if (options.eventStoreConnectionString) store = openEventStoreDbEventStore({ connectionString: options.eventStoreConnectionString, clock });
    else {
      mkdirSync(dirname(options.dbPath), { recursive: true });
      store = openSqliteEventStore({ path: options.dbPath, clock, synchronous: options.synchronous ?? 'FULL' });
    }
    if (store instanceof SqliteEventStore) {
      const carried = await importLegacyRecords(store, clock.now());
      if (carried.decisions + carried.idempotency > 0) logger.info(carried, 'carried the old decision log and idempotency records into the log');
    }
    const readDb = openReadStore(options.readDbPath);
    createSchema(readDb, LIVE);

    const holder: { runtime?: Runtime } = {};
    const folds = new UnitFolds(options.unitCacheEvents ?? DEFAULT_UNIT_CACHE_EVENTS);
    const runner = new ProjectionRunner(store, readDb, catalogue, LIVE, {
      // the units whose facts a batch changed lose their folds with it (before any read sees the batch)
      onBatch: (batch) => {
        folds.forget(batch.dirtySerials);
        if (options.onApplied && holder.runtime) {
          options.onApplied({ position: batch.position, events: batch.events, startHead: holder.runtime.startHead });
        }
      },
      onError: (error) => logger.warn({ err: error }, 'projection runner: the log is unreachable, retrying'),
      onDivergence: async (divergence) => {
        logger.error({ checkpoint: divergence.checkpoint.position.toString(), found: divergence.found, head: divergence.head.toString() }, divergence.message);
        holder.runtime?.ledger.forgetStreams();
        if ((options.onDivergence ?? 'rebuild') === 'stop') return 'stop';
        logger.warn({}, 'rebuilding the read models from the log; reads wait until they reflect it');
        await rebuild(store, readDb, catalogue);
        folds.clear();
        holder.runtime?.forgetBeyond(await store.headPosition());
        return 'rebuilt';
      },
    });
    const reads = new ReadModels(readDb, catalogue, LIVE, () => runner.checkpoint, folds);
    const decisions: DecisionLookup = store.capabilities.eventLookup
      ? { ...storeDecisionLookup(store), legacy: async (actor, key) => reads.decisions.legacy(actor, key) }
      : {
          // no lookup by id in the store: the decision log read model, caught up to the log's head
          find: async (id) => ((await holder.runtime!.catchUpToHead()) ? reads.decisions.find(id) : Promise.reject(new Error('the read models are behind the log'))),
          legacy: async (actor, key) => reads.decisions.legacy(actor, key),
        };
    const ledger = new Ledger(store, catalogue, clock, {
      decisions,
      beforeCommand: () => {
        if (runner.state === 'diverged') throw new NodeNotServing(`the read models do not match the log: ${(runner.lastError as Error).message}`);
      },
      onAppended: (position, ms) => {
        holder.runtime?.acknowledge(position);
        options.onAppended?.(position, ms);
      },
    });
    const key = loadSigningKey({
      pem: options.signingKeyPem ?? null,
      file: options.signingKeyFile ?? null,
      defaultFile: options.signingKeyDefaultFile ?? join(dirname(options.readDbPath), 'signing-key.pem'),
    });
    if (key.generated) logger.warn({ signingKeyFile: key.file }, `generated a signing key for checkpoints at ${key.file}`);
    const checkpoints = new Checkpoints(store, key.signer, () => clock.now());
    await checkpoints.publishKey();
    const startHead = await store.headPosition();
    const rt = new Runtime(
      store, readDb, catalogue, ledger, runner, reads, clock, checkpoints, startHead, options.readWaitMs ?? 5000, options.lagLimitMs ?? 30_000, decisions, logger,
    );
    holder.runtime = rt;
    if (options.project !== false) runner.start();
    return rt;
  }

  /** This node's webhook deliveries: started by the host (npm start), stopped by close(). */
  get webhooks(): WebhookDispatcher {
    return (this.dispatcher ??= new WebhookDispatcher(this.store, this.nodeId, this.logger));
  }

  /** A decision recorded earlier, by its id (the store's lookup, or the decision log read model). */
  findDecision(decisionId: string) {
    return this.decisions.find(decisionId);
  }

  /** The log's head when the node opened (or, after a lost tail, the head it was rebuilt from): reads wait until the read models reach it. */
  get startHead(): bigint {
    return this.startAt;
  }

  /**
   * The read models were rebuilt from a log that no longer holds what they reflected (its tail was
   * lost: a failover to a replica that was behind, a restore). Positions this node acknowledged or
   * saw at start beyond the log's head went with that tail: reads stop waiting for them (they would
   * answer 503 until the new log grew that long, and then wait for other events).
   */
  private forgetBeyond(head: bigint): void {
    if (this.lastAck > head) this.lastAck = head;
    if (this.startAt > head) this.startAt = head;
  }

  /** The newest position this node has acknowledged to a client. */
  get acknowledged(): bigint {
    return this.lastAck;
  }

  acknowledge(position: bigint): void {
    if (position > this.lastAck) this.lastAck = position;
  }

  /** The read models reflect the log as it was when the node started, and are following it. */
  get ready(): boolean {
    return this.runner.verifiedAnchor && this.runner.checkpoint >= this.startHead && (this.runner.state === 'live' || this.runner.state === 'catching-up');
  }

  /**
   * Read-your-writes: waits until the read models reflect every command this node acknowledged
   * before the read began, the log as it was when the node started, and `minPosition` when the
   * client names one. Returns false when they do not within the wait (the caller answers 503).
   */
  async consistentRead(minPosition?: bigint, timeoutMs = this.readWaitMs): Promise<boolean> {
    let target = this.lastAck > this.startHead ? this.lastAck : this.startHead;
    if (minPosition !== undefined && minPosition > target) target = minPosition;
    return this.runner.waitFor(target, timeoutMs);
  }

  /** Waits until the read models reflect the log's head as of now (another node's writes included). */
  async catchUpToHead(timeoutMs = this.readWaitMs): Promise<boolean> {
    return this.runner.waitFor(await this.store.headPosition(), timeoutMs);
  }

  /**
   * W5: records the extensions whose condition has settled by `now`: plan year 2 of bundles activated
   * since, and safe-use rewards whose first term ended (plus the settlement days). Every decision is
   * taken as of `now` (never later than the clock: the future cannot be settled). Safe on every node
   * at once (decisions at the plans' revisions never grant twice); a lease in the store lets one node
   * do the work at a time.
   */
  async sweep(now: Date = this.clock.now(), batch = 500): Promise<SweepResult> {
    const limit = this.clock.now().getTime() + this.catalogue.rules.futureSkewMinutes * 60_000;
    if (now.getTime() > limit) throw new RangeError(`cannot sweep as of ${now.toISOString()}: that is in the future, and the future cannot be settled`);
    const holder = await this.takeLease(SWEEP_LEASE, SWEEP_LEASE_MS);
    if (holder !== this.nodeId) return { examined: 0, granted: 0, leaseHeldBy: holder };
    this.sweepsRunning++;
    try {
      return await this.sweepHoldingLease(now, batch);
    } finally {
      // the lease covers the work, not the time after it: another node may sweep next (a node that
      // dies mid-sweep holds it until it expires)
      if (--this.sweepsRunning === 0) await this.releaseLease(SWEEP_LEASE).catch(() => undefined);
    }
  }

  private async sweepHoldingLease(now: Date, batch: number): Promise<SweepResult> {
    await this.catchUpToHead();
    let examined = 0;
    let granted = 0;
    const ctx = { actor: SWEEP_ACTOR, correlationId: `sweep-${now.toISOString()}`, now };
    for (const planId of this.reads.plans.pendingYear2Plans(batch)) {
      examined++;
      const result = await this.ledger.execute({ type: 'GrantDueExtensions', planId, kinds: ['plan-year-2'] }, ctx);
      if (result.outcome?.kind === 'extensions') granted += result.outcome.granted.length;
    }
    for (const planId of this.reads.plans.dueRewardPlans(now.getTime(), batch)) {
      examined++;
      const result = await this.ledger.execute({ type: 'GrantDueExtensions', planId, kinds: ['safe-use-reward'] }, ctx);
      if (result.outcome?.kind !== 'extensions') continue;
      granted += result.outcome.granted.length;
      const reward = result.outcome.reward;
      // only what the decision settled is marked: a reward not due yet is looked at again when it is
      if (reward.status === 'not-due') this.reads.plans.rescheduleReward(planId, reward.settlesAtMs);
      else if (result.outcome.granted.length === 0) this.reads.plans.markRewardChecked(planId);
    }
    return { examined, granted };
  }

  /** Gives up a lease this node holds (compare-and-set: a lease another node took since stays its). */
  private async releaseLease(name: string): Promise<void> {
    const current = await this.store.records.get<{ holder: string; until: number }>(name);
    if (!current || current.value.holder !== this.nodeId) return;
    try {
      await this.store.records.put(name, { holder: this.nodeId, until: 0 }, current.version);
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
  }

  /** Takes (or renews) a lease in the store; answers who holds it. */
  private async takeLease(name: string, ttlMs: number): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.clock.now().getTime();
      const current = await this.store.records.get<{ holder: string; until: number }>(name);
      if (current && current.value.holder !== this.nodeId && current.value.until > now) return current.value.holder;
      try {
        await this.store.records.put(name, { holder: this.nodeId, until: now + ttlMs }, current?.version ?? null);
        return this.nodeId;
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
      }
    }
    return (await this.store.records.get<{ holder: string }>(name))?.value.holder ?? 'unknown';
  }

  /**
   * Verifies the log's hash chain from the point verified last time (or from the start with `full`),
   * off the event loop where the store can. Concurrent calls of one kind share one walk, so eight
   * auditors asking at once cost one walk, not eight workers fighting the event loop for the cores
   * (a call that asks for progress walks on its own).
   */
  verify(options: { full?: boolean; onProgress?: IntegrityProgress } = {}): Promise<VerifyResult> {
    const full = options.full ?? false;
    if (options.onProgress) return this.runVerify(full, options.onProgress);
    const kind = full ? 'full' : 'incremental';
    const inFlight = this.verifying.get(kind);
    if (inFlight) return inFlight;
    const run = this.runVerify(full).finally(() => {
      if (this.verifying.get(kind) === run) this.verifying.delete(kind);
    });
    this.verifying.set(kind, run);
    return run;
  }

  private async runVerify(full: boolean, onProgress?: IntegrityProgress): Promise<VerifyResult> {
    const remembered = full ? null : this.verifiedPoint();
    let report = await this.store.verifyIntegrity({ from: remembered, onProgress });
    let from = remembered;
    if (!report.ok && remembered && report.firstBrokenPosition === remembered.position) {
      // the point verified before is gone or changed: say where the chain breaks, from the start
      report = await this.store.verifyIntegrity({ from: null, onProgress });
      from = null;
    }
    if (report.ok) this.rememberVerified(report.verifiedUpTo);
    const latest = await this.checkpointWithin(report.ok ? report.verifiedUpTo.position : (report.firstBrokenPosition ?? 1n) - 1n);
    return { ...report, from, checkpoint: latest };
  }

  private async checkpointWithin(position: bigint): Promise<VerifyResult['checkpoint']> {
    const latest = await this.checkpoints.latest();
    if (!latest || BigInt(latest.position) > position) {
      const [first] = await this.checkpoints.list(null, 1);
      if (!first || BigInt(first.position) > position) return null;
    }
    // the newest checkpoint at or below the verified position
    let candidate = latest && BigInt(latest.position) <= position ? latest : null;
    if (!candidate) {
      let after: bigint | null = null;
      for (;;) {
        const page = await this.checkpoints.list(after, 1000);
        const within = page.filter((c) => BigInt(c.position) <= position);
        if (within.length > 0) candidate = within[within.length - 1];
        if (page.length < 1000 || within.length < page.length) break;
        after = BigInt(page[page.length - 1].position);
      }
    }
    if (!candidate) return null;
    const hash = await this.store.hashAt(BigInt(candidate.position));
    return { position: candidate.position, hash: candidate.hash, keyId: candidate.keyId, holds: hash === candidate.hash };
  }

  private verifiedPoint(): ChainPoint | null {
    const row = this.readDb.prepare<[], { value: string }>("SELECT value FROM read_store_meta WHERE key = 'verified'").get();
    if (!row) return null;
    const v = JSON.parse(row.value) as { position: string; hash: string };
    return { position: BigInt(v.position), hash: v.hash };
  }

  private rememberVerified(point: ChainPoint): void {
    if (point.position === 0n) return;
    this.readDb
      .prepare("INSERT INTO read_store_meta (key, value) VALUES ('verified', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify({ position: point.position.toString(), hash: point.hash }));
  }

  /** Rebuilds the read models from the log into fresh tables and swaps them in (the runner pauses at the swap). */
  async rebuildReadModels(onProgress?: (progress: RebuildProgress) => void) {
    await this.runner.pause();
    try {
      const result = await rebuild(this.store, this.readDb, this.catalogue, { onProgress });
      this.reads.entitlements.folds.clear();
      this.runner.reloadCheckpoint();
      return result;
    } finally {
      this.runner.unpause();
    }
  }

  async close(): Promise<void> {
    await this.dispatcher?.stop();
    await this.runner.stop();
    await this.store.close();
    this.readDb.close();
  }
}

export { ReadModelDivergence };
