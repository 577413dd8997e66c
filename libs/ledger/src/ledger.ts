/**
 * The command side, one generic handler for every command: read the streams the command needs,
 * decide with the pure domain, and record the decision in the log in one append: an accepted
 * command's events carry the decision (one durable commit on SQLite and PostgreSQL); a refused one
 * (422) appends one refusal fact. On a concurrency conflict it re-reads and re-decides (bounded),
 * unless the client pinned a revision with If-Match. An Idempotency-Key (scoped to the calling
 * token) names the decision: a retry finds it in the log, on any node, and gets the first answer.
 */
import {
  businessTimeOf, Catalogue, Command, Decision, decide, DomainEvent, gather, Outcome, Refusal,
} from '@careledger/domain';
import {
  AppendResult, Clock, ConcurrencyConflict, DuplicateEventIdConflict, EventStore, NewEvent, StreamAppend,
} from '@careledger/event-store';
import {
  AcceptedDecisionMeta, COMMAND_REFUSED, COMMAND_REPEATED, CommandRefusedData, CommandRepeatedData, decisionOf, decisionStream,
  RecordedDecision, refusalStream, subjectOf,
} from './decisions';
import { randomId, stableId } from './ids';
import { StreamCache } from './stream-cache';

export interface CommandContext {
  /** The authenticated actor (token name or role), or a system process. */
  actor: string;
  /** The calling token's identity (a digest of it, never the token): scopes Idempotency-Keys. */
  tokenId?: string | null;
  correlationId: string;
  causationId?: string | null;
  /** The client's Idempotency-Key: the same key and request get the first answer, on any node. */
  idempotencyKey?: string | null;
  /** A digest of the request (method, path, canonical body): the same key with another request is refused. */
  requestHash?: string | null;
  /** If-Match: the revision the client last saw of the command's primary stream. */
  ifMatch?: number | null;
  /** An explicit decision id (seeded data): a retry of the same decision deduplicates in the store. */
  decisionId?: string | null;
  /** The decision instant when it is not the clock's (the sweep's `now`); never later than the clock. */
  now?: Date;
}

/** Turns a decision's outcome into the answer a client gets (and gets again on a replay). */
export type AnswerOf = (outcome: Outcome) => Record<string, unknown>;

export interface CommandResult {
  /** The domain's outcome; null when the answer was replayed from a decision recorded earlier. */
  outcome: Outcome | null;
  answer: Record<string, unknown>;
  /** Nothing was appended for this call: the command had been carried out before. */
  repeat: boolean;
  /** Primary fact first. */
  eventIds: string[];
  streamId: string;
  revision: number;
  position: string;
  decisionId: string;
}

