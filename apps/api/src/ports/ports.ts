/**
 * What the HTTP layer needs of a node, as small abstract classes (bound in AppModule to the
 * runtime's implementations, ports/runtime-ports.ts). Controllers depend on these, never on the
 * runtime, a table or a column name.
 */
import type { Command } from '@careledger/domain';
import type { AnswerOf, CommandContext, CommandResult, RecordedDecision } from '@careledger/ledger';
import type {
  AuditFilter, ClaimSummary, ClaimView, Dashboard, DecisionFilter, DecisionItem, EntitlementQuery, HistoryEntry, PlanView, ServiceCenter,
} from '@careledger/projections';
import type { SignedCheckpoint, SweepResult, VerifyResult } from '@careledger/runtime';

/** Runs commands through the ledger. */
export abstract class LedgerCommands {
  abstract execute(command: Command, ctx: CommandContext, answerOf: AnswerOf): Promise<CommandResult>;
  /** A decision recorded earlier, by its id (the primary event's id). */
  abstract decision(decisionId: string): Promise<RecordedDecision | null>;
}

export interface Page<T> {
  items: T[];
  /** The position (or queue sequence) after which the next page starts; null on the last page. */
  next: number | null;
}

export interface TimelineEntry {
  eventId: string;
  type: string;
  position: string;
  occurredAt: string;
  recordedAt: string;
  view: unknown;
}

/** Reads of the node's read models, consistent with what the node acknowledged. */
export abstract class LedgerQueries {
  /**
   * Waits until the read models reflect every command this node acknowledged (and `minPosition`);
   * false when they do not within the node's read wait.
   */
  abstract consistent(minPosition?: bigint): Promise<boolean>;
  abstract checkpoint(): bigint;
  /** The log's last position as the store has it now; null when the store cannot say (unreachable). */
  abstract head(): Promise<bigint | null>;
  abstract entitlements(serial: string, q: EntitlementQuery): Promise<string | null>;
  abstract history(serial: string, knownAt?: string): Promise<HistoryEntry[] | null>;
  abstract timeline(serial: string, knownAt: string): Promise<TimelineEntry[] | null>;
  abstract plan(planId: string, now: Date): PlanView | null;
  abstract claim(claimId: string): ClaimView | null;
  abstract claimsOfUnit(serial: string): ClaimSummary[];
  /** `upTo`: only what is at or before this position (a long read, such as a CSV, stays as of where it began). */
  abstract auditEvents(filter: AuditFilter, upTo?: number): Page<HistoryEntry>;
  abstract decisions(filter: DecisionFilter, upTo?: number): Page<DecisionItem>;
  abstract centerClaims(centerId: string, status: string | undefined, after: number | undefined, limit: number): Page<ClaimSummary>;
  abstract dashboard(centerId: string, from: string | undefined, to: string | undefined): Dashboard;
  abstract center(centerId: string): ServiceCenter | null;
  /**
   * What the business metrics count over the read models' positions (after, upTo]: the events of
   * `eventTypes` by type, the warranty extensions `sweepActor` granted by kind, refusals by code.
   */
  abstract businessCounts(q: { eventTypes: readonly string[]; sweepActor: string }, after: number, upTo: number): BusinessCounts;
}

/** Counts of facts over a range of positions (the business metrics). */
export interface BusinessCounts {
  /** Events by type, for the types asked for (a type with none is absent). */
  events: Map<string, number>;
  /** Warranty extensions the sweep granted, by kind. */
  sweepGrants: Map<string, number>;
  /** Refused commands by code and rule. */
  refusals: { code: string; rule: string; n: number }[];
}

/** Where things are: a claim's plan and center, an event's stream, an order's plan. */
export abstract class Directory {
  /** Looks in this node's read models, and once more after catching up with the log's head when not found. */
  abstract claim(claimId: string): Promise<{ planId: string; centerId: string } | null>;
  abstract event(eventId: string): Promise<{ streamId: string; type: string; position: string } | null>;
  abstract order(orderId: string): Promise<{ planId: string; kind: string; eventId: string } | null>;
}

export interface HealthReport {
  live: true;
  ready: boolean;
  reasons: string[];
  store: { kind: string; reachable: boolean; head: string | null };
  projection: { state: string; checkpoint: string; behind: boolean | null; lagMs: number; lastError: string | null };
  catalogue: string;
}

/** The node's operations: health, integrity, checkpoints, the sweep. */
export abstract class Operations {
  abstract health(): Promise<HealthReport>;
  abstract verify(full: boolean): Promise<VerifyResult>;
  abstract signCheckpoint(): Promise<SignedCheckpoint | null>;
  abstract checkpoints(after: bigint | null, limit: number): Promise<SignedCheckpoint[]>;
  abstract publicKeys(): Promise<{ keyId: string; publicKey: string; keys: { keyId: string; publicKey: string }[] }>;
  abstract sweep(now?: Date): Promise<SweepResult>;
  abstract catalogueVersion(): string;
  abstract now(): Date;
}
