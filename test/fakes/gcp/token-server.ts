/**
 * Google's OAuth2 token endpoint as the fake's second server (`POST /token`, standing for
 * https://oauth2.googleapis.com/token): a form body with the JWT-bearer grant and a service
 * account's signed assertion in, `{"access_token":"ya29...","expires_in":N,"token_type":"Bearer"}`
 * out, or Google's OAuth error JSON (`{"error":"invalid_grant","error_description":"..."}`).
 */
import { ServerResponse } from 'node:http';
import { AccessTokens } from './access-tokens';
import { FakeProtocol } from './fake-http-server';
import { GcpFakeConfig } from './gcp-config';
import { JWT_BEARER_GRANT, OAuthError, verifyAssertion } from './jwt-assertion';
import { BodyTooLarge, drain, receiveToMemory } from './request-body';
import { ServiceAccounts } from './service-accounts';

const MAX_FORM_BYTES = 64 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', 'content-length': bytes.length, ...extra });
  res.end(bytes);
}

export function tokenProtocol(config: GcpFakeConfig, accounts: ServiceAccounts, tokens: AccessTokens): FakeProtocol {
  return {
    kind: 'token',
    classify: (req) => ((req.url ?? '').split('?')[0] === '/token' ? 'token' : 'Unknown'),
    async handle(req, res, ctx) {
      if ((req.url ?? '').split('?')[0] !== '/token') throw new OAuthError(404, 'not_found', `No such endpoint: ${req.url}`);
      if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', `Method ${req.method} is not allowed: POST the form`);
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const body = await receiveToMemory(req, MAX_FORM_BYTES, ctx.addWireBytes);
      if (type !== 'application/x-www-form-urlencoded') throw new OAuthError(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded');
      const form = new URLSearchParams(body.toString('utf8'));
      const grant = form.get('grant_type');
      if (grant === null || grant === '') throw new OAuthError(400, 'unsupported_grant_type', 'Invalid grant_type: ');
      if (grant !== JWT_BEARER_GRANT) throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant}`);
      const assertion = form.get('assertion');
      if (!assertion) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: assertion');
      const verified = verifyAssertion(assertion, accounts, Date.now(), config.clockSkewSeconds);
      const issued = tokens.issue(verified.email, verified.keyId, verified.scopes, config.tokenLifetimeSeconds);
      sendJson(res, 200, { access_token: issued.token, expires_in: config.tokenLifetimeSeconds, token_type: 'Bearer' });
    },
    async writeError(req, res, error, ctx) {
      const reusable = !(error instanceof BodyTooLarge) && (await drain(req, MAX_FORM_BYTES, ctx.addWireBytes));
      const close: Record<string, string> = reusable ? {} : { connection: 'close' };
      if (error instanceof OAuthError) {
        return sendJson(res, error.status, error.description === undefined ? { error: error.error } : { error: error.error, error_description: error.description }, close);
      }
      if (error instanceof BodyTooLarge) return sendJson(res, 413, { error: 'invalid_request', error_description: error.message }, close);
      console.error('gcp fake: unexpected token endpoint error', error);
      sendJson(res, 500, { error: 'internal_failure', error_description: (error as Error)?.message ?? String(error) }, close);
    },
  };
}
