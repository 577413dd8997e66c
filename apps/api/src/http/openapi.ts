/**
 * The responses of the OpenAPI document (API.md): schema classes for every answer and the
 * problem+json errors, and the decorators that put them on the routes. Documentation only: no
 * class here is instantiated and nothing changes what a route answers.
 */
import { applyDecorators, INestApplication } from '@nestjs/common';
import {
  ApiExtraModels, ApiHeader, ApiOkResponse, ApiCreatedResponse, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, getSchemaPath,
  OpenAPIObject, SwaggerModule,
} from '@nestjs/swagger';
import { CAUSES, REGIONS } from '@careledger/domain';
import { PROBLEM_BASE } from './problem';

const INSTANT = 'An instant with offset (ISO-8601).';
const DATE = 'A date, YYYY-MM-DD, in the plan region\'s zone.';
const POSITION = 'A global position of the log (decimal string).';
const REGION_OR_NULL = `A region code (${REGIONS.join(', ')}); null when unknown.`;

const CLAIM_STATUSES = ['open', 'approved', 'paid', 'fulfilled', 'denied', 'cancelled'];
const TERM_KINDS = ['1y', '2y', 'renewal', 'care-plus'];
const EXTENSION_KINDS = ['plan-year-2', 'care-plus', 'safe-use-reward', 'goodwill'];

// ---------------------------------------------------------------------------------------------
// errors

export class ProblemFieldError {
  @ApiProperty({ description: 'The field (or header, query parameter) at fault; empty for the whole body.', example: 'purchasedAt' })
  field: string;

  @ApiProperty({ example: 'purchasedAt must be an instant with offset' })
  message: string;
}

/** RFC 9457 problem details, as every error answers (application/problem+json). */
export class Problem {
  @ApiProperty({ description: 'A URI naming the problem: the base followed by the code.', example: `${PROBLEM_BASE}RenewalWindowClosed` })
  type: string;

  @ApiProperty({ description: 'The HTTP status text.', example: 'Unprocessable Content' })
  title: string;

  @ApiProperty({ description: 'The HTTP status.', type: 'integer', example: 422 })
  status: number;

  @ApiProperty({ description: 'What happened, for people.', example: 'The renewal window closed on 2025-03-24.' })
  detail: string;

  @ApiProperty({ description: 'The machine-readable code (a RULES.md refusal code for 422).', example: 'RenewalWindowClosed' })
  code: string;

  @ApiPropertyOptional({ description: 'The rule that refused the command (422 only).', example: 'N2' })
  rule?: string;

  @ApiPropertyOptional({ description: 'The malformed fields (400 only).', type: () => ProblemFieldError, isArray: true })
  errors?: ProblemFieldError[];
}

// ---------------------------------------------------------------------------------------------
// shared shapes

export class Money {
  @ApiProperty({ description: 'A decimal string in major units.', example: '159.00' })
  amount: string;

  @ApiProperty({ description: 'An ISO 4217 code.', example: 'USD' })
  currency: string;
}

/** A half-open window of dates. */
export class Window {
  @ApiProperty({ description: `First day. ${DATE}`, format: 'date', example: '2024-03-10' })
  from: string;

  @ApiProperty({ description: `Day after the last (exclusive). ${DATE}`, format: 'date', example: '2025-03-10' })
  until: string;
}

export class ChainTerm extends Window {
  @ApiProperty({ description: 'The term\'s kind.', enum: TERM_KINDS })
  kind: string;
}

// ---------------------------------------------------------------------------------------------
// command answers

/** What every command that appends answers: 201 when appended, 200 for an idempotent repeat. */
export class CommandAnswer {
  @ApiProperty({ description: 'The appended events; the first is the command\'s primary fact.', type: String, isArray: true })
  eventIds: string[];

  @ApiProperty({ description: 'The revision of the primary fact\'s stream after the command (send it in If-Match).', type: 'integer', example: 3 })
  revision: number;

  @ApiProperty({ description: POSITION, example: '1042' })
  position: string;
}

/** Activation, pairing and verification facts. */
export class DeviceFactAnswer extends CommandAnswer {
  @ApiProperty({ example: 'SN-1581F5FHD23' })
  serial: string;
}

export class ServiceRecordAnswer extends CommandAnswer {
  @ApiProperty()
  serial: string;

  @ApiPropertyOptional({ description: 'The plan whose benefit the service used; absent when the unit holds none.' })
  planId?: string;
}

