/** The service-center directory, corrections and sweeps (role admin), and the centers' dashboards. */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Region } from '@careledger/domain';
import { Runtime } from '@careledger/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertCenter, CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { CorrectionDto, ServiceCenterDto } from '../dto/commands.dto';
import { CenterClaimsQuery, DashboardQuery } from '../dto/queries.dto';
import { CommandsService } from '../http/commands.service';
import { ApiCommandResponse, ApiReadResponse, CenterClaimsPage, CorrectionAnswer, Dashboard, ServiceCenterAnswer, SweepReport } from '../http/openapi';
import { badRequest, notFound } from '../http/problem';
import { IdParam, limitOf, positionOf } from './params';

@ApiTags('service centers')
@ApiBearerAuth()
@Controller('v1/service-centers/:centerId')
export class ServiceCentersController {
  constructor(
    @Inject(CommandsService) private readonly commands: CommandsService,
    @Inject(Runtime) private readonly runtime: Runtime,
  ) {}

  @Put()
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Register or update a service center; its region is the claims\' service region (RULES R6).' })
  @ApiCommandResponse(ServiceCenterAnswer)
  put(
    @Param('centerId', IdParam) centerId: string,
    @Body() dto: ServiceCenterDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.commands.run({
      request, reply, principal, body: request.body,
      command: { type: 'RegisterServiceCenter', centerId, name: dto.name, region: dto.region as Region, at: this.runtime.clock.now().toISOString() },
      answer: () => ({ name: dto.name, region: dto.region }),
    });
  }

  @Get('dashboard')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'Claims by status, replacements, flyaway share, express, fees and median hours to fulfilment (business dates on openedAt, inclusive).' })
  @ApiReadResponse(Dashboard, { description: 'The center\'s figures (an unknown center has none).' })
  async dashboard(@Param('centerId', IdParam) centerId: string, @Query() query: DashboardQuery, @CurrentPrincipal() principal: Principal) {
    assertCenter(principal, centerId);
    if (query.from && query.to && query.from > query.to) throw badRequest('from must not be after to.', [{ field: 'from', message: 'must not be after to' }]);
    await this.runtime.consistentRead(positionOf(query.minPosition));
    const center = this.runtime.reads.serviceCenter(centerId);
    return { ...this.runtime.reads.dashboard(centerId, query.from, query.to), name: center?.name ?? null, region: center?.region ?? null };
  }

  @Get('claims')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'The center\'s claims, oldest first, filtered by status, paginated by cursor.' })
  @ApiReadResponse(CenterClaimsPage, { description: 'A page of claims, `{ items, nextCursor }`.' })
  async claims(@Param('centerId', IdParam) centerId: string, @Query() query: CenterClaimsQuery, @CurrentPrincipal() principal: Principal) {
    assertCenter(principal, centerId);
    await this.runtime.consistentRead(positionOf(query.minPosition));
    try {
      return this.runtime.reads.centerClaims(centerId, query.status, query.cursor, limitOf(query.limit, 50));
    } catch (error) {
      if (error instanceof RangeError) throw badRequest('The cursor is not one this server issued.', [{ field: 'cursor', message: 'invalid cursor' }]);
      throw error;
    }
  }
}

@ApiTags('corrections')
@ApiBearerAuth()
@Controller('v1')
export class CorrectionsController {
  constructor(
    @Inject(CommandsService) private readonly commands: CommandsService,
    @Inject(Runtime) private readonly runtime: Runtime,
  ) {}

  @Post('corrections')
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Void or amend an earlier event with a reason (RULES X1). Replays before it show history as then known.' })
  @ApiCommandResponse(CorrectionAnswer, { notFound: 'EventNotFound', conflicts: ['AlreadyVoided'] })
  async correct(
    @Body() dto: CorrectionDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.runtime.consistentRead();
    const target = this.runtime.reads.event(dto.eventId);
    if (!target) throw notFound('EventNotFound', `No event ${dto.eventId}.`);
    return this.commands.run({
      request, reply, principal, body: request.body,
      command: { type: 'CorrectEvent', eventId: dto.eventId, streamId: target.streamId, action: dto.action, reason: dto.reason, amendment: dto.amendment ?? null },
      answer: () => ({ correctedEventId: dto.eventId, correctedType: target.type, action: dto.action }),
    });
  }

  @Post('admin/sweeps')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: 'Run the scheduled sweep now: record warranty extensions whose condition has settled (RULES W5).' })
  @ApiReadResponse(SweepReport, { description: 'What the sweep did.' })
  async sweep() {
    return this.runtime.sweep();
  }
}
