/**
 * The projection runner: catches up on the global log from its stored checkpoint, then follows it
 * live. Each batch's read-model writes and the checkpoint (position and chain hash) commit in ONE
 * SQLite transaction, so a runner killed mid-batch resumes from the last committed checkpoint with
 * nothing counted twice. Before it (re)subscribes it checks that the log still holds its checkpoint
 * with the same hash: a truncated or restored log, or a read store from another log, is a divergence
 * (the node rebuilds or stops), never stale data served as current. While it follows the log, each
 * batch must chain onto the checkpoint (a log that lost its tail under a live subscription, after a
 * failover to a replica behind a connection pooler, is caught before the next batch is applied). A
 * dropped subscription is resumed with backoff; the runner's state tells readiness whether it is live.
 */
import type Database from 'better-sqlite3';
import { Catalogue } from '@careledger/domain';
import { EventStore, GENESIS_HASH, StoredEvent, storedEventHash, Subscription } from '@careledger/event-store';
import { ApplyEffects } from './models';
import { Projector } from './projector';
import { Checkpoint, readCheckpoint, writeCheckpoint } from './read-store';

export type RunnerState = 'idle' | 'catching-up' | 'live' | 'retrying' | 'diverged' | 'stopped';

/** The log does not hold the read models' checkpoint (truncated, restored, or another log). */
export class ReadModelDivergence extends Error {
  readonly code = 'ReadModelDivergence';
  constructor(
    readonly checkpoint: Checkpoint,
    readonly found: string | null,
    readonly head: bigint,
  ) {
    super(
      found === null
        ? `The read models reflect the log up to position ${checkpoint.position}, but the log ends at ${head}: it was truncated or replaced (a restore from an older backup?).`
        : `The read models reflect position ${checkpoint.position} with hash ${checkpoint.hash.slice(0, 16)}…, but the log holds ${found.slice(0, 16)}… there: it was rewritten or replaced.`,
    );
    this.name = 'ReadModelDivergence';
  }
}

export interface RunnerOptions {
  /** Most events per transaction. */
  batchSize?: number;
  /** Called after each committed batch with the serials whose cached views went stale. */
  onBatch?: (info: { position: bigint; events: number; dirtySerials: Set<string> }) => void;
  /** A transient failure (store unreachable, subscription dropped): the runner retries. */
  onError?: (error: unknown) => void;
  /** Whether to work out and drop the cached views each batch makes stale (default true; a rebuild's fresh tables have none). */
  invalidateCache?: boolean;
  /**
   * The log no longer holds the checkpoint. Resolve 'rebuilt' once the read models were rebuilt from
   * the log (the runner reloads its checkpoint and goes on), or 'stop' to stop following the log.
   * Default: stop.
   */
  onDivergence?: (divergence: ReadModelDivergence) => Promise<'rebuilt' | 'stop'>;
  /** Backoff between resubscriptions: first and longest wait. */
  retry?: { initialMs: number; maxMs: number };
  /** How often an idle live runner checks that the log still holds its checkpoint (0: never). */
  anchorCheckMs?: number;
}

const TICK = Symbol('tick');

export class ProjectionRunner {
  private position: Checkpoint;
  private subscription: Subscription | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private waiters: { position: bigint; resolve: (reached: boolean) => void }[] = [];
  private readonly projector: Projector;
  private readonly batchSize: number;
  private paused: Promise<void> | null = null;
  private resume: (() => void) | null = null;
  private wakeRetry: (() => void) | null = null;
  private current: RunnerState = 'idle';
  private failure: unknown = null;
  private divergence: ReadModelDivergence | null = null;
  /** recordedAt (ms) of the oldest event received and not yet applied; null when caught up. */
  private pendingSinceMs: number | null = null;
  private lastAnchorCheck = Date.now();
  /** Settles once the runner has checked (or re-established) that the log holds its checkpoint. */
  private anchored: Promise<void> = Promise.resolve();
  private markAnchored: () => void = () => undefined;
  private anchoredOnce = false;

  constructor(
    private readonly store: EventStore,
    private readonly db: Database.Database,
    catalogue: Catalogue,
    private readonly prefix: string,
    private readonly options: RunnerOptions = {},
  ) {
    this.projector = new Projector(db, catalogue, prefix, { trackDirty: options.invalidateCache !== false });
    this.batchSize = options.batchSize ?? 2000;
    this.position = readCheckpoint(db, prefix);
  }

