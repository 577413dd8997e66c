/**
 * The answers of the read routes, as the OpenAPI document describes them (see answers.dto.ts for
 * how a class becomes a schema). Instants are `format: date-time`, dates `format: date`, global
 * positions decimal strings.
 */
import type { Cause, ClaimKind, ClaimStatus, Coverage, ExtensionKind, Region } from '@careledger/domain';
import { ApiProperty } from '@nestjs/swagger';
import { ChainTerm, Money, Window } from './answers.dto';
import { CalendarDate, Instant, Int, Position } from './formats';

// ---------------------------------------------------------------------------------------------
// entitlements

export class NextFee {
  /** The fee of the next damage replacement; null when none remains. */
  damage: Money | null;

  /** The fee of the next flyaway replacement; null when the plan has none left or none at all. */
  flyaway: Money | null;
}

export class ReplacementEntitlement {
  /** The replacement window of the term in force at `at`; null outside any. */
  window: Window | null;

  /** Replacements left in the term. */
  @Int(2)
  remaining: number;

  /** Replacements used (approved and not released) in the term. */
  @Int(0)
  used: number;

  /** Flyaway replacements left in the term. */
  @Int(1)
  flyawayRemaining: number;

  nextFee: NextFee;
}

export class WarrantyExtension extends Window {
  kind: ExtensionKind;

  /** pending until its condition has settled (RULES W5). */
  status: 'granted' | 'pending';
}

export class WarrantyEntitlement {
  /** The official warranty from activation; null when unknown. */
  official: Window | null;

  /** Exclusive end of warranty coverage as known at `at`, pending extensions included. */
  @CalendarDate()
  coveredUntil: string | null;

  extensions: WarrantyExtension[];
}

export class SafeUseReward {
  status: 'not-applicable' | 'pending' | 'granted' | 'forfeited';

  /** Set while pending or granted; null when not-applicable or forfeited. */
  window: Window | null;
}

export class RemainingCount {
  @Int()
  remaining: number;
}

export class RenewalEligibility {
  eligible: boolean;

  /** The last instant a renewal is accepted (RULES N2). */
  @Instant()
  deadline: string | null;

  /** The refusal code a renewal would get now; null when eligible. */
  blockedBy: string | null;
}

export class CarePlusEligibility {
  eligible: boolean;

  /**
   * The refusal code a Care Refresh+ purchase would get now; null when eligible.
   * @example NotAllowedWith2YearPlan
   */
  blockedBy: string | null;
}

export class EntitlementConflict {
  /** @example X2 */
  rule: string;

  eventIds: string[];

  /** What contradicts what, in words (another center's claim is named by its id). */
  detail: string;
}

export class ExplanationEntry {
  /**
   * The field explained, as a path.
   * @example replacement.remaining
   */
  field: string;

  /** The RULES.md rules behind it. */
  @ApiProperty({ example: ['R1', 'R7'] })
  rules: string[];

  /** The events behind it. */
  eventIds: string[];
}

/** What a unit is entitled to at a business time, as the ledger knew it at knownAt. */
export class EntitlementView {
  /** @example SN-1581F5FHD23 */
  serial: string;

  /** @example Mavic 3 */
  model: string | null;

  /** The unit's region; null when unknown. */
  region: Region | null;

  /** The business time of the view. */
  @Instant()
  at: string;

  /** The recordedAt cut-off of the view. */
  @Instant()
  knownAt: string;

  coverage: Coverage;

  planId: string | null;

  /** @example V2023 */
  policyVersion: string | null;

  /** The plan's terms, oldest first. */
  chain: ChainTerm[];

  /** The earlier units of the chain, oldest first. */
  inheritedFrom: string[];

  /** The unit that directly replaced this one. */
  transferredTo: string | null;

  replacement: ReplacementEntitlement;

  warranty: WarrantyEntitlement;

  safeUseReward: SafeUseReward;

  discountedRepairs: RemainingCount;

  factoryMaintenance: RemainingCount;

  renewal: RenewalEligibility;

  carePlus: CarePlusEligibility;

  /** Facts that contradict each other (RULES X2). */
  conflicts: EntitlementConflict[];

  /** The rules and events behind each field; present with explain=true (always in a timeline). */
  explanation?: ExplanationEntry[];
}

/** The entitlements read: the view plus the checkpoint it reflects. */
export class Entitlements extends EntitlementView {
  /** The read models' checkpoint. */
  @Position()
  checkpoint: string;
}

// ---------------------------------------------------------------------------------------------
// history, timeline, audit

export class HistoryEntry {
  eventId: string;

  /** @example PlanPurchased */
  type: string;

  /** @example plan-2a0857ed-30fe-536e-9e71-f1e9cae11ed3 */
  streamId: string;

  /** The event's revision in its stream (0 = first). */
  @Int(0)
  revision: number;

  @Position()
  position: string;

  /** When it happened (business time). */
  @Instant()
  occurredAt: string;

  /** When the ledger recorded it (millisecond precision). */
  @Instant()
  recordedAt: string;

