/**
 * Authentication (Bearer token) and role checks. Routes name the roles that may call them with
 * @Roles(...); `admin` may do everything. Service-center scoping (its own center only) is checked
 * where the center is known (body, claim or path).
 */
import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../http/problem';
import { Principal, RoleName, TokenRegistry } from './tokens';

export const ROLES_KEY = 'careledger:roles';
export const PUBLIC_KEY = 'careledger:public';
export const OPEN_WHEN_KEY = 'careledger:open-when';

/** Roles allowed on a route, besides admin. */
export const Roles = (...roles: RoleName[]) => SetMetadata(ROLES_KEY, roles);
/** No token needed (the OpenAPI document says `security: []`). */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension('x-public', true));

/** What the operator opened to callers without a token (configuration). */
export class AuthOptions {
  constructor(readonly open: { metrics: boolean } = { metrics: false }) {}
}

/** The route needs its @Roles, unless the operator opened it (`AuthOptions.open[what]`). */
export const OpenWhen = (what: keyof AuthOptions['open']) => SetMetadata(OPEN_WHEN_KEY, what);

export type AuthedRequest = FastifyRequest & { principal?: Principal };

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().principal!;
});

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenRegistry) private readonly tokens: TokenRegistry,
    @Inject(AuthOptions) private readonly options: AuthOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const openWhen = this.reflector.getAllAndOverride<keyof AuthOptions['open'] | undefined>(OPEN_WHEN_KEY, targets);
    if (openWhen !== undefined && this.options.open[openWhen]) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw unauthorized();
    const principal = this.tokens.authenticate(match[1]);
    if (!principal) throw unauthorized('The token is not valid.');
    request.principal = principal;
    const roles = this.reflector.getAllAndOverride<RoleName[]>(ROLES_KEY, targets) ?? [];
    if (principal.role.kind === 'admin' || roles.includes(principal.role.kind)) return true;
    throw forbidden(`The role ${principal.roleText} may not do this.`);
  }
}

/** Service centers act for their own center only. */
export function assertCenter(principal: Principal, centerId: string): void {
  if (principal.role.kind === 'service-center' && principal.role.centerId !== centerId) {
    throw forbidden(`${principal.roleText} may only act for its own service center, not ${centerId}.`);
  }
}
