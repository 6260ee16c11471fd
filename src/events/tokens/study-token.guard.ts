/**
 * Enforces study tokens on the DICOMweb routes. Only requests with `Authorization: Bearer <a
 * token claiming to be a study token>` are concerned (study-token-shape.ts); every other request
 * is left to the authentication guard (auth/auth.guard.ts).
 *
 * - not a valid study token (malformed, bad signature, expired, wrong issuer/audience/claims):
 *   401 with `WWW-Authenticate: Bearer error="invalid_token"`;
 * - valid, but the request is not within the token's store and study: 403 (`insufficient_scope`).
 *   Allowed: `GET|HEAD .../studies/{study}` and everything below it, `POST .../studies` (STOW
 *   refuses instances of other studies, stow.service.ts) and `POST .../studies/{study}`, at
 *   /stores/{store}/dicomweb or, for the default store, /dicomweb.
 *
 * The scope is checked twice, independently: on the raw request path (decoded segment by
 * segment; dot segments and encoded slashes refused, empty segments ignored) and on the route
 * parameters the handler will act on. Both must agree with the token.
 */
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { DICOMWEB_PREFIXES } from '../../dicomweb/dicomweb-prefixes';
import { DicomwebError } from '../../dicomweb/errors';
import { attachStudyToken, StudyTokenScope } from './study-token-request';
import { isStudyTokenShaped } from './study-token-shape';
import { StudyTokenService } from './study-token.service';

/** 401: the bearer token is not a valid study token. */
export class StudyTokenRejected extends DicomwebError {
  constructor(reason: string) {
    super(401, `invalid token: ${reason}`, { 'www-authenticate': `Bearer error="invalid_token", error_description="${quoted(reason)}"` });
  }
}

/** 403: a valid study token, used outside its store or study. */
export class OutsideStudyTokenScope extends DicomwebError {
  constructor(reason: string) {
    super(403, `outside the token's scope: ${reason}`, { 'www-authenticate': `Bearer error="insufficient_scope", error_description="${quoted(reason)}"` });
  }
}

function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 200);
}

const ROUTE_PREFIXES = DICOMWEB_PREFIXES.map((p) => `/${p}`);

/** Whether a route template (e.g. "/stores/:store/dicomweb/studies/:study") is a DICOMweb route. */
export function isDicomwebRoute(routeUrl: string): boolean {
  return ROUTE_PREFIXES.some((p) => routeUrl === p || routeUrl.startsWith(`${p}/`));
}

export type ParsedDicomwebPath = { ok: true; store: string | undefined; rest: string[] } | { ok: false; reason: string };

/**
 * The store (undefined: the /dicomweb prefix of the default store) and the decoded segments after
 * the DICOMweb root of a raw request URL. Query and fragment are dropped, empty segments (double
 * and trailing slashes) ignored; malformed percent-encoding, `.`/`..` (also encoded), encoded
 * slashes, backslashes and control characters make the path unusable.
 */
export function parseDicomwebPath(rawUrl: string): ParsedDicomwebPath {
  const path = rawUrl.split(/[?#]/, 1)[0];
  if (!path.startsWith('/')) return { ok: false, reason: 'not an origin-form request path' };
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: 'malformed percent-encoding in the path' };
    }
    if (segment === '.' || segment === '..') return { ok: false, reason: 'dot segments are not allowed in the path' };
    if (/[/\\\x00-\x1f\x7f]/.test(segment)) return { ok: false, reason: 'encoded slashes or control characters in the path' };
    segments.push(segment);
  }
  if (segments[0] === 'dicomweb') return { ok: true, store: undefined, rest: segments.slice(1) };
  if (segments[0] === 'stores' && segments.length >= 3 && segments[2] === 'dicomweb') return { ok: true, store: segments[1], rest: segments.slice(3) };
  return { ok: false, reason: 'not a DICOMweb path' };
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Why a request (method, raw URL, route parameters) is outside the token's scope; undefined when
 * within it.
 */
export function studyTokenScopeRefusal(
  method: string,
  rawUrl: string,
  params: Record<string, unknown> | undefined,
  token: StudyTokenScope,
  defaultStore: string,
): string | undefined {
  const parsed = parseDicomwebPath(rawUrl);
  if (!parsed.ok) return parsed.reason;
  const pathStore = parsed.store ?? defaultStore;
  if (pathStore !== token.store) return `the token is for store "${token.store}" only`;
  // What the handler will act on must be the same store and study.
  const paramStore = typeof params?.store === 'string' ? params.store : params?.store === undefined ? defaultStore : undefined;
  if (paramStore !== token.store) return `the token is for store "${token.store}" only`;
  if (params?.study !== undefined && params.study !== token.study) return `the token is for study ${token.study} only`;

  const upper = method.toUpperCase();
  const read = READ_METHODS.has(upper);
  if (!read && upper !== 'POST') return `${upper} is not allowed with a study token`;
  const rest = parsed.rest;
  if (rest.length === 0 || rest[0] !== 'studies') {
    return `the token is for study ${token.study} only; ${rest.length === 0 ? 'the DICOMweb root' : `/${rest[0].slice(0, 20)}`} is not within it`;
  }
  if (rest.length === 1) {
    // STOW without a study in the URL: each instance must belong to the token's study (stow.service.ts).
    return read ? `the token is for study ${token.study} only; searching all studies is not allowed` : undefined;
  }
  if (rest[1] !== token.study) return `the token is for study ${token.study} only`;
  if (!read && rest.length > 2) return 'only POST .../studies and POST .../studies/{study} store with a study token';
  return undefined;
}

/** The token of an `Authorization: Bearer` header; undefined for no header or another scheme. */
export function bearerTokenOf(authorization: string | string[] | undefined): { token?: string } | undefined {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  if (value === undefined) return undefined;
  const m = /^\s*bearer(?:[ \t]+(.*))?$/is.exec(value);
  if (!m) return undefined;
  const token = (m[1] ?? '').trim();
  return { token: token === '' ? undefined : token };
}

@Injectable()
export class StudyTokenGuard implements CanActivate {
  constructor(
    private readonly tokens: StudyTokenService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!isDicomwebRoute(request.routeOptions?.url ?? '')) return true;
    const bearer = bearerTokenOf(request.headers.authorization);
    if (bearer === undefined) return true;
    // Other bearer tokens (an identity provider's JWT, an API key) are the AuthGuard's.
    if (bearer.token !== undefined && !isStudyTokenShaped(bearer.token)) return true;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      if (bearer.token === undefined) throw new StudyTokenRejected('no token after "Bearer"');
      let claims;
      try {
        claims = await this.tokens.verify(bearer.token);
      } catch (e) {
        // Whatever failed, it is the token's fault: never a 5xx.
        throw new StudyTokenRejected(e instanceof Error ? e.message : 'token not verifiable');
      }
      const refusal = studyTokenScopeRefusal(
        request.method,
        request.raw.url ?? request.url,
        request.params as Record<string, unknown> | undefined,
        claims,
        this.config.defaultStore,
      );
      if (refusal !== undefined) throw new OutsideStudyTokenScope(refusal);
      attachStudyToken(request, claims);
      return true;
    } catch (e) {
      // Refused before the body is read: do not make the client send (or us read) all of it.
      if (!READ_METHODS.has(request.method.toUpperCase())) reply.header('connection', 'close');
      throw e;
    }
  }
}
