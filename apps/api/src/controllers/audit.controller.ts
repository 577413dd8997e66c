/** Audit (role auditor or admin): the event log by filters, the decision log, integrity, signed checkpoints. */
import { Controller, Get, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { DecisionItem, HistoryEntry } from '@careledger/projections';
import { Roles } from '../auth/auth.guard';
import { AuditDecisionsQuery, AuditEventsQuery, CheckpointsQuery, VerifyQuery } from '../dto/queries.dto';
import { AuditEventsPage, CheckpointsPage, DecisionsPage, PublicKeyAnswer, SignedCheckpointView, VerifyReport } from '../dto/views.dto';
import { attachment, CsvColumn, csvStream } from '../http/csv';
import { preferred } from '../http/negotiate';
import { ApiReadResponse } from '../http/openapi';
import { badRequest } from '../http/problem';
import { consistent } from '../http/route';
import { LedgerQueries, Operations } from '../ports/ports';
import { cursorOf, limitOf, nextCursor } from './params';

const instantMs = (value: string | undefined) => (value ? Date.parse(value) : undefined);

/** The columns of the CSV answers: the JSON items' fields, position first. */
const EVENT_COLUMNS: CsvColumn<HistoryEntry>[] = [
  { name: 'position', value: (e) => e.position, numeric: true },
  { name: 'eventId', value: (e) => e.eventId },
  { name: 'type', value: (e) => e.type },
  { name: 'streamId', value: (e) => e.streamId },
  { name: 'revision', value: (e) => e.revision, numeric: true },
  { name: 'occurredAt', value: (e) => e.occurredAt },
  { name: 'recordedAt', value: (e) => e.recordedAt },
  { name: 'actor', value: (e) => e.actor },
  { name: 'correlationId', value: (e) => e.correlationId },
  { name: 'causationId', value: (e) => e.causationId },
  { name: 'data', value: (e) => e.data },
];

const DECISION_COLUMNS: CsvColumn<DecisionItem>[] = [
  { name: 'position', value: (d) => d.position, numeric: true },
  { name: 'decisionId', value: (d) => d.decisionId },
  { name: 'type', value: (d) => d.type },
  { name: 'command', value: (d) => d.command },
  { name: 'recordedAt', value: (d) => d.recordedAt },
  { name: 'actor', value: (d) => d.actor },
  { name: 'correlationId', value: (d) => d.correlationId },
  { name: 'outcome', value: (d) => d.outcome },
  { name: 'code', value: (d) => d.code },
  { name: 'rule', value: (d) => d.rule },
  { name: 'detail', value: (d) => d.detail },
  { name: 'serial', value: (d) => d.serial },
  { name: 'planId', value: (d) => d.planId },
  { name: 'claimId', value: (d) => d.claimId },
  { name: 'eventIds', value: (d) => d.eventIds },
  { name: 'request', value: (d) => d.request },
];

const CSV_EVENTS_EXAMPLE =
  'position,eventId,type,streamId,revision,occurredAt,recordedAt,actor,correlationId,causationId,data\r\n' +
  '1042,6f1c…,ClaimDenied,plan-2a08…,7,2024-05-02T10:00:00-07:00,2024-05-02T17:00:01.120Z,service-center:SC-1,req-81,,"{""claimId"":""4a60…"",""reason"":""water damage, not covered""}"\r\n';
const CSV_DECISIONS_EXAMPLE =
  'position,decisionId,type,command,recordedAt,actor,correlationId,outcome,code,rule,detail,serial,planId,claimId,eventIds,request\r\n' +
  '1043,9b2e…,RenewPlan,RenewPlan,2025-03-25T07:00:00.010Z,sales,req-82,refused,RenewalWindowClosed,N2,The renewal window closed on 2025-03-24.,M-C,2a08…,,[],"{""type"":""RenewPlan"",…}"\r\n';

/** `Accept: text/csv` (over application/json, the default). */
const wantsCsv = (accept: string | undefined) => preferred(accept, ['application/json', 'text/csv'] as const) === 'text/csv';

/** A CSV answer is the whole filtered result: paging parameters are refused, not ignored. */
function refusePaging(q: { cursor?: string; limit?: string }): void {
  const paging = (['cursor', 'limit'] as const).filter((p) => q[p] !== undefined);
  if (paging.length > 0) {
    throw badRequest(
      'A CSV answer is the whole filtered result, not a page: leave out cursor and limit (narrow it with the filters, e.g. recordedFrom and recordedTo).',
      paging.map((field) => ({ field, message: 'is not taken with Accept: text/csv' })),
    );
  }
}

/** The headers of a CSV download whose rows reflect the log up to `upTo`; the body streams. */
function sendCsv(reply: FastifyReply, name: string, upTo: bigint, body: Readable): Readable {
  reply.header('Content-Type', 'text/csv; charset=utf-8; header=present');
  reply.header('Content-Disposition', attachment(`careledger-${name}-to-${upTo}.csv`));
  reply.header('Cache-Control', 'no-store');
  return body;
}

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
    @Inject(Operations) private readonly ops: Operations,
  ) {}

  @Get('events')
  @Roles('auditor')
  @ApiOperation({ summary: 'Events in global order, filtered by serial, plan, claim, type, actor and recorded time; cursor-paginated.' })
  @ApiReadResponse(AuditEventsPage, { description: 'A page of events in global order, `{ items, nextCursor, checkpoint }`.', csv: { example: CSV_EVENTS_EXAMPLE } })
  async listAuditEvents(@Query() q: AuditEventsQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const csv = wantsCsv(accept);
    if (csv) refusePaging(q);
    await consistent(this.reads, q.minPosition);
    const filter = {
      serial: q.serial, planId: q.planId, claimId: q.claimId, type: q.type, actor: q.actor,
      recordedFrom: instantMs(q.recordedFrom), recordedTo: instantMs(q.recordedTo),
    };
    if (csv) {
      const upTo = this.reads.checkpoint();
      return sendCsv(reply, 'audit-events', upTo, csvStream(EVENT_COLUMNS, (after, limit) => this.reads.auditEvents({ ...filter, after, limit }, Number(upTo))));
    }
    const page = this.reads.auditEvents({ ...filter, after: cursorOf(q.cursor), limit: limitOf(q.limit) });
    return { items: page.items, nextCursor: nextCursor(page.next), checkpoint: this.reads.checkpoint().toString() };
  }

  @Get('decisions')
  @Roles('auditor')
  @ApiOperation({ summary: 'The decision log, a read model over the log: every accepted and refused command with its code and rule.' })
  @ApiReadResponse(DecisionsPage, { description: 'A page of decisions, `{ items, nextCursor }`.', csv: { example: CSV_DECISIONS_EXAMPLE } })
  async listDecisions(@Query() q: AuditDecisionsQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const csv = wantsCsv(accept);
    if (csv) refusePaging(q);
    await consistent(this.reads, q.minPosition);
    const filter = {
      serial: q.serial, planId: q.planId, claimId: q.claimId, command: q.type, actor: q.actor, code: q.code, outcome: q.outcome,
      recordedFrom: instantMs(q.recordedFrom), recordedTo: instantMs(q.recordedTo),
    };
    if (csv) {
      const upTo = this.reads.checkpoint();
      return sendCsv(reply, 'audit-decisions', upTo, csvStream(DECISION_COLUMNS, (after, limit) => this.reads.decisions({ ...filter, after, limit }, Number(upTo))));
    }
    const page = this.reads.decisions({ ...filter, after: cursorOf(q.cursor), limit: limitOf(q.limit) });
    return { items: page.items, nextCursor: nextCursor(page.next), checkpoint: this.reads.checkpoint().toString() };
  }

  @Get('verify')
  @Roles('auditor')
  @ApiOperation({ summary: 'Check that every event is hash-chained to the one before: from the point verified last time (or from the start with full=true), off the event loop; and up to which signed checkpoint the log is verified.' })
  @ApiReadResponse(VerifyReport, { description: 'The integrity report.' })
  async verifyLog(@Query() q: VerifyQuery) {
    const report = await this.ops.verify(q.full === 'true');
    return {
      events: report.events,
      ok: report.ok,
      firstBrokenPosition: report.firstBrokenPosition === null ? null : report.firstBrokenPosition.toString(),
      verifiedFrom: report.from === null ? '0' : report.from.position.toString(),
      verifiedUpTo: report.verifiedUpTo.position.toString(),
      checkpoint: report.checkpoint,
      store: (await this.ops.health()).store.kind,
    };
  }

  @Get('checkpoints')
  @Roles('auditor')
  @ApiOperation({ summary: 'Signed checkpoints of the log\'s head (Ed25519 over position and hash), oldest first: save them outside the store.' })
  @ApiReadResponse(CheckpointsPage, { description: 'A page of checkpoints, `{ items, next }`.' })
  async listCheckpoints(@Query() q: CheckpointsQuery) {
    const limit = limitOf(q.limit);
    const items = await this.ops.checkpoints(q.after === undefined ? null : BigInt(q.after), limit);
    return { items, next: items.length === limit ? items[items.length - 1].position : null };
  }

  @Post('checkpoints')
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Sign the log\'s head now (admin).' })
  @ApiReadResponse(SignedCheckpointView, { description: 'The checkpoint covering the head (an existing one when the head has not moved).' })
  async signCheckpoint() {
    return (await this.ops.signCheckpoint()) ?? { position: '0', hash: null, recordedAt: null, keyId: null, signature: null };
  }

  @Get('public-key')
  @Roles('auditor')
  @ApiOperation({ summary: 'The key that verifies this node\'s checkpoints (PEM, SPKI), and every key that signed checkpoints of this log.' })
  @ApiReadResponse(PublicKeyAnswer, { description: 'The verification keys.' })
  getPublicKey() {
    return this.ops.publicKeys();
  }
}
