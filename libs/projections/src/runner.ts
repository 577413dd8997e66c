/**
 * The projection runner: catches up on the global log from its stored checkpoint, then follows it
 * live. Each batch's read-model writes and the checkpoint commit in ONE SQLite transaction, so a
 * runner killed mid-batch resumes from the last committed checkpoint with nothing counted twice.
 */
import type Database from 'better-sqlite3';
import { Catalogue } from '@careledger/domain';
import { EventStore, StoredEvent, Subscription } from '@careledger/event-store';
import { ApplyEffects, Projector } from './projector';

export interface RunnerOptions {
  /** Most events per transaction. */
  batchSize?: number;
  /** Called after each committed batch with the serials whose cached views went stale. */
  onBatch?: (info: { position: bigint; events: number; dirtySerials: Set<string> }) => void;
  onError?: (error: unknown) => void;
  /** Whether to work out and drop the cached views each batch makes stale (default true; a rebuild's fresh tables have none). */
  invalidateCache?: boolean;
}

const TICK = Symbol('tick');

export class ProjectionRunner {
  private position: bigint;
  private subscription: Subscription | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private waiters: { position: bigint; resolve: () => void }[] = [];
  private lastAppliedAt = Date.now();
  private lastEventRecordedMs = 0;
  private readonly projector: Projector;
  private readonly batchSize: number;
  private paused: Promise<void> | null = null;
  private resume: (() => void) | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly db: Database.Database,
    catalogue: Catalogue,
    private readonly prefix: string,
    private readonly options: RunnerOptions = {},
  ) {
    this.projector = new Projector(db, catalogue, prefix, { trackDirty: options.invalidateCache !== false });
    this.batchSize = options.batchSize ?? 2000;
    const row = db.prepare(`SELECT position FROM ${prefix}checkpoint WHERE name = 'main'`).get() as { position: number } | undefined;
    this.position = BigInt(row?.position ?? 0);
  }

  get checkpoint(): bigint {
    return this.position;
  }

  /** Time since the runner last applied an event, and how stale its newest event was on arrival. */
  get lagMs(): number {
    return this.lastEventRecordedMs === 0 ? 0 : Math.max(0, this.lastAppliedAt - this.lastEventRecordedMs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((error) => {
      this.running = false;
      this.options.onError?.(error);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resume?.();
    await this.subscription?.close();
    await this.loop;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves once the read models reflect `position` (or the timeout passes); returns whether they do. */
  async waitFor(position: bigint, timeoutMs = 5000): Promise<boolean> {
    if (this.position >= position) return true;
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<boolean>((resolve) => {
      this.waiters.push({ position, resolve: () => resolve(true) });
    });
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([reached, timeout]);
    clearTimeout(timer);
    return result || this.position >= position;
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
    const row = this.db.prepare(`SELECT position FROM ${this.prefix}checkpoint WHERE name = 'main'`).get() as { position: number } | undefined;
    this.position = BigInt(row?.position ?? 0);
  }

  /** Applies a batch synchronously in one transaction (also used by rebuild and tests). */
  applyBatch(events: StoredEvent[]): ApplyEffects {
    const effects: ApplyEffects = { dirtySerials: new Set() };
    const fresh = events.filter((e) => e.position > this.position);
    if (fresh.length === 0) return effects;
    this.db.transaction(() => {
      for (const e of fresh) this.projector.apply(e, effects);
      if (this.options.invalidateCache !== false) for (const serial of effects.dirtySerials) this.projector.invalidate(serial);
      this.projector.setCheckpoint(fresh[fresh.length - 1].position);
    })();
    this.position = fresh[fresh.length - 1].position;
    this.lastAppliedAt = Date.now();
    this.lastEventRecordedMs = Date.parse(fresh[fresh.length - 1].metadata.recordedAt);
    this.options.onBatch?.({ position: this.position, events: fresh.length, dirtySerials: effects.dirtySerials });
    const ready = this.waiters.filter((w) => w.position <= this.position);
    this.waiters = this.waiters.filter((w) => w.position > this.position);
    for (const w of ready) w.resolve();
    return effects;
  }

  private async run(): Promise<void> {
    this.subscription = this.store.subscribeToAll({ after: this.position === 0n ? null : this.position, batchSize: this.batchSize });
    const iterator = this.subscription[Symbol.asyncIterator]();
    let pending: StoredEvent[] = [];
    let next = iterator.next();
    while (this.running) {
      const result = pending.length === 0 ? await next : await Promise.race([next, tick()]);
      if (result === TICK || pending.length >= this.batchSize) {
        if (this.paused) await this.paused;
        this.applyBatch(pending);
        pending = [];
        if (result === TICK) continue;
      }
      const r = result as IteratorResult<StoredEvent>;
      if (r.done) break;
      pending.push(r.value);
      next = iterator.next();
    }
    if (pending.length > 0) this.applyBatch(pending);
  }
}

function tick(): Promise<typeof TICK> {
  return new Promise((resolve) => setImmediate(() => resolve(TICK)));
}
