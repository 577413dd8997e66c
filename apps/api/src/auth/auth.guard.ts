/**
 * Authentication (Bearer token) and role checks. Routes name the roles that may call them with
 * @Roles(...); `admin` may do everything. Service-center scoping (its own center only) is checked
 * where the center is known (body, claim or path).
 */
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../http/problem';
import { Principal, RoleName, TokenRegistry } from './tokens';

export const ROLES_KEY = 'careledger:roles';
export const PUBLIC_KEY = 'careledger:public';

/** Roles allowed on a route, besides admin. */
export const Roles = (...roles: RoleName[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export type AuthedRequest = FastifyRequest & { principal?: Principal };

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().principal!;
});

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenRegistry) private readonly tokens: TokenRegistry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
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
