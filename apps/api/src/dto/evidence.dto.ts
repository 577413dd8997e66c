/**
 * The dispute routes (API.md v1.1 "Disputes"): the statement's query, and the answers of the
 * correction preview and of the entitlement statement, as the OpenAPI document describes them (see
 * answers.dto.ts for how a class becomes a schema). These classes describe; the answers are built
 * in libs/runtime (preview.ts, statement.ts, statement-text.ts).
 */
import type { Coverage } from '@careledger/domain';
import { ApiProperty } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { ConsistencyQuery } from './queries.dto';
import { IsInstant, IsInstantOrDate } from './validators';
import { CalendarDate, Instant, Int, Position } from './formats';
import { EntitlementConflict, EntitlementView } from './views.dto';

// ---------------------------------------------------------------------------------------------
// the statement's query

export class StatementQuery extends ConsistencyQuery {
  /** Business time: an instant with offset, or a date (0:00 in the plan region's zone). Default now. */
  @IsOptional() @IsInstantOrDate()
  at?: string;

  /** What the ledger had recorded by this instant. Default now. */
  @IsOptional() @IsInstant()
  knownAt?: string;
}

// ---------------------------------------------------------------------------------------------
// correction preview

/**
 * Any JSON value, null included. OpenAPI 3.0 has no null type and `nullable` needs a `type` beside
 * it, so the object branch carries the null.
 */
const AnyJson = (example: unknown) =>
  ApiProperty({
    oneOf: [
      { type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: {} },
      { type: 'object', nullable: true, description: 'An object, or null when the field is absent.' },
    ],
    example,
  });

export class PreviewChange {
  /**
   * The field of the entitlement view, as a dotted path (as in its explanation).
   * @example replacement.remaining
   */
  field: string;

  /** Its value now: any JSON value (null when absent). */
  @AnyJson(1)
  before: unknown;

  /** Its value once the correction is recorded: any JSON value (null when absent). */
  @AnyJson(2)
  after: unknown;
}

export class PreviewUnit {
  /** @example SN-1581F5FHD23 */
  serial: string;

  /** The fields that would change (empty: the unit is touched but its view stays the same). */
  changes: PreviewChange[];
}

export class PreviewDecision {
  /** The decision's primary event. */
  eventId: string;

  /**
   * Its type.
   * @example ClaimApproved
   */
  type: string;

  /**
   * The command it decided.
   * @example ApproveClaim
   */
  command: string;

  @Instant()
  recordedAt: string;

  /** would-refuse: the facts as they stand accept it, the corrected facts refuse it. */
  outcome: 'unchanged' | 'would-refuse';

  /**
   * The refusing code with the correction (RULES.md, or a state code such as InvalidClaimState); null when accepted. Set on "unchanged" when the facts already refuse it.
   * @example Excluded
   */
  code: string | null;

  /**
   * The refusing rule; null for state codes.
   * @example R5
   */
  rule: string | null;

  detail: string | null;

  /** The claim step whose refusal this one inherits (a payment rests on its approval). */
  restsOn: string | null;
}

/** The correction as the ledger would record it now. */
export class PreviewCorrection {
  /** The id the correction would get: with an Idempotency-Key, the one POST /v1/corrections with the same key and token gives it. */
  eventId: string;

  streamId: string;

  @Int(3)
  revision: number;

  /** Where it would be appended (the next position). */
  @Position()
  position: string;

  @Instant()
  recordedAt: string;

  targetEventId: string;

  /** @example ClaimOpened */
  targetType: string;

  action: 'void' | 'amend';
}

export class CorrectionPreviewAnswer {
  correction: PreviewCorrection;

  /** Every unit of the corrected event's chain, with the entitlement fields (at = knownAt = now) the correction would change. */
  units: PreviewUnit[];

  /** The accepted decisions on those units' streams, re-decided on the corrected facts before each. */
  decisions: PreviewDecision[];

  /** The X2 (and W4) conflicts the corrected views would newly show. */
  conflicts: EntitlementConflict[];
}

// ---------------------------------------------------------------------------------------------
// entitlement statement

export class StatementRule {
  /** @example R1 */
  id: string;

  /** @example Replacement quotas */
  title: string;
}

export class StatementFact {
  eventId: string;

  /** @example ClaimApproved */
  type: string;

  @Position()
  position: string;

  /** When it happened in the world (RULES T4), as corrected; null for a correction (it applies from its recorded time). */
  @Instant()
  businessTime: string | null;

  /** When the ledger recorded it. */
  @Instant()
  recordedAt: string;

  /** Corrections that amended it, oldest first (RULES X1). */
  amendedBy: string[];
}

