/**
 * The answers of command routes and the problem+json errors, as the OpenAPI document describes
 * them. The swagger plugin reads each property (its type, `?`, `| null`, literal unions as enums,
 * its comment as the description, `@example`); formats.ts adds what a type cannot say. These
 * classes describe; the app's answers are shaped in http/answers.ts, and the API tests validate
 * every answer they see against the document (apps/api/test/contract.ts).
 */
import type { Region, TermKind } from '@careledger/domain';
import { ApiProperty } from '@nestjs/swagger';
import { CalendarDate, Int, Position } from './formats';

export class ProblemFieldError {
  /**
   * The field (or header, query parameter) at fault, as a path; empty for the whole body.
   * @example purchasedAt
   */
  field: string;

  /**
   * What is wrong with it.
   * @example purchasedAt must be an ISO-8601 instant with an offset (e.g. 2024-03-10T14:22:00-07:00)
   */
  message: string;
}

/** RFC 9457 problem details, as every error answers (application/problem+json). */
export class Problem {
  /**
   * A URI naming the problem: the base followed by the code.
   * @example https://careledger.dev/problems/RenewalWindowClosed
   */
  type: string;

  /**
   * The HTTP status text.
   * @example Unprocessable Content
   */
  title: string;

  /** The HTTP status. */
  @Int(422)
  status: number;

  /**
   * What happened, for people.
   * @example The renewal window closed on 2025-03-24.
   */
  detail: string;

  /**
   * The machine-readable code (a RULES.md refusal code for 422).
   * @example RenewalWindowClosed
   */
  code: string;

  /**
   * The rule that refused the command (422 only).
   * @example N2
   */
  rule?: string;

  /** The malformed fields (400 only). */
  errors?: ProblemFieldError[];

  /** A refusal (422): the decision it was recorded as. */
  decisionId?: string;

  /** A refusal (422): the position of its CommandRefused fact (read with minPosition on another node). */
  @Position()
  position?: string;
}

// ---------------------------------------------------------------------------------------------
// shared shapes

export class Money {
  /**
   * A decimal string in major units.
   * @example 159.00
   */
  @ApiProperty({ type: String, pattern: '^\\d+(\\.\\d+)?$', example: '159.00' })
  amount: string;

  /**
   * An ISO 4217 code.
   * @example USD
   */
  currency: string;
}

/** A half-open window of dates [from, until) in the plan region's zone. */
export class Window {
  /** The first day. */
  @CalendarDate()
  from: string;

  /** The day after the last (exclusive). */
  @CalendarDate()
  until: string;
}

export class ChainTerm extends Window {
  /** The term's kind. */
  kind: TermKind;
}

// ---------------------------------------------------------------------------------------------
// command answers

/** What every command that appends answers: 201 when appended, 200 for an idempotent repeat. */
export class CommandAnswer {
  /** The appended events; the first is the command's primary fact. */
  eventIds: string[];

  /** The revision of the primary fact's stream after the command (send it in If-Match). */
  @Int(3)
  revision: number;

  /** The global position of the command's last event. */
  @Position()
  position: string;
}

/** Activation, pairing and verification facts. */
export class DeviceFactAnswer extends CommandAnswer {
  /** @example SN-1581F5FHD23 */
  serial: string;
}

export class ServiceRecordAnswer extends CommandAnswer {
  serial: string;

  /** The plan whose benefit the service used; absent when the unit holds none. */
  planId?: string;
}

export class GoodwillExtension extends Window {
  kind: 'goodwill';
}

export class GoodwillAnswer extends CommandAnswer {
  serial: string;

  /** The plan the unit holds, if any (the extension is recorded on it). */
  planId?: string;

  /** The granted window, starting where the warranty known so far ends. */
  extension: GoodwillExtension;
}

/** Purchase, binding, renewal and Care Refresh+. */
export class PlanAnswer extends CommandAnswer {
  /** @example 2a0857ed-30fe-536e-9e71-f1e9cae11ed3 */
  planId: string;

  /**
   * The policy version the plan falls under. Absent when a repeat is answered from the plan's facts (a binding sent again).
   * @example V2023
   */
  policyVersion?: string;

  /** effective once the plan's effective date is known (RULES P6). Absent like policyVersion. */
  status?: 'effective' | 'pending';

  /** The chain of terms after the command. Absent like policyVersion. */
  chain?: ChainTerm[];
}

/** Opening, denial, cancellation and payment of a claim. */
export class ClaimAnswer extends CommandAnswer {
  /** @example 4a60f431-1374-59aa-94b2-1bd682f25123 */
  claimId: string;

  /** The plan the claim is on. */
  planId: string;

  /** The claim's status after the command. */
  status: 'open' | 'approved' | 'paid' | 'fulfilled' | 'denied' | 'cancelled';
}

export class ClaimApprovalAnswer extends ClaimAnswer {
  /** The replacement fee fixed for this approval (RULES R7). */
  fee: Money;

  /** Which replacement of the term this is (1 = first). */
  @Int(1)
  ordinal: number;
}

export class ClaimFulfilmentAnswer extends ClaimAnswer {
  /** The unit issued; coverage moved to it. Absent on a repeat answered from the claim's facts. */
  replacementSerial?: string;
}

export class ServiceCenterAnswer extends CommandAnswer {
  /** @example SC-1 */
  centerId: string;

  name: string;

  region: Region;
}

export class CorrectionAnswer extends CommandAnswer {
  /** The corrected event (the resource of a correction). */
  eventId: string;

  /** The corrected event, again. */
  correctedEventId: string;

  /**
   * The corrected event's type.
   * @example PlanPurchased
   */
  correctedType: string;

  action: 'void' | 'amend';
}

export class SweepReport {
  /** Plans looked at. */
  @Int()
  examined: number;

  /** Warranty extensions recorded. */
  @Int()
  granted: number;

  /** Set when another node holds the sweep's lease: this node did nothing. */
  leaseHeldBy?: string;
}
