/** The service-center directory, corrections and sweeps (role admin), and the centers' dashboards. */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Region } from '@careledger/domain';
import { assertCenter, CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { CorrectionDto, ServiceCenterDto } from '../dto/commands.dto';
import { CenterClaimsQuery, DashboardQuery } from '../dto/queries.dto';
import { CommandRunner, type RouteContext } from '../http/command-runner';
import { CorrectionAnswer, ServiceCenterAnswer, SweepReport } from '../dto/answers.dto';
import { CenterClaimsPage, Dashboard } from '../dto/views.dto';
import { ApiCommandResponse, ApiNoBody, ApiReadResponse } from '../http/openapi';
import { badRequest } from '../http/problem';
import { consistent, Http, NoBody } from '../http/route';
import { LedgerQueries, Operations } from '../ports/ports';
import { cursorOf, IdParam, limitOf, nextCursor } from './params';

@ApiTags('service centers')
@Controller('v1/service-centers/:centerId')
export class ServiceCentersController {
  constructor(
    @Inject(CommandRunner) private readonly commands: CommandRunner,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
    @Inject(Operations) private readonly ops: Operations,
  ) {}

  @Put()
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Register or update a service center; its region is the claims\' service region (RULES R6).' })
  @ApiCommandResponse(ServiceCenterAnswer)
  putServiceCenter(@Param('centerId', IdParam) centerId: string, @Body() dto: ServiceCenterDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'RegisterServiceCenter', centerId, name: dto.name, region: dto.region as Region, at: this.ops.now().toISOString() });
  }

  @Get('dashboard')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'Claims by status, replacements, flyaway share, express, fees and median hours to fulfilment (business dates on openedAt, inclusive).' })
  @ApiReadResponse(Dashboard, { description: 'The center\'s figures (an unknown center has none).' })
  async getCenterDashboard(@Param('centerId', IdParam) centerId: string, @Query() query: DashboardQuery, @CurrentPrincipal() principal: Principal) {
    assertCenter(principal, centerId);
    if (query.from && query.to && query.from > query.to) throw badRequest('from must not be after to.', [{ field: 'from', message: 'must not be after to' }]);
    await consistent(this.reads, query.minPosition);
    const center = this.reads.center(centerId);
    return { ...this.reads.dashboard(centerId, query.from, query.to), checkpoint: this.reads.checkpoint().toString(), name: center?.name ?? null, region: center?.region ?? null };
  }

  @Get('claims')
  @Roles('service-center', 'auditor')
  @ApiOperation({ summary: 'The center\'s claims, oldest first, filtered by status, paginated by cursor.' })
  @ApiReadResponse(CenterClaimsPage, { description: 'A page of claims, `{ items, nextCursor }`.' })
  async listCenterClaims(@Param('centerId', IdParam) centerId: string, @Query() query: CenterClaimsQuery, @CurrentPrincipal() principal: Principal) {
    assertCenter(principal, centerId);
    await consistent(this.reads, query.minPosition);
    const page = this.reads.centerClaims(centerId, query.status, cursorOf(query.cursor), limitOf(query.limit, 50));
    return { items: page.items, nextCursor: nextCursor(page.next) };
  }
}

@ApiTags('corrections')
@Controller('v1')
export class CorrectionsController {
  constructor(
    @Inject(CommandRunner) private readonly commands: CommandRunner,
    @Inject(Operations) private readonly ops: Operations,
  ) {}

  @Post('corrections')
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Void or amend an earlier event with a reason (RULES X1). Replays before it show history as then known.' })
  @ApiCommandResponse(CorrectionAnswer, { notFound: 'EventNotFound', conflicts: ['AlreadyVoided'] })
  correctEvent(@Body() dto: CorrectionDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'CorrectEvent', eventId: dto.eventId, action: dto.action, reason: dto.reason, amendment: dto.amendment ?? null });
  }

  @Post('admin/sweeps')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: 'Run the scheduled sweep now: record warranty extensions whose condition has settled (RULES W5).' })
  @ApiNoBody()
  @ApiReadResponse(SweepReport, { description: 'What the sweep did.' })
  runSweep(@NoBody() _none: void) {
    return this.ops.sweep();
  }
}
