/**
 * The command side: read the streams a command needs, decide with the pure domain, append with the
 * expected revisions read. On a concurrency conflict re-read and re-decide (bounded), unless the
 * client pinned a revision with If-Match. Every accepted or refused decision goes to the decision log.
 */
import {
  businessTimeOf, Catalogue, Command, Decision, decide, DomainEvent, gather, Refusal,
} from '@careledger/domain';
import { AppendResult, Clock, ConcurrencyConflict, EventStore, NewEvent } from '@careledger/event-store';
import { randomId, stableId } from './ids';
import { DecisionRecord } from './local-store';

export interface CommandContext {
  actor: string;
  correlationId: string;
  causationId?: string | null;
  /** Makes event ids deterministic (Idempotency-Key, order or claim reference): a retry dedups. */
  idSeed?: string | null;
  /** If-Match: the revision the client last saw of the command's primary stream. */
  ifMatch?: number | null;
  /** The request as received, for the decision log. */
  request?: unknown;
}

export interface CommandOutcome {
  decision: Decision;
  repeat: boolean;
  /** Primary fact first. */
  eventIds: string[];
  streamId: string;
  revision: number;
  position: string;
  recordedAt: string | null;
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

export interface DecisionSink {
  /** May commit asynchronously (group commit); the command is answered once it has. */
  recordDecision(d: DecisionRecord): void | Promise<void>;
}

export interface LedgerOptions {
  maxRetries?: number;
  decisions?: DecisionSink;
  /** Called after every append with the last position (read-your-writes, metrics). */
  onAppended?: (position: bigint, durationMs: number) => void;
}

export class Ledger {
  private readonly maxRetries: number;

  constructor(
    readonly store: EventStore,
    readonly catalogue: Catalogue,
    readonly clock: Clock,
    private readonly options: LedgerOptions = {},
  ) {
    this.maxRetries = options.maxRetries ?? 25;
  }

  async execute(command: Command, ctx: CommandContext): Promise<CommandOutcome> {
    try {
      const outcome = await this.attempt(command, ctx);
      await this.log(command, ctx, outcome, null);
      await this.followUps(command, ctx, outcome);
      return outcome;
    } catch (error) {
      if (error instanceof Refusal) await this.log(command, ctx, null, error);
      throw error;
    }
  }