export class GoodwillExtension extends Window {
  @ApiProperty({ enum: ['goodwill'] })
  kind: string;
}

export class GoodwillAnswer extends CommandAnswer {
  @ApiProperty()
  serial: string;

  @ApiPropertyOptional({ description: 'The plan the unit holds, if any (the extension is recorded on it).' })
  planId?: string;

  @ApiProperty({ description: 'The granted window, starting where the warranty known so far ends.', type: () => GoodwillExtension })
  extension: GoodwillExtension;
}

/** Purchase, binding, renewal and Care Refresh+. */
export class PlanAnswer extends CommandAnswer {
  @ApiProperty({ example: 'plan-7f3c2a' })
  planId: string;

  @ApiPropertyOptional({ description: 'The policy version the plan falls under. Absent when a repeat is answered from the plan\'s facts (a binding sent again).', example: 'V2023' })
  policyVersion?: string;

  @ApiPropertyOptional({ description: 'effective once the plan\'s effective date is known (RULES P6). Absent like policyVersion.', enum: ['effective', 'pending'] })
  status?: string;

  @ApiPropertyOptional({ description: 'The chain of terms after the command. Absent like policyVersion.', type: () => ChainTerm, isArray: true })
  chain?: ChainTerm[];
}

/** Opening, denial, cancellation and payment of a claim. */
export class ClaimAnswer extends CommandAnswer {
  @ApiProperty({ example: 'claim-3b9e01' })
  claimId: string;

  @ApiProperty({ description: 'The plan the claim is on.' })
  planId: string;

  @ApiProperty({ description: 'The claim\'s status after the command.', enum: CLAIM_STATUSES })
  status: string;
}

export class ClaimApprovalAnswer extends ClaimAnswer {
  @ApiProperty({ description: 'The replacement fee fixed for this approval (RULES R7).', type: () => Money })
  fee: Money;

  @ApiProperty({ description: 'Which replacement of the term this is (1 = first).', type: 'integer', example: 1 })
  ordinal: number;
}

export class ClaimFulfilmentAnswer extends ClaimAnswer {
  @ApiPropertyOptional({ description: 'The unit issued; coverage moved to it. Absent on a repeat answered from the claim\'s facts.' })
  replacementSerial?: string;
}

export class ServiceCenterAnswer extends CommandAnswer {
  @ApiProperty({ example: 'sc-sfo' })
  centerId: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: REGIONS })
  region: string;
}

export class CorrectionAnswer extends CommandAnswer {
  @ApiProperty({ description: 'The corrected event (the resource of a correction).' })
  eventId: string;

  @ApiProperty({ description: 'The corrected event, again.' })
  correctedEventId: string;

  @ApiProperty({ description: 'The corrected event\'s type.', example: 'PlanPurchased' })
  correctedType: string;

  @ApiProperty({ enum: ['void', 'amend'] })
  action: string;
}

export class SweepReport {
  @ApiProperty({ description: 'Plans looked at.', type: 'integer' })
  examined: number;

  @ApiProperty({ description: 'Warranty extensions recorded.', type: 'integer' })
  granted: number;
}

// ---------------------------------------------------------------------------------------------
// entitlements

export class NextFee {
  @ApiProperty({ description: 'The fee of the next damage replacement; null when none remains.', type: () => Money, nullable: true })
  damage: Money | null;

  @ApiProperty({ description: 'The fee of the next flyaway replacement; null when the plan has none left or none at all.', type: () => Money, nullable: true })
  flyaway: Money | null;
}

export class ReplacementEntitlement {
  @ApiProperty({ description: 'The replacement window of the term in force at `at`; null outside any.', type: () => Window, nullable: true })
  window: Window | null;

  @ApiProperty({ description: 'Replacements left in the term.', type: 'integer' })
  remaining: number;

  @ApiProperty({ description: 'Replacements used (approved and not released) in the term.', type: 'integer' })
  used: number;

  @ApiProperty({ description: 'Flyaway replacements left in the term.', type: 'integer' })
  flyawayRemaining: number;

  @ApiProperty({ type: () => NextFee })
  nextFee: NextFee;
}

export class WarrantyExtension extends Window {
  @ApiProperty({ enum: EXTENSION_KINDS })
  kind: string;

  @ApiProperty({ description: 'pending until its condition has settled (RULES W5).', enum: ['granted', 'pending'] })
  status: string;
}

