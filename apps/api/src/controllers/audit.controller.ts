/** Audit (role auditor or admin): the event log by filters, the decision log, integrity. */
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { decodeCursor, encodeCursor } from '@careledger/projections';
import { Runtime } from '@careledger/runtime';
import { Roles } from '../auth/auth.guard';
import { AuditDecisionsQuery, AuditEventsQuery } from '../dto/queries.dto';
import { ApiReadResponse, AuditEventsPage, DecisionsPage, VerifyReport } from '../http/openapi';
import { badRequest } from '../http/problem';
import { limitOf, positionOf } from './params';

const invalidCursor = () => badRequest('The cursor is not one this server issued.', [{ field: 'cursor', message: 'invalid cursor' }]);

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(Runtime) private readonly runtime: Runtime) {}

  @Get('events')
  @Roles('auditor')
  @ApiOperation({ summary: 'Events in global order, filtered by serial, plan, claim, type, actor and recorded time; cursor-paginated.' })
  @ApiReadResponse(AuditEventsPage, { description: 'A page of events in global order, `{ items, nextCursor, checkpoint }`.' })
  async events(@Query() q: AuditEventsQuery) {
    await this.runtime.consistentRead(positionOf(q.minPosition));
    try {
      const page = this.runtime.reads.auditEvents({
        serial: q.serial,
        planId: q.planId,
        claimId: q.claimId,
        type: q.type,
        actor: q.actor,
        recordedFrom: q.recordedFrom ? Date.parse(q.recordedFrom) : undefined,
        recordedTo: q.recordedTo ? Date.parse(q.recordedTo) : undefined,
        cursor: q.cursor,
        limit: limitOf(q.limit),
      });
      return { ...page, checkpoint: this.runtime.reads.checkpoint().toString() };
    } catch (error) {
      if (error instanceof RangeError) throw invalidCursor();
      throw error;
    }
  }

  @Get('decisions')
  @Roles('auditor')
  @ApiOperation({ summary: 'The decision log: every accepted and refused command with its code and rule.' })
  @ApiReadResponse(DecisionsPage, { description: 'A page of decisions, `{ items, nextCursor }`.' })
  decisions(@Query() q: AuditDecisionsQuery) {
    let after: number | undefined;
    if (q.cursor) {
      try {
        after = decodeCursor(q.cursor);
      } catch {
        throw invalidCursor();
      }
    }
    const limit = limitOf(q.limit);
    const rows = this.runtime.local.decisions({
      serial: q.serial,
      planId: q.planId,
      claimId: q.claimId,
      type: q.type,
      actor: q.actor,
      code: q.code,
      outcome: q.outcome,
      recordedFrom: q.recordedFrom ? Date.parse(q.recordedFrom) : undefined,
      recordedTo: q.recordedTo ? Date.parse(q.recordedTo) : undefined,
      after,
      limit: limit + 1,
    });
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(({ id, command, ...rest }) => ({ decisionId: String(id), type: command, command, ...rest }));
    return { items, nextCursor: more ? encodeCursor(rows[limit - 1].id) : null };
  }

  @Get('verify')
  @Roles('auditor')
  @ApiOperation({ summary: 'Re-read the whole log and check every event\'s hash chains to the one before.' })
  @ApiReadResponse(VerifyReport, { description: 'The integrity report.' })
  async verify() {
    const report = await this.runtime.store.verifyIntegrity();
    return {
      events: report.events,
      ok: report.ok,
      firstBrokenPosition: report.firstBrokenPosition === null ? null : report.firstBrokenPosition.toString(),
      store: this.runtime.store.kind,
    };
  }
}
