/**
 * From recorded events to facts: apply corrections known at `knownAt` (RULES X1), then read each
 * fact's business time from its (possibly amended) data. Pure: the caller supplies every event.
 */
import { businessTimeOf, DOMAIN_EVENT_TYPES, DomainEvent, EventCorrected } from './events';
import { instantMs } from './time';

/** What the domain needs of a stored event (the event-store port's StoredEvent satisfies it). */
export interface RecordedEvent {
  eventId: string;
  type: string;
  streamId: string;
  revision: number;
  position: bigint;
  data: unknown;
  metadata: {
    occurredAt: string;
    recordedAt: string;
    actor: string;
    correlationId: string;
    causationId?: string | null;
    decision?: Record<string, unknown> | null;
  };
}

export interface Fact<E extends DomainEvent = DomainEvent> {
  eventId: string;
  streamId: string;
  revision: number;
  position: bigint;
  recordedAt: string;
  recordedMs: number;
  actor: string;
  /** The event as corrected (amendments merged into data). */
  event: E;
  /** Business time in ms (null for corrections). */
  at: number | null;
  /** Ids of the corrections that amended this fact, oldest first. */
  amendedBy: string[];
}

export interface FactSet {
  facts: Fact[];
  /** Corrections known at knownAt, including those that voided a fact. */
  corrections: Fact<EventCorrected>[];
  /** Voided event id -> the correction that voided it. */
  voided: Map<string, string>;
}

export function recordedMs(event: RecordedEvent): number {
  return Date.parse(event.metadata.recordedAt);
}

/**
 * Orders events by global position, keeps those recorded at or before `knownAtMs`, and applies the
 * corrections among them. A correction only ever targets an event of its own stream recorded before it.
 */
const DOMAIN_TYPES: ReadonlySet<string> = new Set(DOMAIN_EVENT_TYPES);

/** Is this a fact of the domain (not a ledger record such as a refused command)? */
export function isDomainEvent(e: { type: string }): boolean {
  return DOMAIN_TYPES.has(e.type);
}

export function toFacts(events: readonly RecordedEvent[], knownAtMs = Number.POSITIVE_INFINITY): FactSet {
  const sorted = events
    .filter((e) => isDomainEvent(e) && recordedMs(e) <= knownAtMs)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const byId = new Map<string, Fact>();
  const order: Fact[] = [];
  const corrections: Fact<EventCorrected>[] = [];
  const voided = new Map<string, string>();
  const seen = new Set<string>();
  for (const e of sorted) {
    if (seen.has(e.eventId)) continue; // the same event read through two streams' loaders
    seen.add(e.eventId);
    const event = { type: e.type, data: e.data } as DomainEvent;
    const fact: Fact = {
      eventId: e.eventId,
      streamId: e.streamId,
      revision: e.revision,
      position: e.position,
      recordedAt: e.metadata.recordedAt,
      recordedMs: recordedMs(e),
      actor: e.metadata.actor,
      event,
      at: null,
      amendedBy: [],
    };
    if (event.type === 'EventCorrected') {
      const correction = fact as Fact<EventCorrected>;
      corrections.push(correction);
      const target = byId.get(event.data.targetEventId);
      if (!target || voided.has(target.eventId)) continue;
      if (event.data.action === 'void') {
        voided.set(target.eventId, fact.eventId);
      } else if (event.data.amendment) {
        target.event = { ...target.event, data: { ...target.event.data, ...event.data.amendment } } as DomainEvent;
        target.amendedBy.push(fact.eventId);
      }
      continue;
    }
    byId.set(fact.eventId, fact);
    order.push(fact);
  }
  const facts = order.filter((f) => !voided.has(f.eventId));
  for (const f of facts) {
    const t = businessTimeOf(f.event);
    f.at = t === null ? null : safeInstantMs(t);
  }
  return { facts, corrections, voided };
}

function safeInstantMs(value: string): number | null {
  try {
    return instantMs(value);
  } catch {
    return null;
  }
}


export function ofType<T extends DomainEvent['type']>(
  facts: readonly Fact[],
  type: T,
): Fact<Extract<DomainEvent, { type: T }>>[] {
  return facts.filter((f) => f.event.type === type) as Fact<Extract<DomainEvent, { type: T }>>[];
}
