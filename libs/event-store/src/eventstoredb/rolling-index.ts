import { GENESIS_HASH, storedEventHash } from '../hash';
import type { ChainPoint, StoredEvent } from '../port';

/** The empty log: position 0n, the genesis hash. */
export const ROLLING_GENESIS: ChainPoint = { position: 0n, hash: GENESIS_HASH };

/**
 * One link of the rolling global hash over CareLedger's part of $all. It is the formula of the
 * stores with a stored global chain (`eventHash`), over what every node returns for the event:
 * its position, identity, stream revision, recordedAt (the server's commit time of its append),
 * data and metadata. The same events in the same order give the same hash on any node.
 */
export function rollingHash(previousHash: string, e: StoredEvent): string {
  return storedEventHash(previousHash, e);
}

/** Pages of CareLedger events (filtered $all) strictly after `after`, up to `upTo` when given. */
export type LogWalk = (after: bigint, upTo?: bigint) => AsyncIterable<StoredEvent[]>;

/**
 * The rolling hash computed so far by this instance: its tip, plus one point every `spacing`
 * events so that `hashAt` of an older position re-reads at most `spacing` events. Memory grows by
 * one ChainPoint per `spacing` events (about 2 MiB for 10 million events at the default 512).
 * Extending it is serialised: concurrent head()/hashAt() calls share one walk of $all.
 */
export class RollingIndex {
  private points: ChainPoint[] = [ROLLING_GENESIS];
  private tipPoint: ChainPoint = ROLLING_GENESIS;
  private sinceLastPoint = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly walk: LogWalk,
    private readonly spacing = 512,
  ) {}

  get tip(): ChainPoint {
    return this.tipPoint;
  }

  /** Extends the index to the end of the log, or only until it reaches `until`. */
  advance(until?: bigint): Promise<ChainPoint> {
    const run = async (): Promise<ChainPoint> => {
      if (until !== undefined && this.tipPoint.position >= until) return this.tipPoint;
      for await (const page of this.walk(this.tipPoint.position)) {
        for (const event of page) {
          this.add({ position: event.position, hash: rollingHash(this.tipPoint.hash, event) });
        }
        if (until !== undefined && this.tipPoint.position >= until) break;
      }
      return this.tipPoint;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The rolling hash at an event's position; null when the log holds no CareLedger event there. */
  async hashAt(position: bigint): Promise<string | null> {
    if (position <= 0n) return null;
    if (position > this.tipPoint.position) await this.advance(position);
    if (position > this.tipPoint.position) return null;
    if (position === this.tipPoint.position) return this.tipPoint.hash;
    const base = this.pointAtOrBefore(position);
    if (base.position === position) return base.hash;
    let hash = base.hash;
    for await (const page of this.walk(base.position, position)) {
      for (const event of page) {
        if (event.position > position) return null;
        hash = rollingHash(hash, event);
        if (event.position === position) return hash;
      }
    }
    return null;
  }

  /**
   * Takes over what a verify walk computed, when it continued from this index's tip as it was
   * (`from`) and the tip has not moved since: the walk's points and its end become the index.
   */
  absorb(from: ChainPoint, points: readonly ChainPoint[], end: ChainPoint): void {
    if (this.tipPoint.position !== from.position || this.tipPoint.hash !== from.hash) return;
    if (end.position <= this.tipPoint.position) return;
    for (const point of points) if (point.position > this.tipPoint.position && point.position < end.position) this.points.push(point);
    this.tipPoint = end;
    this.sinceLastPoint = 0;
  }

  private add(point: ChainPoint): void {
    this.tipPoint = point;
    this.sinceLastPoint += 1;
    if (this.sinceLastPoint >= this.spacing) {
      this.points.push(point);
      this.sinceLastPoint = 0;
    }
  }

  private pointAtOrBefore(position: bigint): ChainPoint {
    let low = 0;
    let high = this.points.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.points[mid].position <= position) low = mid;
      else high = mid - 1;
    }
    return this.points[low];
  }
}