  /** Who recorded it (the token's name, else its role; another service center's staff read as that center). */
  actor: string;

  /** The request that recorded it. */
  correlationId: string;

  causationId: string | null;

  /** The event's data, as its type defines it. */
  data: Record<string, unknown>;

  /** What a service-center caller may not read of another center's claim and was left out (see the README's claims rule). */
  @ApiProperty({ example: ['data.claimRef', 'actor'] })
  redacted?: string[];
}

export class History {
  serial: string;

  @Position()
  checkpoint: string;

  /** Every event that touched the unit or its chain, in global order. */
  events: HistoryEntry[];
}

export class TimelineEntry {
  eventId: string;

  type: string;

  @Position()
  position: string;

  @Instant()
  occurredAt: string;

  @Instant()
  recordedAt: string;

  /** The entitlement view after this event, as known when it was recorded. */
  view: EntitlementView;
}

export class Timeline {
  serial: string;

  /** The recordedAt cut-off. */
  @Instant()
  knownAt: string;

  @Position()
  checkpoint: string;

  entries: TimelineEntry[];
}

export class AuditEventsPage {
  items: HistoryEntry[];

  /** Pass as cursor for the next page; null on the last. */
  nextCursor: string | null;

  @Position()
  checkpoint: string;
}

/** One entry of the decision log: an accepted or refused command. */
export class DecisionRecord {
  decisionId: string;

  /**
   * The command's type.
   * @example RenewPlan
   */
  type: string;

  /**
   * The command's type, again.
   * @example RenewPlan
   */
  command: string;

  @Instant()
  recordedAt: string;

  actor: string;

  correlationId: string;

  outcome: 'accepted' | 'refused';

  /** The refusal code; null when accepted. */
  code: string | null;

  rule: string | null;

  detail: string | null;

  serial: string | null;

  planId: string | null;

  claimId: string | null;

  eventIds: string[];

  @Position()
  position: string;

  /** A refused command's business fields, as decided (what a dispute needs); null when accepted (its events hold the facts). */
  request: Record<string, unknown> | null;
}

export class DecisionsPage {
  items: DecisionRecord[];

  nextCursor: string | null;

  @Position()
  checkpoint: string;
}

export class VerifiedCheckpoint {
  @Position()
  position: string;

  /** The chain hash the checkpoint signed. */
  hash: string;

  /** The key that signed it. */
  keyId: string;

  /** The log still holds this hash at this position. */
  holds: boolean;
}

export class VerifyReport {
  /** Events checked by this walk. */
  @Int()
  events: number;

  /** Every event checked is hash-chained to the one before. */
  ok: boolean;

  /** The first event whose chain is broken; null when ok. */
  @Position()
  firstBrokenPosition: string | null;

  /** Where this walk started (0: the start of the log; else the point verified before). */
  @Position()
  verifiedFrom: string;

  /** The last event found sound. */
  @Position()
  verifiedUpTo: string;

  /** The latest signed checkpoint within the verified log, and whether the log holds it; null when none. */
  checkpoint: VerifiedCheckpoint | null;

  store: 'sqlite' | 'postgres' | 'eventstoredb';
}

export class SignedCheckpointView {
  @Position()
  position: string;

  /** The chain hash of the event at that position (sha256, hex); null when the log is empty. */
  hash: string | null;

  /** When the node signed it. */
  @Instant()
  recordedAt: string | null;

  /** The signing key (GET /v1/audit/public-key). */
  keyId: string | null;

  /** Ed25519, base64, over the UTF-8 bytes of "careledger-checkpoint:v1\n<position>\n<hash>". */
  signature: string | null;
}

export class CheckpointsPage {
  items: SignedCheckpointView[];

  /** Pass as `after` for the next page; null on the last page. */
  @Position()
  next: string | null;
}

export class PublicKeyEntry {
  keyId: string;

  /** PEM (SPKI) Ed25519 public key. */
  publicKey: string;
}

export class PublicKeyAnswer extends PublicKeyEntry {
  /** Every key that signed checkpoints of this log (one per node, unless the nodes share a key). */
  keys: PublicKeyEntry[];
}

// ---------------------------------------------------------------------------------------------
// plans and claims

export class PlanUnit {
  serial: string;

  /** How the unit came to hold the plan. */
  via: 'purchase' | 'binding' | 'replacement';

  @Instant()
  at: string;

  eventId: string;
}

export class PlanChainTerm extends ChainTerm {
  @Instant()
  purchasedAt: string | null;

  orderId: string;

  eventId: string;
}

export class PlanClaimSummary {
  claimId: string;

  /** The center's own reference; null on another center's claim for a service-center caller (see `redacted`). */
  claimRef: string | null;

  serial: string;

  kind: ClaimKind;

  status: ClaimStatus;

  /** The center that handles the claim. */
  serviceCenterId: string | null;

  /** What was left out for a service-center caller: another center's reference. */
  redacted?: string[];
}

export class PlanView {
  planId: string;

  term: '1y' | '2y';

  /** @example Mavic 3 */
  model: string;

  region: Region;

  channel: 'bundle' | 'online' | 'card';

