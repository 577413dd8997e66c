/**
 * Who the caller is (any valid token): its role, the actor recorded in event metadata and, for a
 * service-center token, its center. The /dashboard page asks it after sign-in to fill and lock the
 * agent's center and to offer only the actions the role may take.
 */
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/auth.guard';
import type { Principal } from '../auth/tokens';
import { ApiProblemResponse, Problem } from '../http/openapi';
import { PROBLEM_BASE } from '../http/problem';

export class MeView {
  @ApiProperty({ description: 'The role\'s kind.', enum: ['admin', 'sales', 'device-registry', 'auditor', 'service-center'], example: 'service-center' })
  role: string;

  @ApiProperty({ description: 'The role as the tokens file writes it.', example: 'service-center:SC-1' })
  roleText: string;

  @ApiProperty({ description: 'The actor recorded in the metadata of the events this token appends: the token\'s name, else its role.', example: 'service-center:SC-1' })
  actor: string;

  @ApiProperty({ description: 'The service center a service-center token acts for; null for every other role.', nullable: true, type: String, example: 'SC-1' })
  centerId: string | null;
}

@ApiTags('session')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  @Get()
  @Roles('sales', 'device-registry', 'auditor', 'service-center')
  @ApiOperation({ summary: 'The caller: role, actor and (for a service-center token) its center. Any valid token may ask.' })
  @ApiExtraModels(Problem)
  @ApiOkResponse({ type: MeView, description: 'The token\'s principal.' })
  @ApiProblemResponse(401, {
    description: 'No valid Bearer token.',
    example: { type: `${PROBLEM_BASE}Unauthorized`, title: 'Unauthorized', status: 401, detail: 'A valid Bearer token is required.', code: 'Unauthorized' },
  })
  me(@CurrentPrincipal() principal: Principal): MeView {
    return {
      role: principal.role.kind,
      roleText: principal.roleText,
      actor: principal.actor,
      centerId: principal.role.kind === 'service-center' ? principal.role.centerId : null,
    };
  }
}
