/** Plans (role sales): purchase, binding of card plans, renewal, Care Refresh+. */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Region } from '@careledger/domain';
import { planIdForOrder } from '@careledger/ledger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { BindingDto, CarePlusDto, PurchaseDto, RenewalDto } from '../dto/commands.dto';
import { ConsistencyQuery } from '../dto/queries.dto';
import { CommandRunner, type RouteContext } from '../http/command-runner';
import { PlanAnswer } from '../dto/answers.dto';
import { PlanView } from '../dto/views.dto';
import { ApiCommandResponse, ApiReadResponse } from '../http/openapi';
import { notFound } from '../http/problem';
import { consistent, Http } from '../http/route';
import { redactPlanClaims, viewerCenter } from '../http/visibility';
import { LedgerQueries, Operations } from '../ports/ports';
import { IdParam } from './params';

const money = (m?: { amount: string | number; currency: string }) => (m ? { amount: String(m.amount), currency: m.currency } : null);

@ApiTags('plans')
@Controller('v1/plans')
export class PlansController {
  constructor(
    @Inject(CommandRunner) private readonly commands: CommandRunner,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
    @Inject(Operations) private readonly ops: Operations,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Buy a 1- or 2-year plan (bundle, online by serial, or card bound later). An orderId seen before returns the first answer.' })
  @ApiCommandResponse(PlanAnswer, { conflicts: ['PlanAlreadyExists'] })
  purchasePlan(@Body() dto: PurchaseDto, @Http() http: RouteContext) {
    return this.commands.run(http, {
      type: 'PurchasePlan',
      planId: dto.planId ?? planIdForOrder(dto.orderId),
      term: dto.term,
      model: dto.model,
      region: dto.region as Region,
      channel: dto.channel,
      purchasedAt: dto.purchasedAt,
      orderId: dto.orderId,
      serial: dto.serial ?? null,
      deliveredAt: dto.deliveredAt ?? null,
      price: money(dto.price),
    });
  }

  @Post(':planId/binding')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Bind a card plan to a unit (RULES P4 is measured at the binding).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true, conflicts: ['PlanAlreadyBound'] })
  bindPlan(@Param('planId', IdParam) planId: string, @Body() dto: BindingDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'BindPlan', planId, serial: dto.serial, boundAt: dto.boundAt });
  }

  @Post(':planId/renewals')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Renew with a 1-Year plan (RULES N1, N2, P2).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true })
  renewPlan(@Param('planId', IdParam) planId: string, @Body() dto: RenewalDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'RenewPlan', planId, purchasedAt: dto.purchasedAt, orderId: dto.orderId, term: dto.term ?? '1y', price: money(dto.price) });
  }

  @Post(':planId/care-plus')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Buy Care Refresh+ for a 1-Year plan (RULES N3).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true })
  buyCarePlus(@Param('planId', IdParam) planId: string, @Body() dto: CarePlusDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'PurchaseCarePlus', planId, purchasedAt: dto.purchasedAt, orderId: dto.orderId, price: money(dto.price) });
  }

  @Get(':planId')
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'The plan, its chain, current unit and revision (send it back in If-Match).' })
  @ApiReadResponse(PlanView, { notFound: 'PlanNotFound', etag: true, description: 'The plan as of now.' })
  async getPlan(
    @Param('planId', IdParam) planId: string,
    @Query() query: ConsistencyQuery,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await consistent(this.reads, query.minPosition);
    const plan = this.reads.plan(planId, this.ops.now());
    if (!plan) throw notFound('PlanNotFound', `No plan ${planId}.`);
    reply.header('ETag', `"${plan.revision}"`);
    const claims = plan.claims.map((c) => ({ ...c, serviceCenterId: this.reads.claim(c.claimId)?.serviceCenterId ?? null }));
    return { ...plan, claims: redactPlanClaims(claims, viewerCenter(principal)), checkpoint: this.reads.checkpoint().toString() };
  }
}