export class WarrantyEntitlement {
  @ApiProperty({ description: 'The official warranty from activation; null when unknown.', type: () => Window, nullable: true })
  official: Window | null;

  @ApiProperty({ description: `Exclusive end of warranty coverage as known at \`at\`, pending extensions included. ${DATE}`, format: 'date', nullable: true, type: String })
  coveredUntil: string | null;

  @ApiProperty({ type: () => WarrantyExtension, isArray: true })
  extensions: WarrantyExtension[];
}

export class SafeUseReward {
  @ApiProperty({ enum: ['not-applicable', 'pending', 'granted', 'forfeited'] })
  status: string;

  @ApiProperty({ description: 'Set while pending or granted; null when not-applicable or forfeited.', type: () => Window, nullable: true })
  window: Window | null;
}

export class RemainingCount {
  @ApiProperty({ type: 'integer' })
  remaining: number;
}

export class RenewalEligibility {
  @ApiProperty()
  eligible: boolean;

  @ApiProperty({ description: `The last instant a renewal is accepted (RULES N2). ${INSTANT}`, nullable: true, type: String })
  deadline: string | null;

  @ApiProperty({ description: 'The refusal code a renewal would get now; null when eligible.', nullable: true, type: String, example: null })
  blockedBy: string | null;
}

export class CarePlusEligibility {
  @ApiProperty()
  eligible: boolean;

  @ApiProperty({ description: 'The refusal code a Care Refresh+ purchase would get now; null when eligible.', nullable: true, type: String, example: 'NotAllowedWith2YearPlan' })
  blockedBy: string | null;
}

export class EntitlementConflict {
  @ApiProperty({ example: 'X2' })
  rule: string;

  @ApiProperty({ type: String, isArray: true })
  eventIds: string[];

  @ApiProperty()
  detail: string;
}

export class ExplanationEntry {
  @ApiProperty({ description: 'The field explained, as a path.', example: 'replacement.remaining' })
  field: string;

  @ApiProperty({ type: String, isArray: true, example: ['R1', 'R7'] })
  rules: string[];

  @ApiProperty({ type: String, isArray: true })
  eventIds: string[];
}

/** What a unit is entitled to at a business time, as the ledger knew it at knownAt. */
export class EntitlementView {
  @ApiProperty()
  serial: string;

  @ApiProperty({ nullable: true, type: String, example: 'Mavic 3' })
  model: string | null;

  @ApiProperty({ description: REGION_OR_NULL, nullable: true, type: String, example: 'US' })
  region: string | null;

  @ApiProperty({ description: `The business time of the view. ${INSTANT}` })
  at: string;

  @ApiProperty({ description: `The recordedAt cut-off of the view. ${INSTANT}` })
  knownAt: string;

  @ApiProperty({ enum: ['active', 'pending', 'expired', 'none', 'transferred'] })
  coverage: string;

  @ApiProperty({ nullable: true, type: String })
  planId: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'V2023' })
  policyVersion: string | null;

  @ApiProperty({ description: 'The plan\'s terms, oldest first.', type: () => ChainTerm, isArray: true })
  chain: ChainTerm[];

  @ApiProperty({ description: 'The earlier units of the chain, oldest first.', type: String, isArray: true })
  inheritedFrom: string[];

  @ApiProperty({ description: 'The unit that directly replaced this one.', nullable: true, type: String })
  transferredTo: string | null;

  @ApiProperty({ type: () => ReplacementEntitlement })
  replacement: ReplacementEntitlement;

  @ApiProperty({ type: () => WarrantyEntitlement })
  warranty: WarrantyEntitlement;

  @ApiProperty({ type: () => SafeUseReward })
  safeUseReward: SafeUseReward;

  @ApiProperty({ type: () => RemainingCount })
  discountedRepairs: RemainingCount;

  @ApiProperty({ type: () => RemainingCount })
  factoryMaintenance: RemainingCount;

  @ApiProperty({ type: () => RenewalEligibility })
  renewal: RenewalEligibility;

  @ApiProperty({ type: () => CarePlusEligibility })
  carePlus: CarePlusEligibility;

  @ApiProperty({ description: 'Facts that contradict each other (RULES X2).', type: () => EntitlementConflict, isArray: true })
  conflicts: EntitlementConflict[];

  @ApiPropertyOptional({ description: 'The rules and events behind each field; present with explain=true (always in a timeline).', type: () => ExplanationEntry, isArray: true })
  explanation?: ExplanationEntry[];
}

