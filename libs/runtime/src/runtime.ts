/**
 * One CareLedger node: the event store (embedded SQLite, or EventStoreDB when a connection string
 * is given), the local durable records, the read store fed by the projection runner, the ledger
 * that runs commands, and the sweep. The HTTP app and the CLI both stand on it.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Catalogue, CatalogueData, defaultCatalogue } from '@careledger/domain';
import { Clock, EventStore, openEventStoreDbEventStore, openSqliteEventStore, systemClock } from '@careledger/event-store';
import { Ledger, LocalStore } from '@careledger/ledger';
import { createSchema, LIVE, ProjectionRunner, ReadModels } from '@careledger/projections';

export interface RuntimeOptions {
  dbPath: string;
  readDbPath: string;
  eventStoreConnectionString?: string | null;
  cataloguePath?: string | null;
  clock?: Clock;
  synchronous?: 'FULL' | 'NORMAL';
  /** Start the projection runner (default true). */
  project?: boolean;
  onAppended?: (position: bigint, durationMs: number) => void;
  onProjectionError?: (error: unknown) => void;
}

export function loadCatalogue(path: string | null | undefined): Catalogue {
  if (!path) return defaultCatalogue();
  return new Catalogue(JSON.parse(readFileSync(path, 'utf8')) as CatalogueData);
}

export class Runtime {
  private lastAck = 0n;

  private constructor(
    readonly store: EventStore,
    readonly local: LocalStore,
    readonly readDb: Database.Database,
    readonly catalogue: Catalogue,
    readonly ledger: Ledger,
    readonly runner: ProjectionRunner,
    readonly reads: ReadModels,
    readonly clock: Clock,
  ) {}

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const clock = options.clock ?? systemClock;
    const catalogue = loadCatalogue(options.cataloguePath);
    mkdirSync(dirname(options.dbPath), { recursive: true });
    mkdirSync(dirname(options.readDbPath), { recursive: true });
    let store: EventStore;
    if (options.eventStoreConnectionString) {
      store = openEventStoreDbEventStore({ connectionString: options.eventStoreConnectionString, clock });
    } else {
      store = openSqliteEventStore({ path: options.dbPath, clock, synchronous: options.synchronous ?? 'FULL' });
    }
    const local = new LocalStore(options.dbPath);
    const readDb = new Database(options.readDbPath);
    readDb.pragma('journal_mode = WAL');
    readDb.pragma('synchronous = NORMAL');
    readDb.pragma('busy_timeout = 10000');
    readDb.pragma('cache_size = -65536'); // 64 MiB: the read models are read on every request
    createSchema(readDb, LIVE);
    const runtime: { current?: Runtime } = {};
    const ledger = new Ledger(store, catalogue, clock, {
      decisions: local,
      onAppended: (position, ms) => {
        runtime.current?.acknowledge(position);
        options.onAppended?.(position, ms);
      },
    });
    const runner = new ProjectionRunner(store, readDb, catalogue, LIVE, { onError: options.onProjectionError });
    const reads = new ReadModels(readDb, catalogue, LIVE, () => runner.checkpoint);
    const rt = new Runtime(store, local, readDb, catalogue, ledger, runner, reads, clock);
    runtime.current = rt;
    if (options.project !== false) runner.start();
    return rt;
  }

  /** The newest position this node has acknowledged to a client. */
  get acknowledged(): bigint {
    return this.lastAck;
  }

  acknowledge(position: bigint): void {
    if (position > this.lastAck) this.lastAck = position;
  }

  /**
   * Read-your-writes: waits until the read models reflect every command this node acknowledged
   * before the read began, and `minPosition` when the client names one. Returns false on timeout.
   */
  async consistentRead(minPosition?: bigint, timeoutMs = 5000): Promise<boolean> {
    const target = minPosition !== undefined && minPosition > this.lastAck ? minPosition : this.lastAck;
    return this.runner.waitFor(target, timeoutMs);
  }

  /**
   * W5: records the extensions whose condition has settled: plan year 2 of bundles activated
   * since, and safe-use rewards whose first term ended (plus the settlement days).
   */
  async sweep(now: Date = this.clock.now(), batch = 500): Promise<{ examined: number; granted: number }> {
    await this.consistentRead();
    let examined = 0;
    let granted = 0;
    const seen = new Set<string>();
    const run = async (planId: string, kinds: ('plan-year-2' | 'safe-use-reward')[]) => {
      if (seen.has(`${planId}|${kinds.join()}`)) return;
      seen.add(`${planId}|${kinds.join()}`);
      examined++;
      const outcome = await this.ledger.execute(
        { type: 'GrantDueExtensions', planId, kinds },
        { actor: 'system:sweep', correlationId: `sweep-${now.toISOString()}` },
      );
      granted += (outcome.decision.answer.granted as string[]).length;
    };
    for (const planId of this.reads.pendingYear2Plans(batch)) await run(planId, ['plan-year-2']);
    for (const planId of this.reads.dueRewardPlans(now.getTime(), batch)) {
      await run(planId, ['safe-use-reward']);
      this.reads.markRewardChecked(planId);
    }
    return { examined, granted };
  }

  async close(): Promise<void> {
    await this.runner.stop();
    await this.store.close();
    this.local.close();
    this.readDb.close();
  }
}
