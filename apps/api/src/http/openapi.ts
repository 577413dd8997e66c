/**
 * The OpenAPI document (served at /docs-json) and the decorators that put answers and problems on
 * routes. The schemas come from the classes themselves: request bodies in dto/commands.dto.ts,
 * queries in dto/queries.dto.ts, answers in dto/answers.dto.ts and dto/views.dto.ts (the dispute
 * and integration routes: dto/evidence.dto.ts, dto/integration.dto.ts), described by the swagger
 * CLI plugin (nest-cli.json; under jest apps/api/test/swagger-plugin.transform.js).
 *
 * How a route documents itself:
 * - the method's name is its operationId (`approveClaim`, `getPlan`): unique and readable;
 * - `@ApiOperation({ summary })`, `@ApiTags(...)` on the controller;
 * - a command: `@ApiCommandResponse(AnswerClass, { notFound, preconditions, conflicts })`;
 *   a read: `@ApiReadResponse(ViewClass, { notFound, etag })`; no input: `@ApiNoBody()`;
 * - `@Public()` (auth.guard.ts) marks it `security: []`; every other route needs the bearer token;
 * - body, query and answer classes live in `dto/*.dto.ts` (the plugin reads only those files):
 *   plain typed properties with a comment; `@IsInstant()`/`@Instant()`, `@IsIsoDate()`/
 *   `@CalendarDate()`, `@Position()`, `@Int()` for what a type cannot say.
 * The API tests validate every answer they see against this document (apps/api/test/contract.ts),
 * and lint it with Redocly's recommended rules (apps/api/test/openapi.int.spec.ts).
 */
import { applyDecorators, INestApplication } from '@nestjs/common';
import {
  ApiBody, ApiExtraModels, ApiHeader, ApiOkResponse, ApiCreatedResponse, ApiResponse, DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule,
} from '@nestjs/swagger';
import { CommandAnswer, Problem } from '../dto/answers.dto';
import { PROBLEM_BASE } from './problem';

// ---------------------------------------------------------------------------------------------
// decorators

const PROBLEM_JSON = 'application/problem+json';

function example(status: number, title: string, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return { type: `${PROBLEM_BASE}${code}`, title, status, detail, code, ...extra };
}

export const PROBLEMS = {
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
  /** The route also answers `Accept: text/csv` (http/csv.ts): an example of it. */
  csv?: { example: string };
}

/** A read: 200 with its schema, and its problem answers. */
export function ApiReadResponse(type: new () => object, doc: ReadDoc = {}) {
  const ok = doc.csv
    ? ApiOkResponse({
        description: `${doc.description ?? 'The answer.'} With \`Accept: text/csv\`: the whole filtered result as CSV (RFC 4180: a header row, CRLF, quoted fields; a text cell starting with =, +, -, @, TAB or CR is prefixed with \`'\`), streamed, not paged (cursor and limit are refused), as of the read models' checkpoint when it began.`,
        content: {
          'application/json': { schema: { $ref: getSchemaPath(type) } },
          'text/csv': { schema: { type: 'string' }, example: doc.csv.example },
        },
        headers: {
          'Content-Disposition': {
            description: 'CSV only: `attachment; filename="…"`, the file name carrying the checkpoint the rows reflect.',
            schema: { type: 'string', example: 'attachment; filename="careledger-audit-events-to-1042.csv"' },
          },
        },
      })
    : ApiOkResponse({
        type,
        description: doc.description ?? 'The answer.',
        ...(doc.etag
          ? { headers: { ETag: { description: 'The revision, quoted, as If-Match takes it.', schema: { type: 'string', example: '"3"' } } } }
          : {}),
      });
  const decorators = [
    ApiExtraModels(Problem, type),
    ok,
    ApiProblemResponse(400, PROBLEMS[400]('path or query')),
    ApiProblemResponse(401, PROBLEMS[401]()),
    ApiProblemResponse(403, PROBLEMS[403]()),
  ];
  if (doc.notFound) decorators.push(ApiProblemResponse(404, PROBLEMS[404](doc.notFound)));
  return applyDecorators(...decorators);
}

/** 401 and 403: a route that needs a token of some roles. */
export function ApiAuthProblems() {
  return applyDecorators(ApiExtraModels(Problem), ApiProblemResponse(401, PROBLEMS[401]()), ApiProblemResponse(403, PROBLEMS[403]()));
}

