/** Claims and their workflow (role service-center:<id>, its own center only; admin for any). */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Cause } from '@careledger/domain';
import { claimIdFor } from '@careledger/ledger';
import type { FastifyReply } from 'fastify';
import { assertCenter, CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { AtDto, ClaimDto, FulfilmentDto, PaymentDto, ReasonDto } from '../dto/commands.dto';
import { ConsistencyQuery } from '../dto/queries.dto';
import { CommandRunner, type RouteContext } from '../http/command-runner';
import { ClaimAnswer, ClaimApprovalAnswer, ClaimFulfilmentAnswer } from '../dto/answers.dto';
import { ClaimView } from '../dto/views.dto';
import { ApiCommandResponse, ApiReadResponse } from '../http/openapi';
import { notFound } from '../http/problem';
import { consistent, Http } from '../http/route';
import { LedgerQueries } from '../ports/ports';
import { IdParam } from './params';

@ApiTags('claims')
@Controller('v1/claims')
export class ClaimsController {
  constructor(
    @Inject(CommandRunner) private readonly commands: CommandRunner,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Open a claim. Refused here (422) when the facts already decide it; a claimRef seen before returns the first answer.' })
  @ApiCommandResponse(ClaimAnswer, { preconditions: true })
  openClaim(@Body() dto: ClaimDto, @Http() http: RouteContext) {
    return this.commands.run(http, {
      type: 'OpenClaim',
      claimId: claimIdFor(dto.serviceCenterId, dto.claimRef),
      claimRef: dto.claimRef,
      serial: dto.serial,
      kind: dto.kind,
      cause: dto.cause as Cause,
      incidentAt: dto.incidentAt,
      openedAt: dto.openedAt,
      serviceCenterId: dto.serviceCenterId,
      express: dto.express ?? false,
      flightRecordsSynced: dto.flightRecordsSynced ?? false,
    });
  }

  @Post(':claimId/approval')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Approve: reserves quota and fixes the fee for the approval\'s ordinal (RULES R7, C6).' })
  @ApiCommandResponse(ClaimApprovalAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  approveClaim(@Param('claimId', IdParam) claimId: string, @Body() dto: AtDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'ApproveClaim', claimId, at: dto.at });
  }

  @Post(':claimId/denial')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Deny: releases any reserved quota.' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  denyClaim(@Param('claimId', IdParam) claimId: string, @Body() dto: ReasonDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'DenyClaim', claimId, at: dto.at, reason: dto.reason });
  }

  @Post(':claimId/cancellation')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Cancel: releases any reserved quota.' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  cancelClaim(@Param('claimId', IdParam) claimId: string, @Body() dto: ReasonDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'CancelClaim', claimId, at: dto.at, reason: dto.reason });
  }

  @Post(':claimId/payment')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Record the replacement fee paid (must equal the approved fee).' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  payClaim(@Param('claimId', IdParam) claimId: string, @Body() dto: PaymentDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'PayClaim', claimId, at: dto.at, amount: String(dto.amount), currency: dto.currency });
  }

  @Post(':claimId/fulfilment')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Issue the replacement unit: coverage moves to it (RULES I1).' })
  @ApiCommandResponse(ClaimFulfilmentAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState', 'PaymentRequired'] })
  fulfilClaim(@Param('claimId', IdParam) claimId: string, @Body() dto: FulfilmentDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'FulfilClaim', claimId, at: dto.at, replacementSerial: dto.replacementSerial });
  }

  @Get(':claimId')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'The claim, its status, fee, payments and replacement.' })
  @ApiReadResponse(ClaimView, { notFound: 'ClaimNotFound', etag: true, description: 'The claim; ETag is its plan\'s revision.' })
  async getClaim(@Param('claimId', IdParam) claimId: string, @Query() query: ConsistencyQuery, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    await consistent(this.reads, query.minPosition);
    const claim = this.reads.claim(claimId);
    if (!claim) throw notFound('ClaimNotFound', `No claim ${claimId}.`);
    assertCenter(principal, claim.serviceCenterId);
    reply.header('ETag', `"${claim.revision}"`);
    return { ...claim, checkpoint: this.reads.checkpoint().toString() };
  }
}
