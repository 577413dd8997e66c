/**
 * The OpenAPI schemas of the dispute routes (correction preview, entitlement statement), beside
 * openapi.ts and built with its helpers. Documentation only: nothing here changes an answer.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { Problem } from '../dto/answers.dto';
import { EntitlementConflict, EntitlementView } from '../dto/views.dto';
import { ApiProblemResponse } from './openapi';
import { PROBLEM_BASE } from './problem';

const POSITION = 'A global position of the log (decimal string).';
const ANY_JSON = [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'object' }, { type: 'array', items: {} }];

const example = (status: number, title: string, code: string, detail: string, extra: Record<string, unknown> = {}) => ({
  type: `${PROBLEM_BASE}${code}`, title, status, detail, code, ...extra,
});

// ---------------------------------------------------------------------------------------------
// correction preview

export class PreviewChange {
  @ApiProperty({ description: 'The field of the entitlement view, as a dotted path (as in its explanation).', example: 'replacement.remaining' })
  field: string;

  @ApiProperty({ description: 'Its value now (null when absent).', nullable: true, oneOf: ANY_JSON, example: 1 })
  before: unknown;

  @ApiProperty({ description: 'Its value once the correction is recorded.', nullable: true, oneOf: ANY_JSON, example: 2 })
  after: unknown;
}

export class PreviewUnit {
  @ApiProperty({ example: 'SN-1581F5FHD23' })
  serial: string;

  @ApiProperty({ description: 'The fields that would change (empty: the unit is touched but its view stays the same).', type: () => PreviewChange, isArray: true })
  changes: PreviewChange[];
}

export class PreviewDecision {
  @ApiProperty({ description: 'The decision\'s primary event.' })
  eventId: string;

  @ApiProperty({ description: 'Its type.', example: 'ClaimApproved' })
  type: string;

  @ApiProperty({ description: 'The command it decided.', example: 'ApproveClaim' })
  command: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt: string;

  @ApiProperty({ description: 'would-refuse: the facts as they stand accept it, the corrected facts refuse it.', enum: ['unchanged', 'would-refuse'] })
  outcome: string;

  @ApiProperty({ description: 'The refusing code with the correction (RULES.md, or a state code such as InvalidClaimState); null when accepted. Set on "unchanged" when the facts already refuse it.', nullable: true, type: String, example: 'Excluded' })
  code: string | null;

  @ApiProperty({ description: 'The refusing rule; null for state codes.', nullable: true, type: String, example: 'R5' })
  rule: string | null;

  @ApiProperty({ nullable: true, type: String })
  detail: string | null;

  @ApiProperty({ description: 'The claim step whose refusal this one inherits (a payment rests on its approval).', nullable: true, type: String })
  restsOn: string | null;
}

export class PreviewCorrection {
  @ApiProperty({ description: 'The id the correction would get: with an Idempotency-Key, the one POST /v1/corrections with the same key and token gives it.' })
  eventId: string;

  @ApiProperty()
  streamId: string;

  @ApiProperty({ type: 'integer' })
  revision: number;

  @ApiProperty({ description: `Where it would be appended (the next position). ${POSITION}` })
  position: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt: string;

  @ApiProperty()
  targetEventId: string;

  @ApiProperty({ example: 'ClaimOpened' })
  targetType: string;

  @ApiProperty({ enum: ['void', 'amend'] })
  action: string;
}

export class CorrectionPreviewAnswer {
  @ApiProperty({ type: () => PreviewCorrection })
  correction: PreviewCorrection;

  @ApiProperty({ description: 'Every unit of the corrected event\'s chain, with the entitlement fields (at = knownAt = now) the correction would change.', type: () => PreviewUnit, isArray: true })
  units: PreviewUnit[];

  @ApiProperty({ description: 'The accepted decisions on those units\' streams, re-decided on the corrected facts before each.', type: () => PreviewDecision, isArray: true })
  decisions: PreviewDecision[];

  @ApiProperty({ description: 'The X2 (and W4) conflicts the corrected views would newly show.', type: () => EntitlementConflict, isArray: true })
  conflicts: EntitlementConflict[];
}

/** POST /v1/corrections/preview: 200 with the preview; the refusals of POST /v1/corrections, nothing recorded. */
export function ApiPreviewResponse() {
  return applyDecorators(
    ApiExtraModels(Problem, CorrectionPreviewAnswer),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Accepted like every POST; a preview records nothing, so it is never replayed. Send the key you will record the correction with: the preview names the event id the correction will get.',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    }),
    ApiOkResponse({ type: CorrectionPreviewAnswer, description: 'What the correction would do. Nothing was appended, nothing entered the decision log.' }),
    ApiProblemResponse(400, {
      description: 'Malformed body, or an amendment of fields the event does not have (ValidationFailed).',
      example: example(400, 'Bad Request', 'ValidationFailed', 'The amendment has invalid fields.', { errors: [{ field: 'amendment.cause', message: 'must be one of …' }] }),
    }),
    ApiProblemResponse(401, { description: 'No valid Bearer token.', example: example(401, 'Unauthorized', 'Unauthorized', 'A valid Bearer token is required.') }),
    ApiProblemResponse(403, { description: 'Admin and auditor only.', example: example(403, 'Forbidden', 'Forbidden', 'The role sales may not do this.') }),
    ApiProblemResponse(404, { description: 'No such event (EventNotFound).', example: example(404, 'Not Found', 'EventNotFound', 'No event 6f1c….') }),
    ApiProblemResponse(409, { description: 'The event is already voided (AlreadyVoided).', example: example(409, 'Conflict', 'AlreadyVoided', 'Event 6f1c… is already voided.') }),
    ApiProblemResponse(422, {
      description: 'The correction itself would be refused (NotCorrectable, MaxTermExceeded, ...). Unlike POST /v1/corrections, the refusal is not recorded.',
      example: example(422, 'Unprocessable Content', 'NotCorrectable', 'A correction cannot be corrected; record a new correction of the original event.', { rule: 'X1' }),
    }),
    ApiProblemResponse(503, { description: 'The event store is unreachable (StoreUnavailable).', example: example(503, 'Service Unavailable', 'StoreUnavailable', 'The event store is unreachable; retry later.') }),
  );
}