/** A route that takes no input: no body, or `{}` (the param decorator NoBody() in route.ts checks it). */
export function ApiNoBody() {
  return ApiBody({ required: false, description: 'No input: send no body, or `{}`.', schema: { type: 'object', additionalProperties: false, properties: {} } });
}

const TAGS: [string, string][] = [
  ['devices', 'Facts about units (activation, pairings, verifications, service records, goodwill) and what a unit is entitled to.'],
  ['plans', 'Protection plans: purchase, binding of card plans, renewal, Care Refresh+.'],
  ['claims', 'Replacement claims and their workflow, at the handling service center.'],
  ['service centers', 'The directory of service centers, their dashboards and claim queues.'],
  ['corrections', 'Corrections of recorded facts (RULES X1) and the scheduled sweep.'],
  ['audit', 'The event log, the decision log, integrity and signed checkpoints (auditor).'],
  ['integration', 'The event feed (pages, long-poll, text/event-stream) and webhooks, for systems that follow the log.'],
  ['operations', 'Health, readiness and metrics.'],
  ['session', 'Who the caller is.'],
];

/** The OpenAPI document of the app (served at /docs-json). */
export function buildDocument(app: INestApplication): OpenAPIObject {
  let builder = new DocumentBuilder()
    .setTitle('CareLedger')
    .setDescription(
      'The ledger of device protection plans: plans, claims, replacements, entitlements as of any time, audit. ' +
        'Errors are application/problem+json (RFC 9457). Instants (format date-time) are ISO-8601 with an offset within ±14:00; ' +
        'the seconds may be left out, as RULES.md writes them, and answers give instants back as recorded.',
    )
    .setVersion('1.1')
    .addServer('/', 'This node')
    .addSecurity('bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'An opaque token from the node\'s tokens file (CARELEDGER_TOKENS_FILE), not a JWT: its role decides what it may do.',
    })
    .addSecurityRequirements('bearer');
  for (const [name, description] of TAGS) builder = builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), { operationIdFactory: (_controller, method) => method });
  return finish(document);
}

/**
 * What the generator cannot say by itself: public routes need no token (`security: []`), every
 * request body is strict (the validation refuses unknown fields), any error not listed on an
 * operation is still problem+json (`default`); and enums in a stable order.
 */
function finish(document: OpenAPIObject): OpenAPIObject {
  const strict = new Set<string>();
  const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  const refName = (ref: unknown) => (typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : null);
  const walk = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object') return;
    const node = schema as Record<string, unknown>;
    const name = refName(node.$ref);
    if (name !== null) {
      if (strict.has(name)) return;
      strict.add(name);
      walk(schemas[name]);
      return;
    }
    for (const key of ['properties', 'items', 'allOf', 'oneOf', 'anyOf']) {
      const inner = node[key];
      if (Array.isArray(inner)) inner.forEach(walk);
      else if (key === 'properties' && inner && typeof inner === 'object') Object.values(inner).forEach(walk);
      else walk(inner);
    }
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as GeneratedOperation[]) {
      if (!operation || typeof operation !== 'object' || !operation.responses) continue;
      if (operation['x-public'] === true) {
        operation.security = [];
        delete operation['x-public'];
      } else {
        delete operation.security;
      }
      const body = (operation.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.['application/json']?.schema;
      if (body) walk(body);
      operation.responses.default ??= {
        description: 'Any other error (for instance 503 NotCaughtUp or StoreUnavailable, 413, 415), as problem+json.',
        content: { [PROBLEM_JSON]: { schema: { $ref: getSchemaPath(Problem) } } },
      };
    }
  }
  for (const name of strict) {
    const schema = schemas[name];
    if (schema && schema.type === 'object' && schema.additionalProperties === undefined) schema.additionalProperties = false;
  }
  sortEnums(document);
  return document;
}

/** An operation as the generator writes it, before finish(). */
interface GeneratedOperation {
  responses?: Record<string, unknown>;
  security?: unknown[];
  requestBody?: unknown;
  'x-public'?: unknown;
}

/**
 * String enums in alphabetical order: the plugin lists a union of literals in the order the
 * compiler happened to create those literal types, which differs between compilations (nest build
 * and the tests') and would make the document change without any change to the API.
 */
function sortEnums(node: unknown): void {
  if (Array.isArray(node)) node.forEach(sortEnums);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.enum) && record.enum.every((v) => typeof v === 'string')) (record.enum as string[]).sort();
    for (const value of Object.values(record)) sortEnums(value);
  }
}
