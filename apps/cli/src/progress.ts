/**
 * Progress bars over the log, in events. Positions are not counts: on EventStoreDB they are byte
 * offsets in its transaction log, on PostgreSQL a sequence with gaps (rolled back appends), so a
 * bar never shows `head - position`. The total comes from the store's `eventsBetween` when it has
 * one (SQLite counts by its primary key; EventStoreDB reads the range, up to its limit); without
 * it, or past the limit, the bar shows the events done and no total. The value is always the
 * events counted as they stream.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { EventStore } from '@careledger/event-store';

/** How many events lie after `after` (exclusive) up to the head; null when the store cannot tell cheaply. */
export async function eventsAfter(store: EventStore, after = 0n, limit?: number): Promise<number | null> {
  if (!store.eventsBetween) return null;
  const head = await store.headPosition();
  if (head <= after) return 0;
  const counted = await store.eventsBetween(after, head, limit === undefined ? {} : { limit });
  return counted.capped ? null : counted.events;
}

export interface EventProgress {
  /** The events done so far (counted by the caller as they stream). */
  update(events: number): void;
  stop(): void;
  /** The total shown (null: unknown). */
  readonly total: number | null;
}

const QUIET: EventProgress = { update: () => undefined, stop: () => undefined, total: null };

/** A bar on stderr for a walk over the log's events after `after`; `enabled` false shows nothing. */
export async function eventProgress(store: EventStore, label: string, options: { after?: bigint; enabled?: boolean } = {}): Promise<EventProgress> {
  if (options.enabled === false) return QUIET;
  const total = await eventsAfter(store, options.after ?? 0n);
  const format = total === null
    ? `${label} {value} events | {duration_formatted}`
    : `${label} [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left`;
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, noTTYOutput: false, notTTYSchedule: 2000 }, Presets.shades_classic);
  bar.start(total ?? 0, 0);
  let shownTotal = total;
  return {
    get total() {
      return shownTotal;
    },
    update(events: number) {
      // events appended while the walk runs: the total grows with them
      if (shownTotal !== null && events > shownTotal) {
        shownTotal = events;
        bar.setTotal(events);
      }
      bar.update(events);
    },
    stop() {
      bar.stop();
    },
  };
}
