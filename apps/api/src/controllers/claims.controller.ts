/** Claims and their workflow (role service-center:<id>, its own center only; admin for any). */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Cause, Command } from '@careledger/domain';
import { claimIdFor } from '@careledger/ledger';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertCenter, CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { AtDto, ClaimDto, FulfilmentDto, PaymentDto, ReasonDto } from '../dto/commands.dto';
import { ConsistencyQuery } from '../dto/queries.dto';
import { CommandsService } from '../http/commands.service';
import { ApiCommandResponse, ApiReadResponse, ClaimAnswer, ClaimApprovalAnswer, ClaimFulfilmentAnswer, ClaimView } from '../http/openapi';
import { notFound } from '../http/problem';
import { IdParam, positionOf } from './params';

@ApiTags('claims')
@ApiBearerAuth()
@Controller('v1/claims')
export class ClaimsController {
  constructor(
    @Inject(CommandsService) private readonly commands: CommandsService,
    @Inject(Runtime) private readonly runtime: Runtime,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Open a claim. Refused here (422) when the facts already decide it; a claimRef seen before returns the first answer.' })
  @ApiCommandResponse(ClaimAnswer, { preconditions: true })
  open(
    @Body() dto: ClaimDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertCenter(principal, dto.serviceCenterId);
    return this.commands.run({
      request, reply, principal, body: request.body,
      businessKey: `claim:${dto.serviceCenterId}:${dto.claimRef}`,
      command: {
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
      },
    });
  }

  @Post(':claimId/approval')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Approve: reserves quota and fixes the fee for the approval\'s ordinal (RULES R7, C6).' })
  @ApiCommandResponse(ClaimApprovalAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  async approve(@Param('claimId', IdParam) claimId: string, @Body() dto: AtDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal) {
    const planId = await this.planOf(claimId, principal);
    return this.step(request, reply, principal, { type: 'ApproveClaim', planId, claimId, at: dto.at });
  }

  @Post(':claimId/denial')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Deny: releases any reserved quota.' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  async deny(@Param('claimId', IdParam) claimId: string, @Body() dto: ReasonDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal) {
    const planId = await this.planOf(claimId, principal);
    return this.step(request, reply, principal, { type: 'DenyClaim', planId, claimId, at: dto.at, reason: dto.reason });
  }

  @Post(':claimId/cancellation')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Cancel: releases any reserved quota.' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  async cancel(@Param('claimId', IdParam) claimId: string, @Body() dto: ReasonDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal) {
    const planId = await this.planOf(claimId, principal);
    return this.step(request, reply, principal, { type: 'CancelClaim', planId, claimId, at: dto.at, reason: dto.reason });
  }

  @Post(':claimId/payment')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Record the replacement fee paid (must equal the approved fee).' })
  @ApiCommandResponse(ClaimAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState'] })
  async pay(@Param('claimId', IdParam) claimId: string, @Body() dto: PaymentDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal) {
    const planId = await this.planOf(claimId, principal);
    return this.step(request, reply, principal, { type: 'PayClaim', planId, claimId, at: dto.at, amount: String(dto.amount), currency: dto.currency });
  }

  @Post(':claimId/fulfilment')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Issue the replacement unit: coverage moves to it (RULES I1).' })
  @ApiCommandResponse(ClaimFulfilmentAnswer, { notFound: 'ClaimNotFound', preconditions: true, conflicts: ['InvalidClaimState', 'PaymentRequired'] })
  async fulfil(@Param('claimId', IdParam) claimId: string, @Body() dto: FulfilmentDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() principal: Principal) {
    const planId = await this.planOf(claimId, principal);
    return this.step(request, reply, principal, { type: 'FulfilClaim', planId, claimId, at: dto.at, replacementSerial: dto.replacementSerial });
  }

  @Get(':claimId')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'The claim, its status, fee, payments and replacement.' })
  @ApiReadResponse(ClaimView, { notFound: 'ClaimNotFound', etag: true, description: 'The claim; ETag is its plan\'s revision.' })
  async get(@Param('claimId', IdParam) claimId: string, @Query() query: ConsistencyQuery, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.runtime.consistentRead(positionOf(query.minPosition));
    const claim = this.runtime.reads.claim(claimId);
    if (!claim) throw notFound('ClaimNotFound', `No claim ${claimId}.`);
    assertCenter(principal, claim.serviceCenterId);
    reply.header('ETag', `"${claim.revision}"`);
    return { ...claim, checkpoint: this.runtime.reads.checkpoint().toString() };
  }

  private async planOf(claimId: string, principal: Principal): Promise<string> {
    await this.runtime.consistentRead();
    const row = this.runtime.reads.claimRow(claimId);
    if (!row) throw notFound('ClaimNotFound', `No claim ${claimId}.`);
    assertCenter(principal, row.center_id);
    return row.plan_id;
  }

  private step(request: FastifyRequest, reply: FastifyReply, principal: Principal, command: Command) {
    return this.commands.run({ request, reply, principal, body: request.body, command });
  }
}
