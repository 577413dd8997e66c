/**
 * An in-memory ledger for domain specs: commands are decided by the real deciders over events kept
 * in an array, with ids, positions and recordedAt assigned like a store would. It is a test bench for
 * the pure domain, not an event store (the store has its own contract suite).
 */
import {
  Catalogue, Command, Decision, decide, defaultCatalogue, DomainEvent, EntitlementView, foldEntitlements, gather,
  RecordedEvent, timeline, businessTimeOf,
} from '@careledger/domain';

export interface Recorded extends RecordedEvent {
  data: unknown;
}

export class MemoryLedger {
  readonly events: Recorded[] = [];
  private clockMs: number;
  private nextId = 1;

  constructor(
    readonly catalogue: Catalogue = defaultCatalogue(),
    /** The ledger's clock (recordedAt and the decision's `now`); advances 1 ms per append. */
    startAt = '2026-11-01T00:00:00.000Z',
  ) {
    this.clockMs = Date.parse(startAt);
  }

  get now(): string {
    return new Date(this.clockMs).toISOString();
  }

  /** Moves the ledger clock (recordedAt of later appends). */
  advanceTo(instant: string): void {
    const ms = Date.parse(instant);
    if (ms < this.clockMs) throw new Error(`the clock cannot go back to ${instant}`);
    this.clockMs = ms;
  }

  tick(ms = 1000): string {
    this.clockMs += ms;
    return this.now;
  }

  read(streamId: string): Recorded[] {
    return this.events.filter((e) => e.streamId === streamId);
  }

  /** Appends raw events to a stream (for `given`). */
  record(streamId: string, ...events: DomainEvent[]): Recorded[] {
    this.clockMs += 1;
    const recordedAt = this.now;
    return events.map((event) => {
      const revision = this.read(streamId).length;
      const stored: Recorded = {
        eventId: `ev-${this.nextId++}`,
        type: event.type,
        streamId,
        revision,
        position: BigInt(this.events.length + 1),
        data: event.data,
        metadata: {
          occurredAt: businessTimeOf(event) ?? recordedAt,
          recordedAt,
          actor: 'test',
          correlationId: 'test',
        },
      };
      this.events.push(stored);
      return stored;
    });
  }

  async decide(command: Command): Promise<Decision> {
    const { world } = await gather(this.catalogue, command, (s) => this.read(s));
    return decide(world, command, { now: this.clockMs });
  }

  /** Decides and appends; returns the decision and the recorded events (empty for a repeat). */
  async run(command: Command): Promise<{ decision: Decision; recorded: Recorded[] }> {
    const decision = await this.decide(command);
    const recorded = decision.appends.flatMap((a) => this.record(a.streamId, ...a.events));
    return { decision, recorded };
  }

  entitlements(serial: string, at?: string, knownAt?: string): EntitlementView {
    return foldEntitlements(this.catalogue, this.events, { serial, at, knownAt, now: this.now });
  }

  timeline(serial: string, knownAt?: string) {
    return timeline(this.catalogue, this.events, serial, knownAt ?? this.now);
  }
}