  private async attempt(command: Command, ctx: CommandContext): Promise<CommandOutcome> {
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now().getTime();
      const gathered = await gather(this.catalogue, command, (s) => this.store.readStream(s));
      const decision = decide(gathered.world, command, { now });
      if (decision.repeatOf) {
        const primary = decision.repeatOf[0];
        const revision = gathered.revisions.get(primary.streamId) ?? primary.revision;
        if (ctx.ifMatch != null && ctx.ifMatch !== revision) throw new StaleRevision(primary.streamId, ctx.ifMatch, revision);
        return {
          decision,
          repeat: true,
          eventIds: decision.repeatOf.map((f) => f.eventId),
          streamId: primary.streamId,
          revision,
          position: primary.position.toString(),
          recordedAt: primary.recordedAt,
        };
      }
      if (decision.appends.length === 0) {
        return { decision, repeat: false, eventIds: [], streamId: '', revision: -1, position: '0', recordedAt: null };
      }
      const primaryStream = decision.appends[decision.primary[0]].streamId;
      if (ctx.ifMatch != null) {
        const current = gathered.revisions.get(primaryStream) ?? -1;
        if (current !== ctx.ifMatch) throw new StaleRevision(primaryStream, ctx.ifMatch, current);
      }
      try {
        return await this.append(decision, gathered.revisions, ctx, now, primaryStream);
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict)) throw error;
        if (ctx.ifMatch != null && error.streamId === primaryStream) {
          throw new StaleRevision(primaryStream, ctx.ifMatch, typeof error.actual === 'number' ? error.actual : -1);
        }
        if (attempt >= this.maxRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3 * (attempt + 1)));
      }
    }
  }

  private async append(
    decision: Decision,
    revisions: Map<string, number>,
    ctx: CommandContext,
    now: number,
    primaryStream: string,
  ): Promise<CommandOutcome> {
    const results: { streamId: string; ids: string[]; result: AppendResult }[] = [];
    for (const append of decision.appends) {
      const ids = append.events.map((_, i) => (ctx.idSeed ? stableId(`${ctx.idSeed}|${append.streamId}|${i}`) : randomId()));
      const events: NewEvent[] = append.events.map((event, i) => this.toNewEvent(event, ids[i], ctx, now));
      const read = revisions.get(append.streamId) ?? -1;
      const expected = ctx.ifMatch != null && append.streamId === primaryStream ? ctx.ifMatch : read;
      const started = performance.now();
      const result = await this.store.appendToStream(append.streamId, events, {
        expectedRevision: expected < 0 ? 'no_stream' : expected,
      });
      this.options.onAppended?.(result.position, performance.now() - started);
      results.push({ streamId: append.streamId, ids, result });
    }
    const [ai, ei] = decision.primary;
    const primary = results[ai];
    const eventIds = [primary.ids[ei], ...results.flatMap((r) => r.ids).filter((id) => id !== primary.ids[ei])];
    const last = results[results.length - 1].result;
    return {
      decision,
      // every event id was already stored: a concurrent twin of this command got there first
      repeat: results.every((r) => r.result.deduplicated),
      eventIds,
      streamId: primary.streamId,
      revision: primary.result.nextExpectedRevision,
      position: last.position.toString(),
      recordedAt: last.recordedAt,
    };
  }

  private toNewEvent(event: DomainEvent, eventId: string, ctx: CommandContext, now: number): NewEvent {
    return {
      eventId,
      type: event.type,
      data: event.data,
      metadata: {
        occurredAt: businessTimeOf(event) ?? new Date(now).toISOString(),
        actor: ctx.actor,
        correlationId: ctx.correlationId,
        causationId: ctx.causationId ?? null,
      },
    };
  }

  /** Facts that follow from others: a bundle's 2-Year plan gets its year-2 extension once activated. */
  private async followUps(command: Command, ctx: CommandContext, outcome: CommandOutcome): Promise<void> {
    if (command.type !== 'ActivateDevice' || outcome.repeat) return;
    const device = await this.store.readStream(`device-${command.serial}`);
    const planIds = new Set(device.filter((e) => e.type === 'DeviceBoundToPlan').map((e) => (e.data as { planId: string }).planId));
    for (const planId of planIds) {
      await this.execute(
        { type: 'GrantDueExtensions', planId, kinds: ['plan-year-2'] },
        {
          actor: 'system:follow-up', correlationId: ctx.correlationId, causationId: outcome.eventIds[0] ?? null,
          // a deterministic activation gets a deterministic follow-up (seeded data, retried requests)
          idSeed: ctx.idSeed ? `${ctx.idSeed}|follow-up|${planId}` : null,
        },
      ).catch(() => undefined);
    }
  }

  private log(command: Command, ctx: CommandContext, outcome: CommandOutcome | null, refusal: Refusal | null): void | Promise<void> {
    const sink = this.options.decisions;
    if (!sink || command.type === 'GrantDueExtensions') return;
    if (outcome && outcome.eventIds.length === 0) return;
    const c = command as Record<string, unknown>;
    const resource = outcome?.decision.resource ?? {};
    return sink.recordDecision({
      recordedAt: this.clock.now().toISOString(),
      command: command.type,
      actor: ctx.actor,
      correlationId: ctx.correlationId,
      outcome: refusal ? 'refused' : 'accepted',
      code: refusal?.code ?? null,
      rule: refusal?.rule ?? null,
      detail: refusal?.message ?? (outcome?.repeat ? 'repeat of an earlier command' : null),
      serial: (c.serial as string | undefined) ?? resource.serial ?? null,
      planId: (c.planId as string | undefined) ?? resource.planId ?? null,
      claimId: (c.claimId as string | undefined) ?? resource.claimId ?? null,
      eventIds: outcome?.eventIds ?? [],
      position: outcome?.position ?? null,
      request: ctx.request ?? command,
    });
  }
}
