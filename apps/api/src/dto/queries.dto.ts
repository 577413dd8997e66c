/** Query strings. Unknown parameters are refused like unknown body fields. */
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IDENTIFIER, IsInstant, IsInstantOrDate, IsIsoDate, SERIAL } from './validators';

const POSITION = /^\d{1,20}$/;

export class ConsistencyQuery {
  /** Wait (briefly) until the read models reflect this global position. */
  @IsOptional() @Matches(POSITION, { message: 'minPosition must be a global position (digits)' })
  minPosition?: string;
}

export class EntitlementsQuery extends ConsistencyQuery {
  @IsOptional() @IsInstantOrDate()
  at?: string;

  @IsOptional() @IsInstant()
  knownAt?: string;

  @IsOptional() @IsIn(['true', 'false'])
  explain?: 'true' | 'false';
}

export class KnownAtQuery extends ConsistencyQuery {
  @IsOptional() @IsInstant()
  knownAt?: string;
}

export class PageQuery extends ConsistencyQuery {
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;
}

export class AuditEventsQuery extends PageQuery {
  @IsOptional() @Matches(SERIAL, { message: 'serial is not a valid serial' })
  serial?: string;

  @IsOptional() @Matches(IDENTIFIER, { message: 'planId is not a valid id' })
  planId?: string;

  @IsOptional() @Matches(IDENTIFIER, { message: 'claimId is not a valid id' })
  claimId?: string;

  @IsOptional() @Matches(/^[A-Za-z]{1,60}$/, { message: 'type must be an event type name' })
  type?: string;

  @IsOptional() @IsString() @MaxLength(200)
  actor?: string;

  @IsOptional() @IsInstant()
  recordedFrom?: string;

  @IsOptional() @IsInstant()
  recordedTo?: string;
}

export class AuditDecisionsQuery extends AuditEventsQuery {
  @IsOptional() @Matches(/^[A-Za-z][A-Za-z0-9]{0,59}$/, { message: 'code must be a refusal code' })
  code?: string;

  @IsOptional() @IsIn(['accepted', 'refused'])
  outcome?: 'accepted' | 'refused';
}

export class DashboardQuery extends ConsistencyQuery {
  @IsOptional() @IsIsoDate()
  from?: string;

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
  @IsOptional() @Matches(POSITION, { message: 'after must be a global position (digits)' })
  after?: string;

  @IsOptional() @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;
}
