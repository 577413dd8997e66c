/**
 * Who the caller is (any valid token): its role, the actor recorded in event metadata and, for a
 * service-center token, its center. The /dashboard page asks it after sign-in to fill and lock the
 * agent's center and to offer only the actions the role may take.
 */
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { MeView } from '../dto/views.dto';
import { ApiProblemResponse, PROBLEMS } from '../http/openapi';

@ApiTags('session')
@Controller('v1/me')
export class MeController {
  @Get()
  @Roles('sales', 'device-registry', 'auditor', 'service-center', 'integration')
  @ApiOperation({ summary: 'The caller: role, actor and (for a service-center token) its center. Any valid token may ask.' })
  @ApiOkResponse({ type: MeView, description: 'The token\'s principal.' })
  @ApiProblemResponse(401, PROBLEMS[401]())
  getMe(@CurrentPrincipal() principal: Principal): MeView {
    return {
      role: principal.role.kind,
      roleText: principal.roleText,
      actor: principal.actor,
      centerId: principal.role.kind === 'service-center' ? principal.role.centerId : null,
    };
  }
}
