/**
 * Authentication and scopes on every route (a global guard). The credential is, in this order:
 * - `Authorization: Bearer <API key>` or `X-API-Key: <API key>` (api-keys.ts);
 * - `Authorization: Bearer <study token>` issued by this gateway (events/tokens): let through on
 *   the DICOMweb routes, where StudyTokenGuard confines it to its study;
 * - `Authorization: Bearer <JWT>` of the configured identity provider (jwt-authenticator.ts).
 * With `auth.mode: off` (loopback only) a request without one may do everything; a credential
 * that is sent is still checked. What each route needs is route-access.ts. A refused upload is
 * answered before its body is read, and its connection closed.
 */
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { bearerTokenOf } from '../events/tokens/study-token.guard';
import { isStudyTokenShaped } from '../events/tokens/study-token-shape';
import { API_KEY_PREFIX, ApiKeys } from './api-keys';
import { Forbidden, Unauthenticated } from './auth-errors';
import { JwtAuthenticator } from './jwt-authenticator';
import { attachPrincipal, EVERYTHING, mayUse, NOTHING, Principal } from './principal';
import { routeAccess } from './route-access';

export const JWT_AUTHENTICATOR = Symbol('JWT_AUTHENTICATOR');

function looksLikeJwt(token: string): boolean {
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly apiKeys: ApiKeys,
    @Inject(JWT_AUTHENTICATOR) private readonly jwt: JwtAuthenticator | undefined,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const auth = this.config.security.auth;
    const access = routeAccess(
      request.method.toUpperCase(),
      request.routeOptions?.url ?? '',
      (request.params ?? {}) as Record<string, unknown>,
      (request.query ?? {}) as Record<string, unknown>,
      this.config.defaultStore,
      auth.publicMetrics,
    );
    if (access.kind === 'public') {
      // Health checks and docs answer whatever credential comes along (a probe's stale token).
      const principal = await this.principalOf(request).catch(() => undefined);
      if (principal) attachPrincipal(request, principal);
      return true;
    }
    try {
      const principal = await this.principalOf(request);
      if (principal) attachPrincipal(request, principal);
      const who = principal ?? (auth.mode === 'off' ? { kind: 'anonymous' as const, id: 'anonymous', grants: EVERYTHING } : undefined);
      if (!who) throw new Unauthenticated('a credential is required: Authorization: Bearer <token>, or X-API-Key', false);
      if (!principal) attachPrincipal(request, who);
      this.check(who, access);
      return true;
    } catch (e) {
      if (request.method !== 'GET' && request.method !== 'HEAD') reply.header('connection', 'close');
      throw e;
    }
  }

  /** The request's credential, verified; undefined when it sends none. */
  private async principalOf(request: FastifyRequest): Promise<Principal | undefined> {
    const headerKey = request.headers['x-api-key'];
    const bearer = bearerTokenOf(request.headers.authorization);
    if (headerKey !== undefined) return this.apiKey(Array.isArray(headerKey) ? headerKey[0] : headerKey);
    if (bearer === undefined) return undefined;
    const token = bearer.token;
    if (token === undefined) throw new Unauthenticated('no token after "Bearer"', true);
    if (token.startsWith(API_KEY_PREFIX)) return this.apiKey(token);
    // Study tokens are checked, and confined to their study, by StudyTokenGuard.
    if (isStudyTokenShaped(token)) return { kind: 'study-token', id: 'study-token', grants: NOTHING };
    if (!this.jwt) {
      const reason = looksLikeJwt(token) ? 'bearer tokens are not accepted here: no identity provider is configured (auth.jwt)' : 'the token is malformed (not a JWT)';
      throw new Unauthenticated(reason, true);
    }
    return this.jwt.authenticate(token);
  }

  private apiKey(key: string): Principal {
    if (!this.config.security.auth.apiKeys) throw new Unauthenticated('API keys are not accepted here (auth.apiKeys is off)', true);
    const principal = this.apiKeys.authenticate(key.trim());
    if (!principal) throw new Unauthenticated('the API key is not valid (unknown or revoked)', true);
    return principal;
  }

  private check(who: Principal, access: ReturnType<typeof routeAccess>): void {
    const prefix = this.config.security.auth.scopePrefix;
    if (access.kind === 'authenticated' || access.kind === 'public') return;
    if (who.kind === 'study-token') {
      // Only DICOMweb routes, where StudyTokenGuard decides.
      if (access.kind === 'store' && !access.orAdmin) return;
      throw new Forbidden('a study token reaches its study through DICOMweb only', `${prefix}admin`);
    }
    if (access.kind === 'admin') {
      if (!who.grants.admin) throw new Forbidden(`${who.id} may not administer this gateway`, `${prefix}admin`);
      return;
    }
    if (mayUse(who.grants, access.permission, access.store)) return;
    if (access.orAdmin && who.grants.admin) return;
    throw new Forbidden(`${who.id} may not ${access.permission} store "${access.store}"`, `${prefix}${access.permission}:${access.store}`);
  }
}