export class StatementLine {
  /**
   * The view's field, as in its explanation.
   * @example replacement.remaining
   */
  field: string;

  /** @example Replacements left */
  label: string;

  /**
   * The field in words.
   * @example 1 replacement left in this term; 1 replacement used (approved and not denied or cancelled).
   */
  text: string;

  rules: StatementRule[];

  facts: StatementFact[];
}

export class StatementUnit {
  serial: string;

  /** How it joined the plan chain: purchase, a card plan's binding, or as a replacement. */
  via: 'purchase' | 'binding' | 'replacement';

  /** The business time it joined the chain (the purchase, binding or fulfilment). */
  @Instant()
  since: string | null;

  eventId: string;
}

export class StatementTimelineEntry {
  @Position()
  position: string;

  eventId: string;

  type: string;

  /** When it happened (business time). */
  @Instant()
  occurredAt: string;

  @Instant()
  recordedAt: string;

  /** Coverage after the event, as then known. */
  coverage: Coverage;

  @Int(1)
  replacementsRemaining: number;

  @Int(1)
  replacementsUsed: number;

  /** Exclusive end of warranty coverage after the event, as then known. */
  @CalendarDate()
  coveredUntil: string | null;

  /**
   * "eligible" or the code that blocks a renewal.
   * @example eligible
   */
  renewal: string;
}

export class StatementEvent {
  @Position()
  position: string;

  eventId: string;

  type: string;

  streamId: string;

  @Int(0)
  revision: number;

  /** As hashed (the store's commit time; also in metadata). */
  @Instant()
  recordedAt: string;

  /** The hash of the event before it in the chain named by integrity.chain (the genesis hash for the first). */
  previousHash: string;

  /** Its chain hash (sha256, hex); see integrity.hashFormula. */
  hash: string;

  /** The event's data, exactly as hashed (canonical JSON). */
  data: Record<string, unknown>;

  /** Its metadata, recordedAt included (the hash covers it without recordedAt, see hashedMetadata). */
  metadata: Record<string, unknown>;

  /**
   * Present only when the hash covers another metadata text than the canonical JSON of metadata
   * without recordedAt: events appended before that rule, hashed with recordedAt inside. The exact text.
   */
  hashedMetadata?: string;
}

/** A signed checkpoint (as GET /v1/audit/checkpoints gives them). */
export class StatementCheckpoint {
  @Position()
  position: string;

  /** The chain hash of the event at that position (sha256, hex). */
  hash: string;

  /** When the node signed it. */
  @Instant()
  recordedAt: string;

  keyId: string;

  /** Ed25519, base64, over "careledger-checkpoint:v1\n<position>\n<hash>". */
  signature: string;
}

export class StatementIntegrity {
  /** The store kind. */
  store: 'sqlite' | 'postgres' | 'eventstoredb';

  /** global: one chain over the whole log (SQLite, PostgreSQL); per-stream: one per stream (EventStoreDB). */
  chain: 'global' | 'per-stream';

  chainNote: string;

  /** How an event's hash is computed. */
  hashFormula: string;

  genesisHash: string;

  /** A signed checkpoint at or after every included event. */
  checkpoint: StatementCheckpoint;

  /** The key that signed the attestation (and, unless rotated since, the checkpoint). */
  keyId: string;

  /** The node's key (PEM). Verify with the key you got from the operator, not this one. */
  publicKey: string;

  howToVerify: string[];
}

export class StatementAttestation {
  algorithm: 'Ed25519';

  keyId: string;

  /** sha256 hex of the canonical JSON (keys sorted) of the statement without "attestation". */
  digest: string;

  /** Ed25519, base64, over "careledger-statement:v1\n<digest>". */
  signature: string;
}

/** An entitlement statement, attested by the node (check it with `careledger verify-statement`). */
export class StatementAnswer {
  format: 'careledger-statement/v1';

  /** @example SN-1581F5FHD23 */
  serial: string;

  /** The business time of the view. */
  @Instant()
  at: string;

  /** What the ledger had recorded by then. */
  @Instant()
  knownAt: string;

  /** When the node issued the statement. */
  @Instant()
  issuedAt: string;

  /** The catalogue version the view was folded with. */
  catalogue: string;

  /** The entitlement view with its explanation (without checkpoint: the statement names its own). */
  view: EntitlementView;

  units: StatementUnit[];

  /** Each field in words, with its rules and facts. */
  explanations: StatementLine[];

  timeline: StatementTimelineEntry[];

  /** Every event the view rests on, with what its hash covers. */
  events: StatementEvent[];

  integrity: StatementIntegrity;

  attestation: StatementAttestation;
}
