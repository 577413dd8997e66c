/**
 * Decisions are facts in the log. An accepted command's primary event carries the decision in its
 * metadata (the command, and when there is one: the token, the Idempotency-Key, the request hash,
 * the other events of the command, and for a keyed request the answer given); its other events
 * carry the decision's id (the primary event's id). A refused command (422) appends one `CommandRefused`
 * fact to a stream of its own (`refusal-<decisionId>`), a category entitlement projections ignore.
 * Both sit in the hash chain like every other fact; the decision log and the idempotency answers
 * are read models over them.
 */
import type { Command, Outcome } from '@careledger/domain';
import type { StoredEvent } from '@careledger/event-store';

export const REFUSAL_STREAM_PREFIX = 'refusal-';
export const refusalStream = (decisionId: string): string => `${REFUSAL_STREAM_PREFIX}${decisionId}`;
/** A keyed request answered from facts recorded before (a repeat) leaves its answer here. */
export const DECISION_STREAM_PREFIX = 'decision-';
export const decisionStream = (decisionId: string): string => `${DECISION_STREAM_PREFIX}${decisionId}`;
/** Decisions and idempotency records of a data directory written before decisions were facts (imported once). */
export const LEGACY_STREAM = 'decision-legacy';

/** What a decision is about, for the decision log's filters. */
export interface DecisionSubject {
  serial: string | null;
  planId: string | null;
  claimId: string | null;
}

/**
 * The decision on an accepted command's primary event (`metadata.decision`), kept small: it rides on
 * every accepted command. An absent field means: no token (a system process), no key, no request
 * hash, no other event, no answer kept. The decision's id is the primary event's id.
 */
export interface AcceptedDecisionMeta {
  command: Command['type'];
  /** The calling token's identity (a digest, never the token). */
  tokenId?: string;
  key?: string;
  requestHash?: string;
  /** Every event of the command, primary first, when there is more than the primary. */
  eventIds?: string[];
  /** The answer given (without eventIds, revision and position), for a request with an Idempotency-Key. */
  answer?: Record<string, unknown>;
}

export interface CommandRefusedData {
  decisionId: string;
  command: Command['type'];
  code: string;
  rule: string;
  detail: string;
  tokenId: string | null;
  key: string | null;
  requestHash: string | null;
  subject: DecisionSubject;
  /** What was asked: the command's business fields (no headers, no secrets), for a dispute. */
  request: Record<string, unknown>;
}

export const COMMAND_REFUSED = 'CommandRefused';

/**
 * A request with an Idempotency-Key that the domain answered as a repeat of facts recorded before
 * (an order or claim reference seen before): nothing new happened, but the key now names this answer.
 */
export interface CommandRepeatedData {
  decisionId: string;
  command: Command['type'];
  tokenId: string | null;
  key: string;
  requestHash: string | null;
  subject: DecisionSubject;
  answer: Record<string, unknown>;
  /** The facts that had carried the command out. */
  eventIds: string[];
  revision: number;
  position: string;
}

export const COMMAND_REPEATED = 'CommandRepeated';

/** A decision as the log tells it, for an idempotent replay or the decision log. */
export interface RecordedDecision {
  decisionId: string;
  command: string;
  outcome: 'accepted' | 'refused';
  tokenId: string | null;
  key: string | null;
  requestHash: string | null;
  actor: string;
  correlationId: string;
  recordedAt: string;
  subject: DecisionSubject;
  eventIds: string[];
  /** The primary stream's revision after the command (accepted), and the position of its last event. */
  revision: number;
  position: bigint;
  answer: Record<string, unknown> | null;
  refusal: { code: string; rule: string; detail: string } | null;
  request: Record<string, unknown> | null;
}

export function isAcceptedDecision(meta: unknown): meta is AcceptedDecisionMeta {
  return typeof meta === 'object' && meta !== null && typeof (meta as AcceptedDecisionMeta).command === 'string';
}

/** The events of an accepted decision, primary first. */
export function decisionEventIds(primary: { eventId: string; metadata: { decision?: unknown } }): string[] {
  return (primary.metadata.decision as AcceptedDecisionMeta).eventIds ?? [primary.eventId];
}

/** What an event is about: its stream's subject and the serial, plan and claim its data name. */
export function subjectOfEvent(e: { streamId: string; data: unknown }): DecisionSubject {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    serial: text(d.serial) ?? (e.streamId.startsWith('device-') ? e.streamId.slice('device-'.length) : null),
    planId: text(d.planId) ?? (e.streamId.startsWith('plan-') ? e.streamId.slice('plan-'.length) : null),
    claimId: text(d.claimId),
  };
}

/**
 * The decision recorded by these events: a refusal fact alone, or an accepted command's events
 * (the primary first; `events` may hold all of them, in any order).
 */
export function decisionOf(events: readonly StoredEvent[]): RecordedDecision | null {
  const refusal = events.find((e) => e.type === COMMAND_REFUSED);
  if (refusal) {
    const d = refusal.data as CommandRefusedData;
    return {
      decisionId: d.decisionId,
      command: d.command,
      outcome: 'refused',
      tokenId: d.tokenId,
      key: d.key,
      requestHash: d.requestHash,
      actor: refusal.metadata.actor,
      correlationId: refusal.metadata.correlationId,
      recordedAt: refusal.metadata.recordedAt,
      subject: d.subject,
      eventIds: [],
      revision: -1,
      position: refusal.position,
      answer: null,
      refusal: { code: d.code, rule: d.rule, detail: d.detail },
      request: d.request,
    };
  }
  const repeated = events.find((e) => e.type === COMMAND_REPEATED);
  if (repeated) {
    const d = repeated.data as CommandRepeatedData;
    return {
      decisionId: d.decisionId,
      command: d.command,
      outcome: 'accepted',
      tokenId: d.tokenId,
      key: d.key,
      requestHash: d.requestHash,
      actor: repeated.metadata.actor,
      correlationId: repeated.metadata.correlationId,
      recordedAt: repeated.metadata.recordedAt,
      subject: d.subject,
      eventIds: d.eventIds,
      revision: d.revision,
      position: BigInt(d.position),
      answer: d.answer,
      refusal: null,
      request: null,
    };
  }
  const primary = events.find((e) => isAcceptedDecision(e.metadata.decision));
  if (!primary) return null;
  const meta = primary.metadata.decision as unknown as AcceptedDecisionMeta;
  const eventIds = decisionEventIds(primary);
  const mine = events.filter((e) => eventIds.includes(e.eventId));
  const last = mine.reduce((a, b) => (b.position > a.position ? b : a), primary);
  const revision = mine.filter((e) => e.streamId === primary.streamId).reduce((r, e) => Math.max(r, e.revision), primary.revision);
  return {
    decisionId: primary.eventId,
    command: meta.command,
    outcome: 'accepted',
    tokenId: meta.tokenId ?? null,
    key: meta.key ?? null,
    requestHash: meta.requestHash ?? null,
    actor: primary.metadata.actor,
    correlationId: primary.metadata.correlationId,
    recordedAt: primary.metadata.recordedAt,
    subject: subjectOfEvent(primary),
    eventIds,
    revision,
    position: last.position,
    answer: meta.answer ?? null,
    refusal: null,
    request: null,
  };
}

/** The serial, plan and claim a command and its outcome are about. */
export function subjectOf(command: Command, outcome: Outcome | null): DecisionSubject {
  const c = command as Record<string, unknown>;
  const o = (outcome ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    serial: text(c.serial) ?? text(o.serial),
    planId: text(c.planId) ?? text(o.planId),
    claimId: text(c.claimId) ?? text(o.claimId),
  };
}