/** If-Match named a revision the stream has moved past (HTTP 412). */
export class StaleRevision extends Error {
  readonly code = 'ConcurrencyConflict';
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${streamId} is at revision ${actual}, not ${expected}.`);
    this.name = 'StaleRevision';
  }
}

/** The Idempotency-Key was used with another request (HTTP 409). */
export class IdempotencyKeyReused extends Error {
  readonly code = 'IdempotencyKeyReused';
  constructor() {
    super('This Idempotency-Key was used with a different request.');
    this.name = 'IdempotencyKeyReused';
  }
}

/** The first answer to this Idempotency-Key was a refusal: the same refusal again (HTTP 422). */
export class ReplayedRefusal extends Error {
  constructor(
    readonly code: string,
    readonly rule: string,
    detail: string,
    /** Where the first refusal is recorded. */
    readonly recorded: { decisionId: string; position: string } | null = null,
  ) {
    super(detail);
    this.name = 'ReplayedRefusal';
  }
}

/** An answer recorded before decisions were facts (imported from an old data directory). */
export interface LegacyAnswer {
  fingerprint: string;
  status: number;
  body: string;
}

/** Where the ledger finds a decision recorded earlier, by its id. */
export interface DecisionLookup {
  find(decisionId: string): Promise<RecordedDecision | null>;
  /** Idempotency records of an old data directory, keyed by actor (how they were scoped then). */
  legacy?(actor: string, key: string): Promise<LegacyAnswer | null>;
}

/** On a store with a global index by event id, a decision is found in the store itself. */
export function storeDecisionLookup(store: EventStore): DecisionLookup {
  return {
    async find(decisionId) {
      const [first] = await store.readEvents([decisionId]);
      if (!first) return null;
      if (first.type === COMMAND_REFUSED || first.type === COMMAND_REPEATED) return decisionOf([first]);
      const meta = first.metadata.decision as Partial<AcceptedDecisionMeta> | null | undefined;
      const others = (meta?.eventIds ?? []).filter((id) => id !== decisionId);
      if (!meta?.command) return null;
      return decisionOf([first, ...(others.length > 0 ? await store.readEvents(others) : [])]);
    },
  };
}

export interface LedgerOptions {
  maxRetries?: number;
  /** Decisions recorded earlier (idempotency); default: the store's own lookup by event id. */
  decisions?: DecisionLookup;
  /** Called after every append with the last position (read-your-writes, metrics). */
  onAppended?: (position: bigint, durationMs: number) => void;
  /** Throws when the node must not take commands now (its read models do not match the log). */
  beforeCommand?: () => void;
  /** How many events the in-memory stream cache holds (0: no cache). Default 200,000. */
  cachedEvents?: number;
}

const defaultAnswer: AnswerOf = (outcome) => ({ ...outcome });

export class Ledger {
  private readonly maxRetries: number;
  private readonly decisions: DecisionLookup;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly streams: StreamCache | null;

  constructor(
    readonly store: EventStore,
    readonly catalogue: Catalogue,
    readonly clock: Clock,
    private readonly options: LedgerOptions = {},
  ) {
    this.maxRetries = options.maxRetries ?? 25;
    this.decisions = options.decisions ?? storeDecisionLookup(store);
    this.streams = options.cachedEvents === 0 ? null : new StreamCache(options.cachedEvents);
  }

  /** Drops every cached stream (the log was replaced under the node). */
  forgetStreams(): void {
    this.streams?.clear();
  }

  private readStream(streamId: string) {
    return this.streams ? this.streams.read(this.store, streamId) : this.store.readStream(streamId);
  }

  /** The decision id an Idempotency-Key names for a token (the same on every node). */
  static keyedDecisionId(scope: string, key: string): string {
    return stableId(`decision|${scope}|${key}`);
  }

  async execute(command: Command, ctx: CommandContext, answerOf: AnswerOf = defaultAnswer): Promise<CommandResult> {
    this.options.beforeCommand?.();
    const key = ctx.idempotencyKey ?? null;
    if (!key) return this.decideAndRecord(command, ctx, ctx.decisionId ?? randomId(), answerOf);
    const decisionId = Ledger.keyedDecisionId(ctx.tokenId ?? `actor:${ctx.actor}`, key);
    // one request per key at a time in this process; the others wait and then replay
    const previous = this.inFlight.get(decisionId) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.keyed(command, ctx, decisionId, key, answerOf));
    this.inFlight.set(decisionId, current);
    try {
      return await current;
    } finally {
      if (this.inFlight.get(decisionId) === current) this.inFlight.delete(decisionId);
    }
  }

  private async keyed(command: Command, ctx: CommandContext, decisionId: string, key: string, answerOf: AnswerOf): Promise<CommandResult> {
    const found = await this.decisions.find(decisionId);
    if (found) return this.replay(found, ctx);
    const legacy = await this.decisions.legacy?.(ctx.actor, key);
    if (legacy) return this.replayLegacy(legacy, ctx, decisionId);
    try {
      return await this.decideAndRecord(command, ctx, decisionId, answerOf);
    } catch (error) {
      // a twin of this request (same key) was decided meanwhile, maybe on another node
      if (error instanceof DuplicateEventIdConflict || error instanceof ConcurrencyConflict) {
        const twin = await this.decisions.find(decisionId);
        if (twin) return this.replay(twin, ctx);
      }
      throw error;
    }
  }

  private replay(found: RecordedDecision, ctx: CommandContext): CommandResult {
    if (found.requestHash !== null && ctx.requestHash && found.requestHash !== ctx.requestHash) throw new IdempotencyKeyReused();
    if (found.refusal) throw new ReplayedRefusal(found.refusal.code, found.refusal.rule, found.refusal.detail, { decisionId: found.decisionId, position: found.position.toString() });
    return {
      outcome: null,
      answer: found.answer ?? {},
      repeat: true,
      eventIds: found.eventIds,
      streamId: '',
      revision: found.revision,
      position: found.position.toString(),
      decisionId: found.decisionId,
    };
  }

  private replayLegacy(legacy: LegacyAnswer, ctx: CommandContext, decisionId: string): CommandResult {
    if (ctx.requestHash && legacy.fingerprint && legacy.fingerprint !== ctx.requestHash) throw new IdempotencyKeyReused();
    const body = JSON.parse(legacy.body) as Record<string, unknown>;
    if (legacy.status >= 400) throw new ReplayedRefusal(String(body.code), String(body.rule ?? ''), String(body.detail ?? ''));
    const { eventIds, revision, position, ...answer } = body;
    return {
      outcome: null,
      answer,
      repeat: true,
      eventIds: (eventIds as string[]) ?? [],
      streamId: '',
      revision: Number(revision ?? -1),
      position: String(position ?? '0'),
      decisionId,
    };
  }

  private async decideAndRecord(command: Command, ctx: CommandContext, decisionId: string, answerOf: AnswerOf): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      const now = (ctx.now ?? this.clock.now()).getTime();
      const gathered = await gather(this.catalogue, command, (s) => this.readStream(s));
      let decision: Decision;
      try {
        decision = decide(gathered.world, command, { now });
      } catch (error) {
        if (error instanceof Refusal) await this.recordRefusal(command, ctx, decisionId, error, now);
        throw error;
      }
      if (decision.repeatOf) {
        const primary = decision.repeatOf[0];
        const revision = gathered.revisions.get(primary.streamId) ?? primary.revision;
        if (ctx.ifMatch != null && ctx.ifMatch !== revision) throw new StaleRevision(primary.streamId, ctx.ifMatch, revision);
        // the command was carried out before: its first answer, as recorded with that decision
        const first = await this.decisions.find(primary.eventId).catch(() => null);
        const result: CommandResult =
          first && first.outcome === 'accepted'
            ? {
                outcome: decision.outcome,
                answer: first.answer ?? answerOf(decision.outcome),
                repeat: true,
                eventIds: first.eventIds,
                streamId: primary.streamId,
                revision: first.revision,
                position: first.position.toString(),
                decisionId: first.decisionId,
              }
            : {
                outcome: decision.outcome,
                answer: answerOf(decision.outcome),
                repeat: true,
                eventIds: decision.repeatOf.map((f) => f.eventId),
                streamId: primary.streamId,
                revision,
                position: primary.position.toString(),
                decisionId: primary.eventId,
              };
        if (ctx.idempotencyKey) await this.recordRepeat(command, ctx, decisionId, result, now);
        return result;
      }
      if (decision.appends.length === 0) {
        return { outcome: decision.outcome, answer: answerOf(decision.outcome), repeat: false, eventIds: [], streamId: '', revision: -1, position: '0', decisionId };
      }
      const primaryStream = decision.appends[decision.primary[0]].streamId;
      if (ctx.ifMatch != null) {
        const current = gathered.revisions.get(primaryStream) ?? -1;
        if (current !== ctx.ifMatch) throw new StaleRevision(primaryStream, ctx.ifMatch, current);
      }
      try {
        return await this.append(command, decision, gathered, ctx, decisionId, now, primaryStream, answerOf);
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
        this.streams?.forget(error.streamId);
        if (ctx.ifMatch != null && error.streamId === primaryStream) {
          throw new StaleRevision(primaryStream, ctx.ifMatch, typeof error.actual === 'number' ? error.actual : -1);
        }
        if (attempt >= this.maxRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3 * (attempt + 1)));
      }
    }
  }

  /**
   * Records an accepted decision. On a store without multi-stream transactions (EventStoreDB: one
   * stream after the other) a crash or failure can fall between two parts, so there: the primary
   * fact, which carries the decision, is written LAST (a decision is in the log only once all of its
   * parts are, and a lookup or the decision log never finds half of one); and a retry of the same
   * decision (same Idempotency-Key or decision id) does not write again the parts an earlier attempt
   * left (they carry this decision's id), but names them among the decision's events. The deciders
   * already leave out what they find done (a unit's own reservation, a second year already granted).
   */
  private async append(
    command: Command,
    decision: Decision,
    gathered: { revisions: Map<string, number>; events: readonly { eventId: string; metadata: { decision?: Record<string, unknown> | null } }[] },
    ctx: CommandContext,
    decisionId: string,
    now: number,
    primaryStream: string,
    answerOf: AnswerOf,
  ): Promise<CommandResult> {
    const { revisions } = gathered;
    const [pa, pe] = decision.primary;
    const atomic = this.store.capabilities.atomicMultiStream;
    const ids = decision.appends.map((a, ai) =>
      a.events.map((_, ei) => (ai === pa && ei === pe ? decisionId : stableId(`${decisionId}|${a.streamId}|${ei}`))),
    );
    // parts of this decision an earlier attempt wrote before it was cut short (never on an atomic store)
    const earlier = atomic ? new Set<string>() : new Set(gathered.events.filter((e) => e.eventId !== decisionId && e.metadata.decision?.id === decisionId).map((e) => e.eventId));
    const eventIds = [...new Set([decisionId, ...earlier, ...ids.flat()])];
    const answer = answerOf(decision.outcome);
    // small: it rides on every accepted command (absent fields are null, see AcceptedDecisionMeta)
    const meta: AcceptedDecisionMeta = { command: command.type };
    if (ctx.tokenId) meta.tokenId = ctx.tokenId;
    if (ctx.idempotencyKey) {
      meta.key = ctx.idempotencyKey;
      meta.answer = answer;
    }
    if (ctx.requestHash) meta.requestHash = ctx.requestHash;
    if (eventIds.length > 1) meta.eventIds = eventIds;
    const all: StreamAppend[] = decision.appends.map((a, ai) => {
      const read = revisions.get(a.streamId) ?? -1;
      const expected = ctx.ifMatch != null && a.streamId === primaryStream ? ctx.ifMatch : read;
      return {
        streamId: a.streamId,
        expectedRevision: expected < 0 ? 'no_stream' : expected,
        events: a.events.map((event, ei) =>
          this.toNewEvent(event, ids[ai][ei], ctx, now, ai === pa && ei === pe ? (meta as unknown as Record<string, unknown>) : { id: decisionId }),
        ),
      };
    });
    // the decider's order (a reservation before the stream that confirms it); without transactions,
    // the parts written already left out and the primary's part last
    let order = all.map((_, ai) => ai);
    if (!atomic) {
      order = order.filter((ai) => ai === pa || !ids[ai].every((id) => earlier.has(id)));
      order = [...order.filter((ai) => ai !== pa), pa];
    }
    const parts = order.map((ai) => all[ai]);
    const started = performance.now();
    let sent: AppendResult[];
    try {
      sent = await this.store.append(parts);
    } catch (error) {
      // an append that failed (or may have failed) leaves what these streams hold unknown here
      for (const part of parts) this.streams?.forget(part.streamId);
      throw error;
    }
    parts.forEach((part, i) => {
      const r = sent[i];
      if (!r.deduplicated) this.streams?.appended(part.streamId, part.events, r.nextExpectedRevision - part.events.length + 1, r.positions, r.recordedAt);
    });
    const results = new Map(order.map((ai, i) => [ai, sent[i]]));
    const last = sent.reduce((a, b) => (b.position > a.position ? b : a));
    this.options.onAppended?.(last.position, performance.now() - started);
    if (sent.every((r) => r.deduplicated)) {
      // every event id was already stored: a twin of this command (the same decision id, on another
      // node) was recorded first, maybe from other reads than this node's. Its answer is the one the
      // log holds.
      const recorded = await this.decisions.find(decisionId).catch(() => null);
      if (recorded) return this.replay(recorded, ctx);
    }
    return {
      outcome: decision.outcome,
      answer,
      // every event id was already stored: a concurrent twin of this command got there first
      repeat: sent.every((r) => r.deduplicated),
      eventIds,
      streamId: primaryStream,
      revision: results.get(pa)!.nextExpectedRevision,
      position: last.position.toString(),
      decisionId,
    };
  }

  private toNewEvent(event: DomainEvent, eventId: string, ctx: CommandContext, now: number, decision: Record<string, unknown>): NewEvent {
    return {
      eventId,
      type: event.type,
      data: event.data,
      metadata: {
        occurredAt: businessTimeOf(event) ?? new Date(now).toISOString(),
        actor: ctx.actor,
        correlationId: ctx.correlationId,
        ...(ctx.causationId ? { causationId: ctx.causationId } : {}),
        decision,
      },
    };
  }

  /** A keyed request answered as a repeat: the key now names that answer, on every node. */
  private async recordRepeat(command: Command, ctx: CommandContext, decisionId: string, result: CommandResult, now: number): Promise<void> {
    const data: CommandRepeatedData = {
      decisionId,
      command: command.type,
      tokenId: ctx.tokenId ?? null,
      key: ctx.idempotencyKey!,
      requestHash: ctx.requestHash ?? null,
      subject: subjectOf(command, result.outcome),
      answer: result.answer,
      eventIds: result.eventIds,
      revision: result.revision,
      position: result.position,
    };
    await this.appendDecisionFact(decisionStream(decisionId), decisionId, COMMAND_REPEATED, data, ctx, now);
  }

  /**
   * A refused command leaves one fact in the log, so a dispute can show what was tried and which
   * rule refused it. Its id is the decision's: a retried request with the same key finds it.
   */
  private async recordRefusal(command: Command, ctx: CommandContext, decisionId: string, refusal: Refusal, now: number): Promise<void> {
    refusal.recorded = { decisionId, position: '0' };
    const { type, ...request } = command;
    const data: CommandRefusedData = {
      decisionId,
      command: type,
      code: refusal.code,
      rule: refusal.rule,
      detail: refusal.message,
      tokenId: ctx.tokenId ?? null,
      key: ctx.idempotencyKey ?? null,
      requestHash: ctx.requestHash ?? null,
      subject: subjectOf(command, null),
      request,
    };
    refusal.recorded.position = (await this.appendDecisionFact(refusalStream(decisionId), decisionId, COMMAND_REFUSED, data, ctx, now)).toString();
  }

  private async appendDecisionFact(streamId: string, decisionId: string, type: string, data: unknown, ctx: CommandContext, now: number): Promise<bigint> {
    const started = performance.now();
    const [result] = await this.store.append([{
      streamId,
      expectedRevision: 'no_stream',
      events: [{
        eventId: decisionId,
        type,
        data,
        metadata: {
          occurredAt: new Date(now).toISOString(), actor: ctx.actor, correlationId: ctx.correlationId,
          ...(ctx.causationId ? { causationId: ctx.causationId } : {}), decision: { id: decisionId },
        },
      }],
    }]);
    this.options.onAppended?.(result.position, performance.now() - started);
    return result.position;
  }
}
