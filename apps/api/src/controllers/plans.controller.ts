/** Plans (role sales): purchase, binding of card plans, renewal, Care Refresh+. */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Region } from '@careledger/domain';
import { planIdForOrder } from '@careledger/ledger';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { BindingDto, CarePlusDto, PurchaseDto, RenewalDto } from '../dto/commands.dto';
import { ConsistencyQuery } from '../dto/queries.dto';
import { CommandsService } from '../http/commands.service';
import { ApiCommandResponse, ApiReadResponse, PlanAnswer, PlanView } from '../http/openapi';
import { notFound } from '../http/problem';
import { IdParam, positionOf } from './params';

const money = (m?: { amount: string | number; currency: string }) => (m ? { amount: String(m.amount), currency: m.currency } : null);

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/plans')
export class PlansController {
  constructor(
    @Inject(CommandsService) private readonly commands: CommandsService,
    @Inject(Runtime) private readonly runtime: Runtime,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Buy a 1- or 2-year plan (bundle, online by serial, or card bound later). An orderId seen before returns the first answer.' })
  @ApiCommandResponse(PlanAnswer, { conflicts: ['PlanAlreadyExists'] })
  purchase(
    @Body() dto: PurchaseDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    const planId = dto.planId ?? planIdForOrder(dto.orderId);
    return this.commands.run({
      request, reply, principal, body: request.body,
      businessKey: `order:${dto.orderId}`,
      command: {
        type: 'PurchasePlan',
        planId,
        term: dto.term,
        model: dto.model,
        region: dto.region as Region,
        channel: dto.channel,
        purchasedAt: dto.purchasedAt,
        orderId: dto.orderId,
        serial: dto.serial ?? null,
        deliveredAt: dto.deliveredAt ?? null,
        price: money(dto.price),
      },
    });
  }

  @Post(':planId/binding')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Bind a card plan to a unit (RULES P4 is measured at the binding).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true, conflicts: ['PlanAlreadyBound'] })
  bind(
    @Param('planId', IdParam) planId: string,
    @Body() dto: BindingDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.commands.run({
      request, reply, principal, body: request.body,
      command: { type: 'BindPlan', planId, serial: dto.serial, boundAt: dto.boundAt },
    });
  }

  @Post(':planId/renewals')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Renew with a 1-Year plan (RULES N1, N2, P2).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true })
  renew(
    @Param('planId', IdParam) planId: string,
    @Body() dto: RenewalDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.commands.run({
      request, reply, principal, body: request.body,
      businessKey: `order:${dto.orderId}`,
      command: { type: 'RenewPlan', planId, purchasedAt: dto.purchasedAt, orderId: dto.orderId, term: dto.term ?? '1y', price: money(dto.price) },
    });
  }

  @Post(':planId/care-plus')
  @HttpCode(201)
  @Roles('sales')
  @ApiOperation({ summary: 'Buy Care Refresh+ for a 1-Year plan (RULES N3).' })
  @ApiCommandResponse(PlanAnswer, { notFound: 'PlanNotFound', preconditions: true })
  carePlus(
    @Param('planId', IdParam) planId: string,
    @Body() dto: CarePlusDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.commands.run({
      request, reply, principal, body: request.body,
      businessKey: `order:${dto.orderId}`,
      command: { type: 'PurchaseCarePlus', planId, purchasedAt: dto.purchasedAt, orderId: dto.orderId, price: money(dto.price) },
    });
  }

  @Get(':planId')
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'The plan, its chain, current unit and revision (send it back in If-Match).' })
  @ApiReadResponse(PlanView, { notFound: 'PlanNotFound', etag: true, description: 'The plan as of now.' })
  async get(@Param('planId', IdParam) planId: string, @Query() query: ConsistencyQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.runtime.consistentRead(positionOf(query.minPosition));
    const plan = this.runtime.reads.plan(planId, this.runtime.clock.now());
    if (!plan) throw notFound('PlanNotFound', `No plan ${planId}.`);
    reply.header('ETag', `"${plan.revision}"`);
    return { ...plan, checkpoint: this.runtime.reads.checkpoint().toString() };
  }
}
