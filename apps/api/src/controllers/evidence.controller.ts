/**
 * Disputes (API.md v1.1): the correction preview (admin, auditor) and the entitlement statement
 * (every role that may read the unit's entitlements), as JSON or a printable page.
 */
import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { IntegrityViolation } from '@careledger/event-store';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { Problem } from '../dto/answers.dto';
import { CorrectionDto } from '../dto/commands.dto';
import { CorrectionPreviewAnswer, StatementAnswer, StatementQuery } from '../dto/evidence.dto';
import { ApiProblemResponse, PROBLEMS } from '../http/openapi';
import { badRequest, notFound, problem, PROBLEM_BASE, ProblemException } from '../http/problem';
import { consistent, Http } from '../http/route';
import type { RouteContext } from '../http/command-runner';
import { statementPage } from '../http/statement-page';
import { Directory, LedgerQueries } from '../ports/ports';
import { CorrectionPreviews, Statements } from '../ports/evidence-ports';
import { SerialParam } from './params';

const example = (status: number, title: string, code: string, detail: string, extra: Record<string, unknown> = {}) => ({
  type: `${PROBLEM_BASE}${code}`, title, status, detail, code, ...extra,
});

/** POST /v1/corrections/preview: 200 with the preview; the refusals of POST /v1/corrections, nothing recorded. */
function ApiPreviewResponse() {
  return applyDecorators(
    ApiExtraModels(Problem),
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
    ApiProblemResponse(401, PROBLEMS[401]()),
    ApiProblemResponse(403, { description: 'Admin and auditor only.', example: example(403, 'Forbidden', 'Forbidden', 'The role sales may not do this.') }),
    ApiProblemResponse(404, { description: 'No such event (EventNotFound).', example: example(404, 'Not Found', 'EventNotFound', 'No event 6f1c….') }),
    ApiProblemResponse(409, { description: 'The event is already voided (AlreadyVoided).', example: example(409, 'Conflict', 'AlreadyVoided', 'Event 6f1c… is already voided.') }),
    ApiProblemResponse(422, {
      description: 'The correction itself would be refused (NotCorrectable, MaxTermExceeded, ...). Unlike POST /v1/corrections, the refusal is not recorded.',
      example: example(422, 'Unprocessable Content', 'NotCorrectable', 'A correction cannot be corrected; record a new correction of the original event.', { rule: 'X1' }),
    }),
    ApiProblemResponse(503, PROBLEMS[503]()),
  );
}

/** GET /v1/devices/{serial}/statement: JSON or a printable HTML page, by Accept. */
function ApiStatementResponse() {
  return applyDecorators(
    ApiExtraModels(Problem, StatementAnswer),
    ApiOkResponse({
      description: 'application/json: the statement as data, attested. text/html: the same as a printable page (no outside resources).',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(StatementAnswer) } },
        'text/html': { schema: { type: 'string', description: 'A self-contained HTML page (UTF-8).' } },
      },
    }),
    ApiProblemResponse(400, {
      description: 'Malformed path or query (ValidationFailed).',
      example: example(400, 'Bad Request', 'ValidationFailed', 'The request has invalid fields.', { errors: [{ field: 'knownAt', message: 'knownAt must be an ISO-8601 instant with an offset' }] }),
    }),
    ApiProblemResponse(401, PROBLEMS[401]()),
    ApiProblemResponse(403, {
      description: 'The role may not read the unit (Forbidden); or, for a service-center token, the statement would carry another center\'s claims (StatementIncludesOtherCenters): a statement is issued whole, so an auditor or admin issues it.',
      example: example(403, 'Forbidden', 'StatementIncludesOtherCenters', 'The statement of SN-1 rests on claims of SC-2; ask an auditor or admin for it.'),
    }),
    ApiProblemResponse(404, { description: 'The ledger has no record of the unit (DeviceNotFound).', example: example(404, 'Not Found', 'DeviceNotFound', 'The ledger has no record of SN-1.') }),
    ApiProblemResponse(406, {
      description: 'Accept names neither application/json nor text/html (NotAcceptable).',
      example: example(406, 'Not Acceptable', 'NotAcceptable', 'The statement is served as application/json or text/html.'),
    }),
  );
}

@ApiTags('corrections')
@Controller('v1/corrections/preview')
export class CorrectionPreviewController {
  constructor(
    @Inject(CorrectionPreviews) private readonly previews: CorrectionPreviews,
    @Inject(Directory) private readonly directory: Directory,
  ) {}

