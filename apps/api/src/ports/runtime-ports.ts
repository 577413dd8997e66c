/** The ports of ports.ts over one node's Runtime. */
import { Runtime } from '@careledger/runtime';
import type { Command } from '@careledger/domain';
import type { AnswerOf, CommandContext } from '@careledger/ledger';
import { AuditFilter, claimSummary, decisionItem, DecisionFilter, EntitlementQuery, rowToEvent, toHistoryEntry } from '@careledger/projections';
import { notCaughtUp } from '../http/problem';
import { BusinessCounts, Directory, HealthReport, LedgerCommands, LedgerQueries, Operations, Page } from './ports';

export class RuntimeCommands extends LedgerCommands {
  constructor(private readonly rt: Runtime) {
    super();
  }

  execute(command: Command, ctx: CommandContext, answerOf: AnswerOf) {
    return this.rt.ledger.execute(command, ctx, answerOf);
  }

  decision(decisionId: string) {
    return this.rt.findDecision(decisionId);
  }
}

function page<T, R>(rows: R[], limit: number, key: (r: R) => number, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const shown = rows.slice(0, limit);
  return { items: shown.map(map), next: more ? key(shown[shown.length - 1]) : null };
}

/** Rows in position order, those after `upTo` left out (then there is no next page). */
function upToPosition<R extends { position: number }>(rows: R[], upTo: number | undefined): R[] {
  if (upTo === undefined || rows.length === 0 || rows[rows.length - 1].position <= upTo) return rows;
  return rows.filter((r) => r.position <= upTo);
}

export class RuntimeQueries extends LedgerQueries {
  constructor(private readonly rt: Runtime) {
    super();
  }

  consistent(minPosition?: bigint) {
    return this.rt.consistentRead(minPosition);
  }

  checkpoint() {
    return this.rt.reads.checkpoint();
  }

  head() {
    return this.rt.store.headPosition().catch(() => null);
  }

  entitlements(serial: string, q: EntitlementQuery) {
    return this.rt.reads.entitlements.entitlements(serial, q, this.rt.reads.checkpoint());
  }

  history(serial: string, knownAt?: string) {
    return this.rt.reads.entitlements.history(serial, knownAt);
  }

  async timeline(serial: string, knownAt: string) {
    return this.rt.reads.entitlements.timeline(serial, knownAt);
  }

  plan(planId: string, now: Date) {
    return this.rt.reads.plan(planId, now);
  }

  claim(claimId: string) {
    return this.rt.reads.claims.claim(claimId);
  }

  claimsOfUnit(serial: string) {
    return this.rt.reads.claims.claimsOfUnit(serial).map(claimSummary);
  }

  auditEvents(f: AuditFilter, upTo?: number) {
    return page(upToPosition(this.rt.reads.log.events({ ...f, limit: f.limit + 1 }), upTo), f.limit, (r) => r.position, (r) => toHistoryEntry(rowToEvent(r)));
  }

  decisions(f: DecisionFilter, upTo?: number) {
    return page(upToPosition(this.rt.reads.decisions.list({ ...f, limit: f.limit + 1 }), upTo), f.limit, (r) => r.position, decisionItem);
  }

  centerClaims(centerId: string, status: string | undefined, after: number | undefined, limit: number) {
    return page(this.rt.reads.claims.centerClaims(centerId, status, after, limit + 1), limit, (r) => r.seq, claimSummary);
  }

  dashboard(centerId: string, from: string | undefined, to: string | undefined) {
    return this.rt.reads.claims.dashboard(centerId, from, to);
  }

  center(centerId: string) {
    return this.rt.reads.centers.center(centerId) ?? null;
  }

  businessCounts(q: { eventTypes: readonly string[]; sweepActor: string }, after: number, upTo: number): BusinessCounts {
    return {
      events: this.rt.reads.log.countByType(q.eventTypes, after, upTo),
      sweepGrants: this.rt.reads.log.countByField('WarrantyExtensionGranted', q.sweepActor, 'kind', after, upTo),
      refusals: this.rt.reads.decisions.refusalCounts(after, upTo),
    };
  }
}

export class RuntimeDirectory extends Directory {
  constructor(private readonly rt: Runtime) {
    super();
  }

  /**
   * Found here, or (not seen yet) once more after this node caught up with the log's head. A node
   * that cannot catch up within the wait (restarting on a long log, its runner reconnecting) answers
   * 503 NotCaughtUp: "no such claim" would be stale data.
   */
  private async lookup<T>(find: () => T | null | undefined): Promise<T | null> {
    await this.rt.consistentRead();
    const here = find();
    if (here) return here;
    if (!(await this.rt.catchUpToHead())) throw notCaughtUp('This node has not caught up with the log yet, so it cannot tell whether that exists; retry shortly.');
    return find() ?? null;
  }

  claim(claimId: string) {
    return this.lookup(() => this.rt.reads.claims.location(claimId));
  }

  event(eventId: string) {
    return this.lookup(() => {
      const e = this.rt.reads.log.event(eventId);
      return e ? { streamId: e.streamId, type: e.type, position: e.position } : null;
    });
  }

  order(orderId: string) {
    return this.lookup(() => this.rt.reads.plans.order(orderId));
  }
}

export class RuntimeOperations extends Operations {
  constructor(private readonly rt: Runtime) {
    super();
  }

  async health(): Promise<HealthReport> {
    const rt = this.rt;
    const reachable = await rt.store.ping().catch(() => false);
    const head = reachable ? await rt.store.headPosition().catch(() => null) : null;
    const checkpoint = rt.runner.checkpoint;
    const reasons: string[] = [];
    if (!reachable) reasons.push('the event store is unreachable');
    if (rt.runner.state === 'diverged') reasons.push(`the read models do not match the log: ${(rt.runner.lastError as Error)?.message}`);
    else if (rt.runner.state === 'retrying') reasons.push('the projection runner lost the log and is reconnecting');
    else if (rt.runner.state === 'stopped' || rt.runner.state === 'idle') reasons.push('the projection runner is not running');
    else if (!rt.runner.verifiedAnchor) reasons.push('checking that the log still holds what the read models reflect');
    if (checkpoint < rt.startHead) reasons.push(`catching up with the log: position ${checkpoint} of ${rt.startHead}`);
    const lagMs = rt.runner.lagMs;
    if (lagMs > rt.lagLimitMs) reasons.push(`the read models are ${Math.round(lagMs / 1000)} s behind the log`);
    const error = rt.runner.lastError;
    return {
      live: true,
      ready: reasons.length === 0,
      reasons,
      store: { kind: rt.store.kind, reachable, head: head?.toString() ?? null },
      projection: {
        state: rt.runner.state,
        checkpoint: checkpoint.toString(),
        behind: head === null ? null : head > checkpoint,
        lagMs,
        lastError: error instanceof Error ? error.message : null,
      },
      catalogue: rt.catalogue.version,
    };
  }

  verify(full: boolean) {
    return this.rt.verify({ full });
  }

  signCheckpoint() {
    return this.rt.checkpoints.signHead();
  }

  checkpoints(after: bigint | null, limit: number) {
    return this.rt.checkpoints.list(after, limit);
  }

  async publicKeys() {
    return { keyId: this.rt.checkpoints.keyId, publicKey: this.rt.checkpoints.publicKeyPem, keys: await this.rt.checkpoints.keys() };
  }

  sweep(now?: Date) {
    return this.rt.sweep(now);
  }

  catalogueVersion() {
    return this.rt.catalogue.version;
  }

  now() {
    return this.rt.clock.now();
  }
}