  get checkpoint(): bigint {
    return this.position.position;
  }

  get checkpointHash(): string {
    return this.position.hash;
  }

  get state(): RunnerState {
    return this.current;
  }

  /** The last transient failure while retrying, or the divergence that stopped the runner. */
  get lastError(): unknown {
    return this.divergence ?? this.failure;
  }

  /** How far behind the read models are: 0 when caught up, else the age of the oldest event not applied yet. */
  get lagMs(): number {
    return this.pendingSinceMs === null ? 0 : Math.max(0, Date.now() - this.pendingSinceMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.divergence = null;
    this.anchoredOnce = false;
    this.anchored = new Promise((resolve) => (this.markAnchored = () => {
      this.anchoredOnce = true;
      resolve();
    }));
    this.loop = this.run();
  }

  /** The runner has checked that the log holds its checkpoint (nothing it answers from is stale). */
  get verifiedAnchor(): boolean {
    return this.anchoredOnce && this.divergence === null;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resume?.();
    this.wakeRetry?.();
    await this.subscription?.close();
    await this.loop;
    this.current = this.divergence ? 'diverged' : 'stopped';
    for (const w of this.waiters.splice(0)) w.resolve(this.position.position >= w.position);
  }

  /** Resolves once the read models reflect `position` (true), or the timeout passes / the runner stops (false). */
  async waitFor(position: bigint, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (this.running && !this.anchoredOnce) {
      // until the runner knows the log still holds its checkpoint, its tables may not be the log's
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.anchored, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      if (!this.anchoredOnce) return false;
      timeoutMs = Math.max(0, deadline - Date.now());
    }
    if (this.divergence) return false;
    if (this.position.position >= position) return true;
    if (!this.running) return false;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { position, resolve: (_reached: boolean) => undefined as void };
    const reached = new Promise<boolean>((resolve) => {
      waiter.resolve = resolve;
      this.waiters.push(waiter);
    });
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([reached, timeout]);
    clearTimeout(timer);
    this.waiters = this.waiters.filter((w) => w !== waiter);
    return result || this.position.position >= position;
  }

  /** Holds the runner between batches (used while a rebuild swaps tables). */
  async pause(): Promise<void> {
    this.paused ??= new Promise((resolve) => (this.resume = () => {
      this.paused = null;
      this.resume = null;
      resolve();
    }));
  }

  unpause(): void {
    this.resume?.();
  }

  /** Re-reads the checkpoint (after a rebuild swapped in new tables). */
  reloadCheckpoint(): void {
    this.position = readCheckpoint(this.db, this.prefix);
  }

  /** Does the log still hold the checkpoint, with the same hash? Throws ReadModelDivergence when not. */
  async checkAnchor(): Promise<void> {
    this.lastAnchorCheck = Date.now();
    const { position, hash } = this.position;
    if (position === 0n) return;
    const found = await this.store.hashAt(position);
    if (found === null || (hash !== '' && found !== hash)) throw new ReadModelDivergence(this.position, found, await this.store.headPosition());
  }

  /** Applies a batch synchronously in one transaction (also used by rebuild and tests). */
  applyBatch(events: StoredEvent[]): ApplyEffects {
    const effects: ApplyEffects = { dirtySerials: new Set() };
    const fresh = events.filter((e) => e.position > this.position.position);
    if (fresh.length === 0) return effects;
    const last = fresh[fresh.length - 1];
    // with a global chain the event's hash names the whole log up to it; a per-stream hash
    // (EventStoreDB) does not, and the anchor is then the position alone
    const next: Checkpoint = { position: last.position, hash: this.store.capabilities.globalChain ? (last.hash ?? '') : '' };
    this.db.transaction(() => {
      for (const e of fresh) this.projector.apply(e, effects);
      if (this.options.invalidateCache !== false) this.projector.invalidate(effects.dirtySerials);
      writeCheckpoint(this.db, this.prefix, next);
    })();
    this.position = next;
    this.options.onBatch?.({ position: next.position, events: fresh.length, dirtySerials: effects.dirtySerials });
    const ready = this.waiters.filter((w) => w.position <= next.position);
    this.waiters = this.waiters.filter((w) => w.position > next.position);
    for (const w of ready) w.resolve(true);
    return effects;
  }

  private async run(): Promise<void> {
    const retry = this.options.retry ?? { initialMs: 100, maxMs: 10_000 };
    let backoff = retry.initialMs;
    while (this.running) {
      try {
        await this.checkAnchor();
        this.markAnchored();
        this.failure = null;
        await this.follow(() => (backoff = retry.initialMs));
      } catch (error) {
        if (!this.running) break;
        if (error instanceof ReadModelDivergence) {
          this.current = 'diverged';
          this.divergence = error;
          const answer = this.options.onDivergence ? await this.options.onDivergence(error).catch(() => 'stop' as const) : 'stop';
          if (answer === 'rebuilt') {
            this.divergence = null;
            this.reloadCheckpoint();
            this.current = 'catching-up';
            continue;
          }
          this.running = false;
          this.markAnchored();
          for (const w of this.waiters.splice(0)) w.resolve(false);
          return;
        }
        this.current = 'retrying';
        this.failure = error;
        this.options.onError?.(error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = null;
        backoff = Math.min(backoff * 2, retry.maxMs);
      } finally {
        await this.subscription?.close().catch(() => undefined);
        this.subscription = null;
        this.pendingSinceMs = null;
      }
    }
  }

  /** One subscription, from the checkpoint, until it fails or the runner stops. */
  private async follow(connected: () => void): Promise<void> {
    this.current = 'catching-up';
    const anchorEvery = this.options.anchorCheckMs ?? 5000;
    this.subscription = this.store.subscribeToAll({ after: this.position.position === 0n ? null : this.position.position, batchSize: this.batchSize });
    const iterator = this.subscription[Symbol.asyncIterator]();
    let pending: StoredEvent[] = [];
    let next = iterator.next();
    next.catch(() => undefined); // awaited below; this keeps a rejection after stop() from going unhandled
    let first = true;
    while (this.running) {
      const result = pending.length === 0 ? await Promise.race([next, idle(250)]) : await Promise.race([next, tick()]);
      if (result === IDLE) {
        // caught up and quiet: the log must still hold what the read models reflect
        this.current = 'live';
        if (anchorEvery > 0 && Date.now() - this.lastAnchorCheck >= anchorEvery) await this.checkAnchor();
        continue;
      }
      if (result === TICK || pending.length >= this.batchSize) {
        if (this.paused) await this.paused;
        await this.checkLink(pending);
        this.applyBatch(pending);
        pending = [];
        this.pendingSinceMs = null;
        if (result === TICK) continue;
      }
      const r = result as IteratorResult<StoredEvent>;
      if (r.done) break;
      if (first) {
        connected();
        first = false;
      }
      if (r.value.position <= this.position.position && pending.length === 0) {
        // the log handed back a position already applied: it is not the log we followed
        await this.checkAnchor();
      }
      pending.push(r.value);
      this.pendingSinceMs ??= Date.parse(r.value.metadata.recordedAt);
      next = iterator.next();
      next.catch(() => undefined);
    }
    if (pending.length > 0) {
      await this.checkLink(pending);
      this.applyBatch(pending);
    }
  }

  /**
   * With a global chain, the first event past the checkpoint must chain onto it. When it does not,
   * the log under the subscription changed (its tail was lost, it was restored or replaced): the store
   * says whether it still holds the checkpoint, and a divergence is thrown when it does not. The hash
   * is worked out once per batch; the store is asked only when it does not link.
   */
  private async checkLink(batch: StoredEvent[]): Promise<void> {
    if (!this.store.capabilities.globalChain) return;
    const { position, hash } = this.position;
    const first = batch.find((e) => e.position > position);
    if (!first || first.hash === undefined || (position > 0n && hash === '')) return;
    const previous = position === 0n ? GENESIS_HASH : hash;
    // the event's hash covers the hash of the event before it: it links only onto the checkpoint's
    const linked = storedEventHash(previous, first) === first.hash;
    if (!linked) await this.checkAnchor();
  }
}

function tick(): Promise<typeof TICK> {
  return new Promise((resolve) => setImmediate(() => resolve(TICK)));
}

const IDLE = Symbol('idle');
function idle(ms: number): Promise<typeof IDLE> {
  return new Promise((resolve) => setTimeout(() => resolve(IDLE), ms).unref());
}