// ---------------------------------------------------------------------------------------------
// entitlement statement

export class StatementRule {
  @ApiProperty({ example: 'R1' })
  id: string;

  @ApiProperty({ example: 'Replacement quotas' })
  title: string;
}

export class StatementFact {
  @ApiProperty()
  eventId: string;

  @ApiProperty({ example: 'ClaimApproved' })
  type: string;

  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty({ description: 'When it happened in the world (RULES T4), as corrected; null for a correction.', nullable: true, type: String })
  businessTime: string | null;

  @ApiProperty({ description: 'When the ledger recorded it.', format: 'date-time' })
  recordedAt: string;

  @ApiProperty({ description: 'Corrections that amended it.', type: String, isArray: true })
  amendedBy: string[];
}

export class StatementLine {
  @ApiProperty({ description: 'The view\'s field, as in its explanation.', example: 'replacement.remaining' })
  field: string;

  @ApiProperty({ example: 'Replacements left' })
  label: string;

  @ApiProperty({ description: 'The field in words.', example: '1 replacement left in this term; 1 replacement used (approved and not denied or cancelled).' })
  text: string;

  @ApiProperty({ type: () => StatementRule, isArray: true })
  rules: StatementRule[];

  @ApiProperty({ type: () => StatementFact, isArray: true })
  facts: StatementFact[];
}

export class StatementUnit {
  @ApiProperty()
  serial: string;

  @ApiProperty({ enum: ['purchase', 'binding', 'replacement'] })
  via: string;

  @ApiProperty({ nullable: true, type: String, description: 'The business time it joined the chain.' })
  since: string | null;

  @ApiProperty()
  eventId: string;
}

export class StatementTimelineEntry {
  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty()
  eventId: string;

  @ApiProperty()
  type: string;

  @ApiProperty()
  occurredAt: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt: string;

  @ApiProperty({ description: 'Coverage after the event, as then known.' })
  coverage: string;

  @ApiProperty({ type: 'integer' })
  replacementsRemaining: number;

  @ApiProperty({ type: 'integer' })
  replacementsUsed: number;

  @ApiProperty({ nullable: true, type: String })
  coveredUntil: string | null;

  @ApiProperty({ description: '"eligible" or the code that blocks a renewal.' })
  renewal: string;
}

export class StatementEvent {
  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty()
  eventId: string;

  @ApiProperty()
  type: string;

  @ApiProperty()
  streamId: string;

  @ApiProperty({ type: 'integer' })
  revision: number;

  @ApiProperty({ description: 'As hashed (also in metadata).', format: 'date-time' })
  recordedAt: string;

  @ApiProperty({ description: 'The hash of the event before it in the chain named by integrity.chain (the genesis hash for the first).' })
  previousHash: string;

  @ApiProperty({ description: 'Its chain hash (sha256, hex); see integrity.hashFormula.' })
  hash: string;

  @ApiProperty({ description: 'The event\'s data, exactly as hashed (canonical JSON).', type: 'object', additionalProperties: true })
  data: unknown;

