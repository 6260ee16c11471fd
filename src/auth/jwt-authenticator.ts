/**
 * OAuth2 / OpenID Connect bearer tokens (JWTs) of the configured identity provider, verified with
 * jose against its JSON Web Key Set: the signature with an allow-listed asymmetric algorithm (never
 * `none`, never a shared secret), `iss`, `aud`, `exp` and `nbf` with a small clock tolerance. The
 * key set is cached and fetched again when a token names a `kid` it does not hold (key rotation),
 * at most every `keySetCooldownSeconds` (30 s by default). The granted scopes come from `scope` (space separated) or `scp` (a list).
 */
import { createRemoteJWKSet, errors, jwtVerify, JWTPayload } from 'jose';
import { JwtAuthConfig } from '../config/security-config';
import { IdentityProviderUnavailable, Unauthenticated } from './auth-errors';
import { grantsOf, Principal } from './principal';

export class JwtAuthenticator {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly config: JwtAuthConfig,
    private readonly scopePrefix: string,
  ) {
    this.keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: config.keySetCooldownSeconds * 1000, cacheMaxAge: 600_000 });
  }

  /** The principal of a valid token; Unauthenticated (401) for any fault of the token. */
  async authenticate(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: this.config.audiences,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (e) {
      throw this.refusal(e);
    }
    const identity = payload[this.config.identityClaim];
    return {
      kind: 'jwt',
      id: `jwt:${typeof identity === 'string' && identity !== '' ? identity.slice(0, 200) : '(no identity claim)'}`,
      grants: grantsOf(this.scopesOf(payload), this.scopePrefix),
    };
  }

  private scopesOf(payload: JWTPayload): string[] {
    const scopes: string[] = [];
    for (const claim of this.config.scopeClaims) {
      const value = payload[claim];
      if (typeof value === 'string') scopes.push(...value.split(/\s+/).filter((s) => s !== ''));
      else if (Array.isArray(value)) scopes.push(...value.filter((s): s is string => typeof s === 'string'));
    }
    return scopes;
  }

  private refusal(e: unknown): Error {
    if (e instanceof errors.JWTExpired) return new Unauthenticated('the token has expired', true);
    if (e instanceof errors.JWTClaimValidationFailed) return new Unauthenticated(`the token's "${e.claim}" claim is not accepted (${e.reason})`, true);
    if (e instanceof errors.JOSEAlgNotAllowed) return new Unauthenticated('the token is signed with an algorithm that is not allowed', true);
    if (e instanceof errors.JWKSNoMatchingKey) return new Unauthenticated("no key of the identity provider matches the token's key id", true);
    if (e instanceof errors.JWSSignatureVerificationFailed) return new Unauthenticated('the token signature does not verify', true);
    if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError)) {
      return new IdentityProviderUnavailable(`the identity provider's keys cannot be fetched (${(e as Error)?.message ?? String(e)}); try again shortly`);
    }
    return new Unauthenticated(`the token is not valid (${e.code})`, true);
  }
}
