/**
 * The business metrics' counts (claims by outcome, replacements issued, refusals by code and rule,
 * sweep grants by kind), counted from the log as this node's read models have applied it, not from
 * what this process decided: every node that has applied the log to the same position reports the
 * same totals, and a restarted node reports the totals it reported before (not zero), since the
 * facts are in the log. Counting is incremental: each update reads only what was applied since the
 * last one (one index range per event type), so a scrape costs next to nothing once the first one
 * has counted the log (about the time it takes to read those events' rows, in batches that yield
 * to the event loop). It goes through the LedgerQueries port, like every read of the HTTP layer.
 */
import type { DecisionItem, HistoryEntry } from '@careledger/projections';
import { LedgerQueries } from '../ports/ports';

/** The claim facts and the outcome each one counts as. */
export const CLAIM_OUTCOMES: Record<string, string> = {
  ClaimOpened: 'opened',
  ClaimApproved: 'approved',
  ClaimDenied: 'denied',
  ClaimPaid: 'paid',
  ClaimFulfilled: 'fulfilled',
  ClaimCancelled: 'cancelled',
};

/** The actor the sweep records its decisions under (libs/runtime `sweep`: the timer, the CLI and POST /v1/admin/sweeps). */
export const SWEEP_ACTOR = 'system:sweep';

/** Where the counts go (the metrics' counters). Increments only; `reset` when the log the read models follow got shorter. */
export interface TallySink {
  claims(outcome: string, n: number): void;
  replacements(n: number): void;
  refusals(code: string, rule: string, n: number): void;
  sweepGrants(kind: string, n: number): void;
  reset(): void;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LedgerTally {
  /** Per source (an event type, or refusals): the position counted through. */
  private readonly cursors = new Map<string, number>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly queries: LedgerQueries,
    private readonly sink: TallySink,
    private readonly batch = 2000,
  ) {}

  /** The position every count reflects (the read models' checkpoint at the end of the last update). */
  get countedThrough(): number {
    return this.cursors.size === 0 ? 0 : Math.min(...this.cursors.values());
  }

  /** Counts what the read models applied since the last update; concurrent callers share one run. */
  update(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<void> {
    const checkpoint = Number(this.queries.checkpoint());
    if ([...this.cursors.values()].some((position) => position > checkpoint)) {
      // the read models were rebuilt from a log that lost its tail: count again from the start
      // (Prometheus reads the drop as a counter reset)
      this.cursors.clear();
      this.sink.reset();
    }
    for (const [type, outcome] of Object.entries(CLAIM_OUTCOMES)) {
      await this.drain(type, (after, limit) => this.queries.auditEvents({ type, after, limit }), (items) => {
        this.sink.claims(outcome, items.length);
        if (type === 'ClaimFulfilled') this.sink.replacements(items.length);
      });
    }
    await this.drain('WarrantyExtensionGranted', (after, limit) => this.queries.auditEvents({ type: 'WarrantyExtensionGranted', after, limit }), (items) => {
      for (const [kind, n] of countBy(items.filter((e) => e.actor === SWEEP_ACTOR), (e) => String((e.data as { kind?: unknown }).kind))) this.sink.sweepGrants(kind, n);
    });
    await this.drain('refusals', (after, limit) => this.queries.decisions({ outcome: 'refused', after, limit }), (items: DecisionItem[]) => {
      for (const [key, n] of countBy(items, (d) => JSON.stringify([d.code ?? '', d.rule ?? '']))) {
        const [code, rule] = JSON.parse(key) as [string, string];
        this.sink.refusals(code, rule, n);
      }
    });
  }

  /**
   * Reads one source page by page from its cursor. The checkpoint is read in the same tick as the
   * last page (the runner applies a batch, and moves the checkpoint, synchronously), so that page
   * holds everything up to it and the cursor moves there.
   */
  private async drain<T extends HistoryEntry | DecisionItem>(
    source: string,
    read: (after: number, limit: number) => { items: T[]; next: number | null },
    count: (items: T[]) => void,
  ): Promise<void> {
    let after = this.cursors.get(source) ?? 0;
    for (;;) {
      const checkpoint = Number(this.queries.checkpoint());
      const page = read(after, this.batch);
      if (page.items.length > 0) count(page.items);
      if (page.next === null) {
        after = Math.max(after, checkpoint);
        break;
      }
      after = page.next;
      this.cursors.set(source, after);
      await yieldToLoop();
    }
    this.cursors.set(source, after);
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