/** The entitlements read: the view plus the checkpoint it reflects. */
export class Entitlements extends EntitlementView {
  @ApiProperty({ description: `The read models' checkpoint. ${POSITION}` })
  checkpoint: string;
}

// ---------------------------------------------------------------------------------------------
// history, timeline, audit

export class HistoryEntry {
  @ApiProperty()
  eventId: string;

  @ApiProperty({ example: 'PlanPurchased' })
  type: string;

  @ApiProperty({ example: 'plan-plan-7f3c2a' })
  streamId: string;

  @ApiProperty({ description: 'The event\'s revision in its stream (0 = first).', type: 'integer' })
  revision: number;

  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty({ description: `When it happened (business time). ${INSTANT}` })
  occurredAt: string;

  @ApiProperty({ description: 'When the ledger recorded it (millisecond precision).' })
  recordedAt: string;

  @ApiProperty({ description: 'Who recorded it (the token\'s actor).' })
  actor: string;

  @ApiProperty()
  correlationId: string;

  @ApiProperty({ nullable: true, type: String })
  causationId: string | null;

  @ApiProperty({ description: 'The event\'s data, as its type defines it.', type: 'object', additionalProperties: true })
  data: Record<string, unknown>;
}

export class History {
  @ApiProperty()
  serial: string;

  @ApiProperty({ description: POSITION })
  checkpoint: string;

  @ApiProperty({ description: 'Every event that touched the unit or its chain, in global order.', type: () => HistoryEntry, isArray: true })
  events: HistoryEntry[];
}

export class TimelineEntry {
  @ApiProperty()
  eventId: string;

  @ApiProperty()
  type: string;

  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty()
  occurredAt: string;

  @ApiProperty()
  recordedAt: string;

  @ApiProperty({ description: 'The entitlement view after this event, as known when it was recorded.', type: () => EntitlementView })
  view: EntitlementView;
}

export class Timeline {
  @ApiProperty()
  serial: string;

  @ApiProperty({ description: `The recordedAt cut-off. ${INSTANT}` })
  knownAt: string;

  @ApiProperty({ description: POSITION })
  checkpoint: string;

  @ApiProperty({ type: () => TimelineEntry, isArray: true })
  entries: TimelineEntry[];
}

export class AuditEventsPage {
  @ApiProperty({ type: () => HistoryEntry, isArray: true })
  items: HistoryEntry[];

  @ApiProperty({ description: 'Pass as cursor for the next page; null on the last.', nullable: true, type: String })
  nextCursor: string | null;

  @ApiProperty({ description: POSITION })
  checkpoint: string;
}

/** One entry of the decision log: an accepted or refused command. */
export class DecisionRecord {
  @ApiProperty()
  decisionId: string;

  @ApiProperty({ description: 'The command\'s type.', example: 'RenewPlan' })
  type: string;

  @ApiProperty({ description: 'The command\'s type, again.', example: 'RenewPlan' })
  command: string;

  @ApiProperty()
  recordedAt: string;

  @ApiProperty()
  actor: string;

  @ApiProperty()
  correlationId: string;

  @ApiProperty({ enum: ['accepted', 'refused'] })
  outcome: string;

  @ApiProperty({ description: 'The refusal code; null when accepted.', nullable: true, type: String })
  code: string | null;

  @ApiProperty({ nullable: true, type: String })
  rule: string | null;

  @ApiProperty({ nullable: true, type: String })
  detail: string | null;

  @ApiProperty({ nullable: true, type: String })
  serial: string | null;

  @ApiProperty({ nullable: true, type: String })
  planId: string | null;

  @ApiProperty({ nullable: true, type: String })
  claimId: string | null;

  @ApiProperty({ type: String, isArray: true })
  eventIds: string[];

  @ApiProperty({ nullable: true, type: String })
  position: string | null;

  @ApiProperty({ description: 'The request as received (method, path, body).', type: 'object', additionalProperties: true, nullable: true })
  request: Record<string, unknown> | null;
}

export class DecisionsPage {
  @ApiProperty({ type: () => DecisionRecord, isArray: true })
  items: DecisionRecord[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor: string | null;
}

export class VerifiedCheckpoint {
  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty({ description: 'The chain hash the checkpoint signed.' })
  hash: string;

  @ApiProperty({ description: 'The key that signed it.' })
  keyId: string;