  @ApiProperty({ description: 'Its metadata, exactly as hashed (recordedAt included).', type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;
}

export class StatementCheckpoint {
  @ApiProperty({ description: POSITION })
  position: string;

  @ApiProperty()
  hash: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt: string;

  @ApiProperty()
  keyId: string;

  @ApiProperty({ description: 'Ed25519, base64, over "careledger-checkpoint:v1\\n<position>\\n<hash>".' })
  signature: string;
}

export class StatementIntegrity {
  @ApiProperty({ enum: ['sqlite', 'postgres', 'eventstoredb'] })
  store: string;

  @ApiProperty({ description: 'global: one chain over the whole log (SQLite, PostgreSQL); per-stream: one per stream (EventStoreDB).', enum: ['global', 'per-stream'] })
  chain: string;

  @ApiProperty()
  chainNote: string;

  @ApiProperty({ description: 'How an event\'s hash is computed.' })
  hashFormula: string;

  @ApiProperty()
  genesisHash: string;

  @ApiProperty({ description: 'A signed checkpoint at or after every included event.', type: () => StatementCheckpoint })
  checkpoint: StatementCheckpoint;

  @ApiProperty()
  keyId: string;

  @ApiProperty({ description: 'The node\'s key (PEM). Verify with the key you got from the operator, not this one.' })
  publicKey: string;

  @ApiProperty({ type: String, isArray: true })
  howToVerify: string[];
}

export class StatementAttestation {
  @ApiProperty({ enum: ['Ed25519'] })
  algorithm: string;

  @ApiProperty()
  keyId: string;

  @ApiProperty({ description: 'sha256 hex of the canonical JSON (keys sorted) of the statement without "attestation".' })
  digest: string;

  @ApiProperty({ description: 'Ed25519, base64, over "careledger-statement:v1\\n<digest>".' })
  signature: string;
}

export class StatementAnswer {
  @ApiProperty({ enum: ['careledger-statement/v1'] })
  format: string;

  @ApiProperty()
  serial: string;

  @ApiProperty({ description: 'The business time of the view.' })
  at: string;

  @ApiProperty({ description: 'What the ledger had recorded by then.', format: 'date-time' })
  knownAt: string;

  @ApiProperty({ format: 'date-time' })
  issuedAt: string;

  @ApiProperty({ description: 'The catalogue version the view was folded with.' })
  catalogue: string;

  @ApiProperty({ description: 'The entitlement view with its explanation (without checkpoint: the statement names its own).', type: () => EntitlementView })
  view: EntitlementView;

  @ApiProperty({ type: () => StatementUnit, isArray: true })
  units: StatementUnit[];

  @ApiProperty({ description: 'Each field in words, with its rules and facts.', type: () => StatementLine, isArray: true })
  explanations: StatementLine[];

  @ApiProperty({ type: () => StatementTimelineEntry, isArray: true })
  timeline: StatementTimelineEntry[];

  @ApiProperty({ description: 'Every event the view rests on, with what its hash covers.', type: () => StatementEvent, isArray: true })
  events: StatementEvent[];

  @ApiProperty({ type: () => StatementIntegrity })
  integrity: StatementIntegrity;

  @ApiProperty({ type: () => StatementAttestation })
  attestation: StatementAttestation;
}

/** GET /v1/devices/{serial}/statement: JSON or a printable HTML page, by Accept. */
export function ApiStatementResponse() {
  return applyDecorators(
    ApiExtraModels(Problem, StatementAnswer),
    ApiOkResponse({
      description: 'application/json: the statement as data, attested. text/html: the same as a printable page (no outside resources).',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(StatementAnswer) } },
        'text/html': { schema: { type: 'string' } },
      },
    }),
    ApiProblemResponse(400, {
      description: 'Malformed path or query (ValidationFailed).',
      example: example(400, 'Bad Request', 'ValidationFailed', 'The request has invalid fields.', { errors: [{ field: 'knownAt', message: 'knownAt must be an ISO-8601 instant with an offset' }] }),
    }),
    ApiProblemResponse(401, { description: 'No valid Bearer token.', example: example(401, 'Unauthorized', 'Unauthorized', 'A valid Bearer token is required.') }),
    ApiProblemResponse(403, { description: 'The role may not read the unit.', example: example(403, 'Forbidden', 'Forbidden', 'The role … may not do this.') }),
    ApiProblemResponse(404, { description: 'The ledger has no record of the unit (DeviceNotFound).', example: example(404, 'Not Found', 'DeviceNotFound', 'The ledger has no record of SN-1.') }),
    ApiResponse({
      status: 406,
      description: 'Accept names neither application/json nor text/html (NotAcceptable).',
      content: { 'application/problem+json': { schema: { $ref: getSchemaPath(Problem) }, example: example(406, 'Not Acceptable', 'NotAcceptable', 'The statement is served as application/json or text/html.') } },
    }),
  );
}