  @Post()
  @HttpCode(200)
  @Roles('auditor')
  @ApiOperation({
    summary: 'What POST /v1/corrections with this body would do, without doing it: the entitlement fields it would change in every unit of the chain, the past decisions it would turn, the X2 conflicts it would raise. Nothing is appended; nothing enters the decision log.',
  })
  @ApiPreviewResponse()
  async previewCorrection(@Body() dto: CorrectionDto, @Http() { request, principal }: RouteContext) {
    const key = request.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' ? key : null;
    if (idempotencyKey !== null && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
      throw badRequest('Idempotency-Key must be 1 to 200 characters.', [{ field: 'Idempotency-Key', message: 'must be 1 to 200 characters' }]);
    }
    // where the event lives, as the command runner finds it for POST /v1/corrections
    const target = await this.directory.event(dto.eventId);
    if (!target) throw notFound('EventNotFound', `No event ${dto.eventId}.`);
    return this.previews.preview(
      { type: 'CorrectEvent', eventId: dto.eventId, streamId: target.streamId, action: dto.action, reason: dto.reason, amendment: dto.amendment ?? null },
      { actor: principal.actor, tokenId: principal.tokenId, correlationId: request.id, idempotencyKey },
    );
  }
}

@ApiTags('devices')
@Controller('v1/devices/:serial/statement')
export class StatementController {
  constructor(
    @Inject(Statements) private readonly statements: Statements,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
  ) {}

  @Get()
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({
    summary: 'An entitlement statement of the unit at `at` as known at `knownAt`, for a customer or an arbiter: with Accept: text/html a printable page, with application/json the same as data plus the events it rests on, their hashes, a signed checkpoint covering them and the node\'s attestation (check it with `careledger verify-statement`).',
  })
  @ApiStatementResponse()
  async getStatement(
    @Param('serial', SerialParam) serial: string,
    @Query() query: StatementQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    const as = negotiate(accept);
    if (!as) throw new ProblemException(problem(406, 'NotAcceptable', 'The statement is served as application/json or text/html.'));
    await consistent(this.reads, query.minPosition);
    let statement;
    try {
      statement = await this.statements.statement(serial, { at: query.at, knownAt: query.knownAt });
    } catch (error) {
      if (error instanceof IntegrityViolation) {
        throw new ProblemException(problem(500, 'IntegrityViolation', `No statement is issued over a broken log: ${error.message}`));
      }
      throw error;
    }
    if (!statement) throw notFound('DeviceNotFound', `The ledger has no record of ${serial}.`);
    if (principal.role.kind === 'service-center') {
      // the events must be whole to verify, and another center's claim references, reasons and
      // staff are not this center's to read (visibility.ts): such a statement is not redacted but withheld
      const own = principal.role.centerId;
      const others = otherCenters(statement.events, own);
      if (others.length > 0) {
        throw new ProblemException(
          problem(403, 'StatementIncludesOtherCenters', `The statement of ${serial} rests on claims of ${others.join(', ')}, which ${own} may not read in full; ask an auditor or admin for it.`),
        );
      }
    }
    reply.header('Vary', 'Accept');
    reply.header('Cache-Control', 'no-store');
    if (as === 'json') return statement;
    const page = statementPage(statement);
    reply.header('Content-Security-Policy', page.csp);
    reply.type('text/html; charset=utf-8');
    return page.html;
  }
}

/** Which form the client prefers (by q-value; JSON on a tie or without Accept), or null for neither. */
export function negotiate(accept: string | undefined): 'json' | 'html' | null {
  if (!accept || !accept.trim()) return 'json';
  const ranges = accept.split(',').map((part) => {
    const [range, ...params] = part.trim().toLowerCase().split(';').map((x) => x.trim());
    const q = params.find((p) => p.startsWith('q='));
    const value = q ? Number(q.slice(2)) : 1;
    return { range, q: Number.isFinite(value) ? value : 0 };
  });
  const quality = (type: string) => {
    const [major] = type.split('/');
    let best: { q: number; specificity: number } | null = null;
    for (const r of ranges) {
      const specificity = r.range === type ? 3 : r.range === `${major}/*` ? 2 : r.range === '*/*' ? 1 : 0;
      if (specificity > 0 && (!best || specificity > best.specificity)) best = { q: r.q, specificity };
    }
    return best?.q ?? 0;
  };
  const html = quality('text/html');
  const json = quality('application/json');
  if (html <= 0 && json <= 0) return null;
  return html > json ? 'html' : 'json';
}

/** The service centers other than `own` whose claims the events open. */
function otherCenters(events: readonly { type: string; data: unknown }[], own: string): string[] {
  const centers = new Set<string>();
  for (const e of events) {
    const center = e.type === 'ClaimOpened' ? (e.data as { serviceCenterId?: unknown }).serviceCenterId : undefined;
    if (typeof center === 'string' && center !== own) centers.add(center);
  }
  return [...centers].sort();
}