  @ApiProperty({ description: 'The log still holds this hash at this position.' })
  holds: boolean;
}

export class VerifyReport {
  @ApiProperty({ description: 'Events checked by this walk.', type: 'integer' })
  events: number;

  @ApiProperty({ description: 'Every event checked is hash-chained to the one before.' })
  ok: boolean;

  @ApiProperty({ description: 'The first event whose chain is broken; null when ok.', nullable: true, type: String })
  firstBrokenPosition: string | null;

  @ApiProperty({ description: `Where this walk started (0: the start of the log; else the point verified before). ${POSITION}` })
  verifiedFrom: string;

  @ApiProperty({ description: `The last event found sound. ${POSITION}` })
  verifiedUpTo: string;

  @ApiProperty({ description: 'The latest signed checkpoint within the verified log, and whether the log holds it; null when none.', type: () => VerifiedCheckpoint, nullable: true })
  checkpoint: VerifiedCheckpoint | null;

  @ApiProperty({ enum: ['sqlite', 'postgres', 'eventstoredb'] })
  store: string;
}

export class SignedCheckpointView {
  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty({ description: 'The chain hash of the event at that position (sha256, hex).' })
  hash: string;

  @ApiProperty({ description: 'When the node signed it.', format: 'date-time' })
  recordedAt: string;

  @ApiProperty({ description: 'The signing key (GET /v1/audit/public-key).' })
  keyId: string;

  @ApiProperty({ description: 'Ed25519, base64, over the UTF-8 bytes of "careledger-checkpoint:v1\\n<position>\\n<hash>".' })
  signature: string;
}

export class CheckpointsPage {
  @ApiProperty({ type: () => SignedCheckpointView, isArray: true })
  items: SignedCheckpointView[];

  @ApiProperty({ description: 'Pass as `after` for the next page; null on the last page.', nullable: true, type: String })
  next: string | null;
}

export class PublicKeyEntry {
  @ApiProperty()
  keyId: string;

  @ApiProperty({ description: 'PEM (SPKI) Ed25519 public key.' })
  publicKey: string;
}

export class PublicKeyAnswer extends PublicKeyEntry {
  @ApiProperty({ description: 'Every key that signed checkpoints of this log (one per node, unless the nodes share a key).', type: () => PublicKeyEntry, isArray: true })
  keys: PublicKeyEntry[];
}

// ---------------------------------------------------------------------------------------------
// plans and claims

export class PlanUnit {
  @ApiProperty()
  serial: string;

  @ApiProperty({ description: 'How the unit came to hold the plan.', enum: ['purchase', 'binding', 'replacement'] })
  via: string;

  @ApiProperty({ description: INSTANT })
  at: string;

  @ApiProperty()
  eventId: string;
}

export class PlanChainTerm extends ChainTerm {
  @ApiProperty({ nullable: true, type: String })
  purchasedAt: string | null;

  @ApiProperty()
  orderId: string;

  @ApiProperty()
  eventId: string;
}

export class PlanClaimSummary {
  @ApiProperty()
  claimId: string;

  @ApiProperty()
  claimRef: string;

  @ApiProperty()
  serial: string;

  @ApiProperty({ enum: ['damage', 'flyaway'] })
  kind: string;

  @ApiProperty({ enum: CLAIM_STATUSES })
  status: string;
}

export class PlanView {
  @ApiProperty()
  planId: string;

  @ApiProperty({ enum: ['1y', '2y'] })
  term: string;

  @ApiProperty()
  model: string;

  @ApiProperty({ enum: REGIONS })
  region: string;

  @ApiProperty({ enum: ['bundle', 'online', 'card'] })
  channel: string;

  @ApiProperty()
  orderId: string;

  @ApiProperty()
  purchasedAt: string;

  @ApiProperty({ type: () => Money, nullable: true })
  price: Money | null;

  @ApiProperty()
  policyVersion: string;

  @ApiProperty({ description: 'As of now.', enum: ['pending', 'active', 'expired'] })
  status: string;

  @ApiProperty({ description: `The effective date (RULES P6); null while pending. ${DATE}`, format: 'date', nullable: true, type: String })
  effectiveDate: string | null;

  @ApiProperty({ description: 'The unit holding the plan now.', nullable: true, type: String })
  currentUnit: string | null;

  @ApiProperty({ type: () => PlanUnit, isArray: true })
  units: PlanUnit[];

