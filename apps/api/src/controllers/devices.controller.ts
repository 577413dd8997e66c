/** Device facts (role device-registry), service records, goodwill, and the unit's read views. */
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Region } from '@careledger/domain';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { ActivationDto, PairingDto, ServiceRecordDto, VerificationDto, WarrantyExtensionDto } from '../dto/commands.dto';
import { EntitlementsQuery, KnownAtQuery } from '../dto/queries.dto';
import { CommandRunner, type RouteContext } from '../http/command-runner';
import { DeviceFactAnswer, GoodwillAnswer, ServiceRecordAnswer } from '../dto/answers.dto';
import { Entitlements, History, Timeline } from '../dto/views.dto';
import { ApiCommandResponse, ApiReadResponse } from '../http/openapi';
import { notFound } from '../http/problem';
import { consistent, Http } from '../http/route';
import { ClaimOwner, claimOwners, redactConflicts, redactHistory, viewerCenter } from '../http/visibility';
import { LedgerQueries, Operations } from '../ports/ports';
import { SerialParam } from './params';

function redactTimelineView(view: unknown, owners: Map<string, ClaimOwner>, center: string): unknown {
  const v = view as { conflicts?: { detail: string }[] };
  return v && Array.isArray(v.conflicts) && v.conflicts.length > 0 ? { ...v, conflicts: redactConflicts(v.conflicts, owners, center) } : view;
}

const unknownDevice = (serial: string) => notFound('DeviceNotFound', `The ledger has no record of ${serial}.`);

@ApiTags('devices')
@Controller('v1/devices/:serial')
export class DevicesController {
  constructor(
    @Inject(CommandRunner) private readonly commands: CommandRunner,
    @Inject(LedgerQueries) private readonly reads: LedgerQueries,
    @Inject(Operations) private readonly ops: Operations,
  ) {}

  @Post('activation')
  @HttpCode(201)
  @Roles('device-registry')
  @ApiOperation({ summary: 'Record the unit\'s activation (model, sales region, instant).' })
  @ApiCommandResponse(DeviceFactAnswer, { conflicts: ['AlreadyActivated'] })
  activateDevice(@Param('serial', SerialParam) serial: string, @Body() dto: ActivationDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'ActivateDevice', serial, model: dto.model, region: dto.region as Region, activatedAt: dto.activatedAt });
  }

  @Post('pairings')
  @HttpCode(201)
  @Roles('device-registry')
  @ApiOperation({ summary: 'Record an account or remote-controller binding or unbinding (RULES R4).' })
  @ApiCommandResponse(DeviceFactAnswer)
  recordPairing(@Param('serial', SerialParam) serial: string, @Body() dto: PairingDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'ChangePairing', serial, kind: dto.kind, ref: dto.ref, action: dto.action, at: dto.at });
  }

  @Post('verifications')
  @HttpCode(201)
  @Roles('device-registry')
  @ApiOperation({ summary: 'Record a passed video verification or online repair inspection (RULES P4 d/e).' })
  @ApiCommandResponse(DeviceFactAnswer)
  recordVerification(@Param('serial', SerialParam) serial: string, @Body() dto: VerificationDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'RecordVerification', serial, method: dto.method, notifiedAt: dto.notifiedAt });
  }

  @Post('service-records')
  @HttpCode(201)
  @Roles('service-center')
  @ApiOperation({ summary: 'Record a warranty repair, discounted repair or factory maintenance (RULES C9, R8).' })
  @ApiCommandResponse(ServiceRecordAnswer)
  recordService(@Param('serial', SerialParam) serial: string, @Body() dto: ServiceRecordDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'RecordService', serial, kind: dto.kind, at: dto.at, serviceCenterId: dto.serviceCenterId });
  }

  @Post('warranty-extensions')
  @HttpCode(201)
  @Roles()
  @ApiOperation({ summary: 'Grant a goodwill warranty extension (admin; RULES W5).' })
  @ApiCommandResponse(GoodwillAnswer)
  grantGoodwill(@Param('serial', SerialParam) serial: string, @Body() dto: WarrantyExtensionDto, @Http() http: RouteContext) {
    return this.commands.run(http, { type: 'GrantGoodwill', serial, months: dto.months, reason: dto.reason, at: dto.at });
  }

  @Get('entitlements')
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'What the unit is entitled to at a business time `at`, as the ledger knew it at `knownAt`; with explain=true, the rules and events behind each field.' })
  @ApiReadResponse(Entitlements, { notFound: 'DeviceNotFound', description: 'The entitlements view (API.md); `explanation` only with explain=true.' })
  async getEntitlements(
    @Param('serial', SerialParam) serial: string,
    @Query() query: EntitlementsQuery,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    await consistent(this.reads, query.minPosition);
    const json = await this.reads.entitlements(serial, { at: query.at, knownAt: query.knownAt, now: this.ops.now(), explain: query.explain === 'true' });
    if (json === null) throw unknownDevice(serial);
    reply.type('application/json; charset=utf-8');
    const center = viewerCenter(principal);
    // the view is served as the read model wrote it; only a conflict's detail may name another center's claim
    if (center === null || json.includes('"conflicts":[]')) return json;
    const view = JSON.parse(json) as { conflicts: { detail: string }[] };
    view.conflicts = redactConflicts(view.conflicts, claimOwners((await this.reads.history(serial)) ?? []), center);
    return JSON.stringify(view);
  }

  @Get('history')
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'Every event that touched the unit or its chain, inherited ones too, in global order.' })
  @ApiReadResponse(History, { notFound: 'DeviceNotFound', description: 'The unit\'s events, `{ events }`.' })
  async getHistory(@Param('serial', SerialParam) serial: string, @Query() query: KnownAtQuery, @CurrentPrincipal() principal: Principal) {
    await consistent(this.reads, query.minPosition);
    const events = await this.reads.history(serial, query.knownAt);
    if (!events) throw unknownDevice(serial);
    return { serial, checkpoint: this.reads.checkpoint().toString(), events: redactHistory(events, viewerCenter(principal)) };
  }

  @Get('timeline')
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'The entitlement view after each event, as the ledger knew it when the event was recorded (disputes).' })
  @ApiReadResponse(Timeline, { notFound: 'DeviceNotFound', description: 'The view after each event, `{ entries }`.' })
  async getTimeline(@Param('serial', SerialParam) serial: string, @Query() query: KnownAtQuery, @CurrentPrincipal() principal: Principal) {
    await consistent(this.reads, query.minPosition);
    const knownAt = query.knownAt ?? this.ops.now().toISOString();
    const entries = await this.reads.timeline(serial, knownAt);
    if (!entries) throw unknownDevice(serial);
    const center = viewerCenter(principal);
    const owners = center === null ? new Map() : claimOwners((await this.reads.history(serial)) ?? []);
    return {
      serial,
      knownAt,
      checkpoint: this.reads.checkpoint().toString(),
      entries: center === null ? entries : entries.map((e) => ({ ...e, view: redactTimelineView(e.view, owners, center) })),
    };
  }
}
