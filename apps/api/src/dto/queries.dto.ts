/** Query strings. Unknown parameters are refused like unknown body fields. */
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsIdentifier, IsInstant, IsInstantOrDate, IsIsoDate, IsSerial } from './validators';

// patterns are written as literals: the swagger plugin copies a literal @Matches pattern into the document
export class ConsistencyQuery {
  /**
   * Wait (at most the node's read wait) until the read models reflect this global position, else 503 NotCaughtUp.
   * @example "1042"
   */
  @IsOptional() @Matches(/^\d{1,20}$/, { message: 'minPosition must be a global position (digits)' })
  minPosition?: string;
}

export class EntitlementsQuery extends ConsistencyQuery {
  /** The business time of the view (default: now). */
  @IsOptional() @IsInstantOrDate()
  at?: string;

  /** The view as the ledger knew it then: only facts recorded up to this instant (default: now). */
  @IsOptional() @IsInstant()
  knownAt?: string;

  /** true: the rules and events behind each field, in `explanation`. */
  @IsOptional() @IsIn(['true', 'false'])
  explain?: 'true' | 'false';
}

export class KnownAtQuery extends ConsistencyQuery {
  /** Only facts recorded up to this instant (default: now). */
  @IsOptional() @IsInstant()
  knownAt?: string;
}

export class PageQuery extends ConsistencyQuery {
  /** The `nextCursor` of the page before. */
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  /**
   * Items per page, 1 to 1000.
   * @example "100"
   */
  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;
}

export class AuditEventsQuery extends PageQuery {
  /** Events that touched this unit. */
  @IsOptional() @IsSerial()
  serial?: string;

  /** Events of this plan. */
  @IsOptional() @IsIdentifier({ example: '2a0857ed-30fe-536e-9e71-f1e9cae11ed3' })
  planId?: string;

  /** Events of this claim. */
  @IsOptional() @IsIdentifier({ example: '4a60f431-1374-59aa-94b2-1bd682f25123' })
  claimId?: string;

  /**
   * Events of this type.
   * @example ClaimApproved
   */
  @IsOptional() @Matches(/^[A-Za-z]{1,60}$/, { message: 'type must be an event type name' })
  type?: string;

  /** Recorded by this actor. */
  @IsOptional() @IsString() @MaxLength(200)
  actor?: string;

  /** Recorded at or after this instant. */
  @IsOptional() @IsInstant()
  recordedFrom?: string;

  /** Recorded before this instant. */
  @IsOptional() @IsInstant()
  recordedTo?: string;
}

export class AuditDecisionsQuery extends AuditEventsQuery {
  /**
   * Decisions with this refusal code (RULES.md).
   * @example RenewalMustBe1Year
   */
  @IsOptional() @Matches(/^[A-Za-z][A-Za-z0-9]{0,59}$/, { message: 'code must be a refusal code' })
  code?: string;

  @IsOptional() @IsIn(['accepted', 'refused'])
  outcome?: 'accepted' | 'refused';
}

export class DashboardQuery extends ConsistencyQuery {
  /** Claims opened on or after this date (the center's region's zone). */
  @IsOptional() @IsIsoDate()
  from?: string;

  /** Claims opened on or before this date. */
  @IsOptional() @IsIsoDate()
  to?: string;
}

export class CenterClaimsQuery extends PageQuery {
  @IsOptional() @IsIn(['open', 'approved', 'awaitingPayment', 'paid', 'fulfilled', 'denied', 'cancelled'])
  status?: string;
}

export class VerifyQuery {
  /** true: walk the whole chain from the start, not only what was added since the last verification. */
  @IsOptional() @IsIn(['true', 'false'])
  full?: 'true' | 'false';
}

export class CheckpointsQuery {
  /** Checkpoints after this position (exclusive). */
  @IsOptional() @Matches(/^\d{1,20}$/, { message: 'after must be a global position (digits)' })
  after?: string;

  /** Items per page, 1 to 1000. */
  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;
}