  @ApiProperty({ type: () => PlanChainTerm, isArray: true })
  chain: PlanChainTerm[];

  @ApiProperty({ type: () => PlanClaimSummary, isArray: true })
  claims: PlanClaimSummary[];

  @ApiProperty({ description: 'The plan stream\'s revision (also the ETag).', type: 'integer' })
  revision: number;

  @ApiProperty({ description: POSITION })
  checkpoint: string;
}

export class Payment extends Money {
  @ApiProperty({ description: INSTANT })
  at: string;
}

/** What the claim queue and the claim view both show of a claim. */
export class ClaimSummary {
  @ApiProperty()
  claimId: string;

  @ApiProperty()
  claimRef: string;

  @ApiProperty()
  planId: string;

  @ApiProperty()
  serial: string;

  @ApiProperty({ enum: ['damage', 'flyaway'] })
  kind: string;

  @ApiProperty({ enum: CAUSES })
  cause: string;

  @ApiProperty()
  incidentAt: string;

  @ApiProperty()
  openedAt: string;

  @ApiProperty()
  express: boolean;

  @ApiProperty({ enum: CLAIM_STATUSES })
  status: string;

  @ApiProperty({ nullable: true, type: 'integer' })
  ordinal: number | null;

  @ApiProperty({ type: () => Money, nullable: true })
  fee: Money | null;

  @ApiProperty({ nullable: true, type: String })
  fulfilledAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  replacementSerial: string | null;
}

export class ClaimView extends ClaimSummary {
  @ApiProperty()
  serviceCenterId: string;

  @ApiProperty({ description: `The center's region when the claim was opened (RULES R6). ${REGION_OR_NULL}`, nullable: true, type: String, example: 'US' })
  serviceRegion: string | null;

  @ApiProperty()
  flightRecordsSynced: boolean;

  @ApiProperty({ nullable: true, type: String })
  approvedAt: string | null;

  @ApiProperty({ type: () => Payment, isArray: true })
  payments: Payment[];

  @ApiProperty({ nullable: true, type: String })
  deniedAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  cancelledAt: string | null;

  @ApiProperty({ description: 'The denial or cancellation reason.', nullable: true, type: String })
  reason: string | null;

  @ApiProperty({ description: 'The plan stream\'s revision (also the ETag).', type: 'integer' })
  revision: number;

  @ApiProperty({ description: 'The claim\'s events, opening first.', type: String, isArray: true })
  eventIds: string[];

  @ApiProperty({ description: POSITION })
  checkpoint: string;
}

export class CenterClaim extends ClaimSummary {
  @ApiProperty({ type: () => Payment, nullable: true })
  paid: Payment | null;
}

export class CenterClaimsPage {
  @ApiProperty({ type: () => CenterClaim, isArray: true })
  items: CenterClaim[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor: string | null;
}

export class ClaimCounts {
  @ApiProperty({ type: 'integer' })
  open: number;

  @ApiProperty({ description: 'Approved, paid or not yet.', type: 'integer' })
  approved: number;

  @ApiProperty({ description: 'Approved and not paid yet.', type: 'integer' })
  awaitingPayment: number;

  @ApiProperty({ type: 'integer' })
  fulfilled: number;

  @ApiProperty({ type: 'integer' })
  denied: number;

  @ApiProperty({ type: 'integer' })
  cancelled: number;
}

export class Dashboard {
  @ApiProperty()
  centerId: string;

  @ApiProperty({ nullable: true, type: String })
  name: string | null;

  @ApiProperty({ description: REGION_OR_NULL, nullable: true, type: String, example: 'US' })
  region: string | null;

  @ApiProperty({ description: 'The lower bound on openedAt dates (inclusive); null for all time.', format: 'date', nullable: true, type: String })
  from: string | null;

  @ApiProperty({ description: 'The upper bound on openedAt dates (inclusive); null for all time.', format: 'date', nullable: true, type: String })
  to: string | null;

  @ApiProperty({ type: () => ClaimCounts })
  claims: ClaimCounts;

  @ApiProperty({ type: 'integer' })
  replacementsIssued: number;

  @ApiProperty({ description: 'Share of flyaway claims, 0 to 1.', example: 0.125 })
  flyawayShare: number;

  @ApiProperty({ description: 'Express claims.', type: 'integer' })
  express: number;

  @ApiProperty({ description: 'Paid fees of claims not cancelled, per currency.', type: () => Money, isArray: true })
  feesCollected: Money[];