  orderId: string;

  @Instant()
  purchasedAt: string;

  price: Money | null;

  /** @example V2023 */
  policyVersion: string;

  /** As of now. */
  status: 'pending' | 'active' | 'expired';

  /** The effective date (RULES P6); null while pending. */
  @CalendarDate()
  effectiveDate: string | null;

  /** The unit holding the plan now. */
  currentUnit: string | null;

  units: PlanUnit[];

  chain: PlanChainTerm[];

  claims: PlanClaimSummary[];

  /** The plan stream's revision (also the ETag). */
  @Int(3)
  revision: number;

  @Position()
  checkpoint: string;
}

export class Payment extends Money {
  @Instant()
  at: string;
}

/** What the claim queue and the claim view both show of a claim. */
export class ClaimSummary {
  claimId: string;

  /** @example SC1-2024-0042 */
  claimRef: string;

  planId: string;

  serial: string;

  kind: ClaimKind;

  cause: Cause;

  @Instant()
  incidentAt: string;

  @Instant()
  openedAt: string;

  express: boolean;

  status: ClaimStatus;

  @Int(1)
  ordinal: number | null;

  fee: Money | null;

  @Instant()
  fulfilledAt: string | null;

  replacementSerial: string | null;
}

export class ClaimView extends ClaimSummary {
  serviceCenterId: string;

  /** The center's region when the claim was opened (RULES R6); null when unknown. */
  serviceRegion: Region | null;

  flightRecordsSynced: boolean;

  @Instant()
  approvedAt: string | null;

  payments: Payment[];

  @Instant()
  deniedAt: string | null;

  @Instant()
  cancelledAt: string | null;

  /** The denial or cancellation reason. */
  reason: string | null;

  /** The plan stream's revision (also the ETag). */
  @Int(3)
  revision: number;

  /** The claim's events, opening first. */
  eventIds: string[];

  @Position()
  checkpoint: string;
}

export class CenterClaim extends ClaimSummary {
  paid: Payment | null;
}

export class CenterClaimsPage {
  items: CenterClaim[];

  nextCursor: string | null;
}

export class ClaimCounts {
  @Int()
  open: number;

  /** Approved, paid or not yet. */
  @Int()
  approved: number;

  /** Approved and not paid yet. */
  @Int()
  awaitingPayment: number;

  @Int()
  fulfilled: number;

  @Int()
  denied: number;

  @Int()
  cancelled: number;
}

export class Dashboard {
  /** @example SC-1 */
  centerId: string;

  name: string | null;

  /** The center's region; null when unknown. */
  region: Region | null;

  /** The lower bound on openedAt dates (inclusive); null for all time. */
  @CalendarDate()
  from: string | null;

  /** The upper bound on openedAt dates (inclusive); null for all time. */
  @CalendarDate()
  to: string | null;

  claims: ClaimCounts;

  @Int()
  replacementsIssued: number;

  /**
   * Share of flyaway claims, 0 to 1.
   * @example 0.125
   */
  flyawayShare: number;

  /** Express claims. */
  @Int()
  express: number;

  /** Paid fees of claims not cancelled, per currency. */
  feesCollected: Money[];

  medianHoursOpenToFulfilment: number | null;

  @Position()
  checkpoint: string;
}

// ---------------------------------------------------------------------------------------------
// operations and the session

export class HealthStore {
  kind: 'sqlite' | 'postgres' | 'eventstoredb';

  reachable: boolean;

  /** The store's last position; null when unreachable. */
  @Position()
  head: string | null;
}

export class HealthProjection {
  /** idle, catching-up, live, retrying (the log was lost; reconnecting), diverged (the log does not hold the checkpoint), stopped. */
  state: 'idle' | 'catching-up' | 'live' | 'retrying' | 'diverged' | 'stopped';

  @Position()
  checkpoint: string;

  /** Whether the store holds events the read models have not applied yet; null when the store is unreachable. */
  behind: boolean | null;

  /** How far behind: 0 when caught up, else the age of the oldest event not applied yet. */
  @Int(0)
  lagMs: number;

  /** The last failure of the runner, if any. */
  lastError: string | null;
}

export class Liveness {
  status: 'ok';

  @Int()
  uptimeSeconds: number;
}

export class Health {
  status: 'ok' | 'unavailable';

  @Int()
  uptimeSeconds: number;

  /** Why the node is not ready (empty when it is). */
  reasons: string[];

  store: HealthStore;

  projection: HealthProjection;

  /** The catalogue version. */
  catalogue: string;
}

export class MeView {
  /** The role's kind. */
  role: 'admin' | 'sales' | 'device-registry' | 'auditor' | 'service-center' | 'integration';

  /**
   * The role as the tokens file writes it.
   * @example service-center:SC-1
   */
  roleText: string;

  /**
   * The actor recorded in the metadata of the events this token appends: the token's name, else its role.
   * @example service-center:SC-1
   */
  actor: string;

  /**
   * The service center a service-center token acts for; null for every other role.
   * @example SC-1
   */
  centerId: string | null;
}
