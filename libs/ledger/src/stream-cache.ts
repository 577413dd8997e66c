/**
 * The streams a node decided on recently, kept in memory by revision. Streams only grow, so a
 * cached stream is brought up to date by reading what follows its last revision (one indexed read,
 * usually empty) instead of reading and parsing the whole stream again; the node's own appends are
 * added as they commit. A stale entry cannot mislead a decision: every append names the revision
 * it read, so a stream that moved elsewhere conflicts, the entry is dropped and the command re-read.
 */
import type { EventStore, NewEvent, StoredEvent } from '@careledger/event-store';

interface Entry {
  revision: number;
  events: StoredEvent[];
}

export class StreamCache {
  private readonly entries = new Map<string, Entry>();
  private events = 0;

  /** `maxEvents`: how many events the cache holds at most (least recently used streams go first). */
  constructor(private readonly maxEvents = 200_000) {}

  async read(store: EventStore, streamId: string): Promise<StoredEvent[]> {
    const hit = this.entries.get(streamId);
    if (!hit) {
      const events = await store.readStream(streamId);
      this.put(streamId, { revision: events.length > 0 ? events[events.length - 1].revision : -1, events });
      return events;
    }
    const newer = await store.readStream(streamId, { fromRevision: hit.revision + 1 });
    const entry = newer.length === 0 ? hit : { revision: newer[newer.length - 1].revision, events: [...hit.events, ...newer] };
    this.put(streamId, entry);
    return entry.events;
  }

  /** Adds events this node just appended at `firstRevision` on (kept only when they follow what is cached). */
  appended(streamId: string, events: NewEvent[], firstRevision: number, positions: bigint[], recordedAt: string): void {
    const hit = this.entries.get(streamId);
    if (!hit || hit.revision !== firstRevision - 1) {
      this.forget(streamId);
      return;
    }
    const stored: StoredEvent[] = events.map((e, i) => ({
      eventId: e.eventId,
      type: e.type,
      streamId,
      revision: firstRevision + i,
      position: positions[i],
      data: e.data,
      metadata: { ...e.metadata, recordedAt },
    }));
    this.put(streamId, { revision: firstRevision + events.length - 1, events: [...hit.events, ...stored] });
  }

  forget(streamId: string): void {
    const hit = this.entries.get(streamId);
    if (!hit) return;
    this.entries.delete(streamId);
    this.events -= hit.events.length;
  }

  clear(): void {
    this.entries.clear();
    this.events = 0;
  }

  private put(streamId: string, entry: Entry): void {
    this.forget(streamId);
    this.entries.set(streamId, entry);
    this.events += entry.events.length;
    for (const [oldest, e] of this.entries) {
      if (this.events <= this.maxEvents || oldest === streamId) break;
      this.entries.delete(oldest);
      this.events -= e.events.length;
    }
  }
}