  @ApiProperty({ nullable: true, type: Number })
  medianHoursOpenToFulfilment: number | null;

  @ApiProperty({ description: POSITION })
  checkpoint: string;
}

// ---------------------------------------------------------------------------------------------
// operations

export class HealthStore {
  @ApiProperty({ enum: ['sqlite', 'postgres', 'eventstoredb'] })
  kind: string;

  @ApiProperty()
  reachable: boolean;

  @ApiProperty({ description: 'The store\'s last position; null when unreachable.', nullable: true, type: String })
  head: string | null;
}

export class HealthProjection {
  @ApiProperty({ description: 'idle, catching-up, live, retrying (the log was lost; reconnecting), diverged (the log does not hold the checkpoint), stopped.', enum: ['idle', 'catching-up', 'live', 'retrying', 'diverged', 'stopped'] })
  state: string;

  @ApiProperty({ description: POSITION })
  checkpoint: string;

  @ApiProperty({ description: 'Whether the store holds events the read models have not applied yet; null when the store is unreachable.', nullable: true, type: Boolean })
  behind: boolean | null;

  @ApiProperty({ description: 'How far behind: 0 when caught up, else the age of the oldest event not applied yet.', type: 'integer' })
  lagMs: number;

  @ApiProperty({ description: 'The last failure of the runner, if any.', nullable: true, type: String })
  lastError: string | null;
}

export class Liveness {
  @ApiProperty({ enum: ['ok'] })
  status: string;

  @ApiProperty({ type: 'integer' })
  uptimeSeconds: number;
}

export class Health {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: string;

  @ApiProperty({ type: 'integer' })
  uptimeSeconds: number;

  @ApiProperty({ description: 'Why the node is not ready (empty when it is).', type: String, isArray: true })
  reasons: string[];

  @ApiProperty({ type: () => HealthStore })
  store: HealthStore;

  @ApiProperty({ type: () => HealthProjection })
  projection: HealthProjection;

