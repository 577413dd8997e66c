/** Audit (role auditor or admin): the event log by filters, the decision log, integrity, signed checkpoints. */
import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.guard';
import { AuditDecisionsQuery, AuditEventsQuery, CheckpointsQuery, VerifyQuery } from '../dto/queries.dto';
import { AuditEventsPage, CheckpointsPage, DecisionsPage, PublicKeyAnswer, SignedCheckpointView, VerifyReport } from '../dto/views.dto';
import { ApiReadResponse } from '../http/openapi';
import { consistent } from '../http/route';
import { LedgerQueries, Operations } from '../ports/ports';
import { cursorOf, limitOf, nextCursor } from './params';

const instantMs = (value: string | undefined) => (value ? Date.parse(value) : undefined);

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
  @ApiReadResponse(AuditEventsPage, { description: 'A page of events in global order, `{ items, nextCursor, checkpoint }`.' })
  async listAuditEvents(@Query() q: AuditEventsQuery) {
    await consistent(this.reads, q.minPosition);
    const page = this.reads.auditEvents({
      serial: q.serial, planId: q.planId, claimId: q.claimId, type: q.type, actor: q.actor,
      recordedFrom: instantMs(q.recordedFrom), recordedTo: instantMs(q.recordedTo), after: cursorOf(q.cursor), limit: limitOf(q.limit),
    });
    return { items: page.items, nextCursor: nextCursor(page.next), checkpoint: this.reads.checkpoint().toString() };
  }

  @Get('decisions')
  @Roles('auditor')
  @ApiOperation({ summary: 'The decision log, a read model over the log: every accepted and refused command with its code and rule.' })
  @ApiReadResponse(DecisionsPage, { description: 'A page of decisions, `{ items, nextCursor }`.' })
  async listDecisions(@Query() q: AuditDecisionsQuery) {
    await consistent(this.reads, q.minPosition);
    const page = this.reads.decisions({
      serial: q.serial, planId: q.planId, claimId: q.claimId, command: q.type, actor: q.actor, code: q.code, outcome: q.outcome,
      recordedFrom: instantMs(q.recordedFrom), recordedTo: instantMs(q.recordedTo), after: cursorOf(q.cursor), limit: limitOf(q.limit),
    });
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
