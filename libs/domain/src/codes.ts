/**
 * Refusal codes and the rules they come from (RULES.md). A refused command answers with one of
 * these so that an agent, an auditor and a customer read the same reason.
 */
export const RULE_OF = {
  UnknownModel: 'C1',
  UnknownPlan: 'P1',
  MaxTermExceeded: 'P2',
  RenewalMustBe1Year: 'P2',
  AlreadyBound: 'P3',
  PurchaseWindowClosed: 'P4',
  VerificationExpired: 'P4',
  RegionMismatch: 'P5',
  ModelMismatch: 'P5',
  AlreadyCoveredByInheritedPlan: 'P7',
  NoPlanToRenew: 'N1',
  RenewalWindowClosed: 'N2',
  PlanExpired: 'N3',
  NotAllowedWith2YearPlan: 'N3',
  ProductDiscontinued: 'N3',
  NoReplacementsRemaining: 'R1',
  FlyawayQuotaExhausted: 'R1',
  IncidentBeforeCoverage: 'R2',
  OutsideValidity: 'R2',
  DeviceNotCovered: 'R3',
  FlyawayNotSupported: 'R4',
  FlyawayBindingMissing: 'R4',
  FlightRecordsMissing: 'R4',
  Excluded: 'R5',
  OutOfServiceRegion: 'R6',
  PaymentMismatch: 'R7',
  ExpressNotAvailable: 'R9',
  NoDiscountedRepairsRemaining: 'C9',
  NoFactoryMaintenanceRemaining: 'C9',
  NotUnderWarranty: 'R8',
  OccurredInFuture: 'T4',
  NotCorrectable: 'X1',
} as const;

export type RefusalCode = keyof typeof RULE_OF;
export type RuleId = (typeof RULE_OF)[RefusalCode] | string;

/**
 * A business rule refused the command (HTTP 422). Nothing is appended. An outcome, not a fault:
 * it carries no stack trace (views build one for every renewal and claim they evaluate, and a
 * captured stack cost more than the rest of the check; bench/PERFORMANCE.md).
 */
export class Refusal extends Error {
  readonly rule: string;
  /** Set by whoever records the refusal in the log (the ledger): its decision id and position. */
  recorded: { decisionId: string; position: string } | null = null;
  readonly code: RefusalCode;
  constructor(code: RefusalCode, detail: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail); // (Error's constructor does not throw)
    Error.stackTraceLimit = limit;
    this.code = code;
    this.name = 'Refusal';
    this.rule = RULE_OF[code];
  }
}

/**
 * The command does not fit the resource's current state (HTTP 409): approving a denied claim,
 * binding a plan that already has a unit. Not a rule of RULES.md, so no rule id.
 */
export class StateConflict extends Error {
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'StateConflict';
  }
}

/** The command names something the ledger does not know (HTTP 404). */
export class NotFound extends Error {
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'NotFound';
  }
}

/** The command is well-formed JSON but its values do not make sense together (HTTP 400). */
export class InvalidCommand extends Error {
  constructor(
    readonly errors: { field: string; message: string }[],
    detail = 'The request has invalid fields.',
  ) {
    super(detail);
    this.name = 'InvalidCommand';
  }
}