  @ApiProperty({ description: 'The catalogue version.' })
  catalogue: string;
}

// ---------------------------------------------------------------------------------------------
// decorators

const PROBLEM_JSON = 'application/problem+json';

function example(status: number, title: string, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return { type: `${PROBLEM_BASE}${code}`, title, status, detail, code, ...extra };
}

const PROBLEMS = {
  400: (what: string) => ({
    description: `Malformed ${what}: \`errors\` names each field (ValidationFailed, MalformedJson).`,
    example: example(400, 'Bad Request', 'ValidationFailed', 'The request has invalid fields.', { errors: [{ field: 'at', message: 'at must be an instant with offset' }] }),
  }),
  401: () => ({ description: 'No valid Bearer token.', example: example(401, 'Unauthorized', 'Unauthorized', 'A valid Bearer token is required.') }),
  403: () => ({ description: 'The role may not do this (or not for this service center).', example: example(403, 'Forbidden', 'Forbidden', 'The role auditor may not do this.') }),
  404: (code: string) => ({ description: `Unknown resource (${code}).`, example: example(404, 'Not Found', code, 'No such resource.') }),
  409: (codes: string[]) => ({
    description: `Conflict: ${codes.join(', ')}.`,
    example: example(409, 'Conflict', 'IdempotencyKeyReused', 'This Idempotency-Key was used with a different request.'),
  }),
  412: () => ({ description: 'If-Match names a stale revision (ConcurrencyConflict): read again and retry.', example: example(412, 'Precondition Failed', 'ConcurrencyConflict', 'plan-7f3c2a is at revision 4, not 3. Read the resource again and retry with its current revision.') }),
  413: () => ({ description: 'The body is too large (PayloadTooLarge).', example: example(413, 'Content Too Large', 'PayloadTooLarge', 'The request body is too large.') }),
  415: () => ({ description: 'The body is not application/json (UnsupportedMediaType).', example: example(415, 'Unsupported Media Type', 'UnsupportedMediaType', 'Send the body as application/json.') }),
  422: () => ({
    description: 'A business rule refused the command: `code` from RULES.md and its `rule`. Nothing is appended; the refusal is in the decision log.',
    example: example(422, 'Unprocessable Content', 'RenewalWindowClosed', 'The renewal window closed on 2025-03-24.', { rule: 'N2' }),
  }),
  503: () => ({ description: 'The event store is unreachable (StoreUnavailable); retry later.', example: example(503, 'Service Unavailable', 'StoreUnavailable', 'The event store is unreachable; retry later.') }),
};

/** A problem+json response with the Problem schema. */
export function ApiProblemResponse(status: number, p: { description: string; example: Record<string, unknown> }) {
  return ApiResponse({
    status,
    description: p.description,
    content: { [PROBLEM_JSON]: { schema: { $ref: getSchemaPath(Problem) }, example: p.example } },
  });
}

export interface CommandDoc {
  /** The 404 code when the route names a resource that must exist (PlanNotFound, ClaimNotFound, EventNotFound). */
  notFound?: string;
  /** Commands on one plan or claim: document If-Match and its 412. */
  preconditions?: boolean;
  /** State conflicts the command may answer with 409, besides IdempotencyKeyReused and ConcurrencyConflict. */
  conflicts?: string[];
}

/**
 * A command (API.md Conventions): 201 with the answer when appended, 200 with the same body for an
 * idempotent repeat, the Idempotency-Key (and If-Match) headers, and its problem answers.
 * (Named Api...Response so that the swagger CLI plugin leaves the responses to it.)
 */
export function ApiCommandResponse(answer: new () => CommandAnswer, doc: CommandDoc = {}) {
  const decorators = [
    ApiExtraModels(Problem, CommandAnswer),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Any string up to 200 characters. Same key and body: the first answer again, nothing appended twice; same key, other body: 409 IdempotencyKeyReused.',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    }),
    ApiCreatedResponse({ type: answer, description: 'Appended: the events, the stream revision and global position, and the resource.' }),
    ApiOkResponse({ type: answer, description: 'An idempotent repeat (same Idempotency-Key, order or claim reference, or facts already recorded): the first answer again, nothing appended.' }),
    ApiProblemResponse(400, PROBLEMS[400]('body, path, header or query')),
    ApiProblemResponse(401, PROBLEMS[401]()),
    ApiProblemResponse(403, PROBLEMS[403]()),
    ApiProblemResponse(409, PROBLEMS[409](['IdempotencyKeyReused', 'ConcurrencyConflict (the resource kept changing)', ...(doc.conflicts ?? [])])),
    ApiProblemResponse(413, PROBLEMS[413]()),
    ApiProblemResponse(415, PROBLEMS[415]()),
    ApiProblemResponse(422, PROBLEMS[422]()),
    ApiProblemResponse(503, PROBLEMS[503]()),
  ];
  if (doc.notFound) decorators.push(ApiProblemResponse(404, PROBLEMS[404](doc.notFound)));
  if (doc.preconditions) {
    decorators.push(
      ApiHeader({
        name: 'If-Match',
        required: false,
        description: 'The plan\'s revision as last read, e.g. "3" (the ETag of GET plan or claim). A stale one answers 412; without it the server re-decides on fresh state.',
        schema: { type: 'string', example: '"3"' },
      }),
      ApiProblemResponse(412, PROBLEMS[412]()),
    );
  }
  return applyDecorators(...decorators);
}

export interface ReadDoc {
  /** The 404 code when the route names a resource that must exist (DeviceNotFound, PlanNotFound, ClaimNotFound). */
  notFound?: string;
  /** The answer carries an ETag: the resource's revision, for If-Match. */
  etag?: boolean;
  /** Describes the 200 answer. */
  description?: string;
}

/** A read: 200 with its schema, and its problem answers. */
export function ApiReadResponse(type: new () => object, doc: ReadDoc = {}) {
  const decorators = [
    ApiExtraModels(Problem),
    ApiOkResponse({
      type,
      description: doc.description ?? 'The answer.',
      ...(doc.etag
        ? { headers: { ETag: { description: 'The revision, quoted, as If-Match takes it.', schema: { type: 'string', example: '"3"' } } } }
        : {}),
    }),
    ApiProblemResponse(400, PROBLEMS[400]('path or query')),
    ApiProblemResponse(401, PROBLEMS[401]()),
    ApiProblemResponse(403, PROBLEMS[403]()),
  ];
  if (doc.notFound) decorators.push(ApiProblemResponse(404, PROBLEMS[404](doc.notFound)));
  return applyDecorators(...decorators);
}

/** The OpenAPI document of the app (served at /docs-json). */
export function buildDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('CareLedger')
      .setDescription('The ledger of device protection plans: plans, claims, replacements, entitlements as of any time, audit. Errors are application/problem+json (RFC 9457).')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
}
