/**
 * Verifies the JWT-bearer assertion (RFC 7523) a service account sends to the token endpoint, as
 * Google's does, so that each check can fail: three base64url parts; `alg` RS256 and nothing else
 * (`none` included); `iss` a known client_email; the signature by one of that account's live keys
 * (the one `kid` names, when the header has one: gtoken sends none); `aud` exactly gtoken's
 * https://oauth2.googleapis.com/token; `iat`/`exp` within the clock skew and at most 3600 s apart;
 * a non-empty `scope` of Google OAuth scopes. A refusal carries Google's OAuth error and text.
 */
import { verify } from 'node:crypto';
import { ServiceAccounts } from './service-accounts';

export const TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** An OAuth2 error answer of the token endpoint (RFC 6749 5.2), with Google's descriptions. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description?: string,
  ) {
    super(description ?? error);
  }
}

const TIMEFRAME =
  'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';

export const oauthErrors = {
  signature: () => new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.'),
  timeframe: () => new OAuthError(400, 'invalid_grant', TIMEFRAME),
  accountNotFound: () => new OAuthError(400, 'invalid_grant', 'Invalid grant: account not found'),
  audience: () => new OAuthError(400, 'invalid_grant', 'Invalid JWT: Failed audience check.'),
  // The wording of a malformed assertion is UNCONFIRMED; invalid_grant as for the other JWT faults.
  malformed: (why: string) => new OAuthError(400, 'invalid_grant', `Invalid JWT: ${why}`),
  missingScope: () => new OAuthError(400, 'invalid_scope', 'Empty or missing scope not allowed.'),
  badScope: () => new OAuthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.'),
};

export interface VerifiedAssertion {
  email: string;
  keyId: string;
  scopes: string[];
}

interface Claims {
  iss?: unknown;
  aud?: unknown;
  scope?: unknown;
  iat?: unknown;
  exp?: unknown;
  sub?: unknown;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw oauthErrors.malformed(`the ${what} is not base64url`);
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw oauthErrors.malformed(`the ${what} is not a JSON object`);
  }
}

/** Scopes Google would know; the fake takes any https://www.googleapis.com/auth/... name as one. */
function isGoogleScope(scope: string): boolean {
  return /^https:\/\/www\.googleapis\.com\/auth\/[a-z0-9._-]+$/i.test(scope) || scope === 'openid' || scope === 'email' || scope === 'profile';
}

export function verifyAssertion(assertion: string, accounts: ServiceAccounts, nowMs: number, clockSkewSeconds: number): VerifiedAssertion {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw oauthErrors.malformed('the assertion must be three base64url parts separated by dots');
  const header = decodeJson(parts[0], 'header');
  const claims = decodeJson(parts[1], 'claim set') as Claims;
  // Only RS256 is what a service account key signs with; "none" or HS256 (keyed with the public key) must not pass.
  if (header.alg !== 'RS256') throw oauthErrors.signature();

  const email = typeof claims.iss === 'string' ? claims.iss : '';
  const account = accounts.account(email);
  if (!account) throw oauthErrors.accountNotFound();
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = kid === undefined ? [...account.keys] : account.keys.has(kid) ? [[kid, account.keys.get(kid)!] as const] : [];
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const key = candidates.find(([, publicKey]) => verify('RSA-SHA256', signed, publicKey, signature));
  if (!key) throw oauthErrors.signature();

  if (claims.aud !== TOKEN_AUDIENCE) throw oauthErrors.audience();

  const now = nowMs / 1000;
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp)) throw oauthErrors.timeframe();
  if (iat > now + clockSkewSeconds || exp < now - clockSkewSeconds || exp <= iat || exp - iat > 3600) throw oauthErrors.timeframe();

  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
  if (scopes.length === 0) throw oauthErrors.missingScope();
  if (!scopes.every(isGoogleScope)) throw oauthErrors.badScope();
  // Domain-wide delegation (sub other than the account itself) is not granted to the fake's accounts.
  if (claims.sub !== undefined && claims.sub !== email) {
    throw new OAuthError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
  }
  return { email, keyId: key[0], scopes };
}
