/**
 * How the gateway authenticates to an upstream DICOMweb server: nothing, HTTP Basic, a static
 * bearer token, or OAuth2 client credentials (RFC 6749 4.4) with the token cached and renewed
 * before it expires. Secrets come from the config and are never logged.
 */
import { request } from 'undici';
import { UpstreamAuthConfig } from '../../config/store-config';

export type { UpstreamAuthConfig };

export interface UpstreamAuth {
  /** The Authorization header value, or undefined when none is needed. */
  header(): Promise<string | undefined>;
  /** Forget a cached token (after a 401), so the next call fetches a new one. */
  invalidate(): void;
}

export class TokenRequestFailed extends Error {}

export function createUpstreamAuth(config: UpstreamAuthConfig, now: () => number = Date.now): UpstreamAuth {
  switch (config.type) {
    case 'none':
      return { header: async () => undefined, invalidate: () => undefined };
    case 'basic': {
      const value = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
      return { header: async () => value, invalidate: () => undefined };
    }
    case 'bearer':
      return { header: async () => `Bearer ${config.token}`, invalidate: () => undefined };
    case 'oauth2':
      return new ClientCredentials(config, now);
  }
}

/** Renew a minute before expiry (or at 80% of a short lifetime), so no token expires in flight. */
function renewAt(now: number, lifetimeMs: number): number {
  return now + lifetimeMs - Math.min(60_000, lifetimeMs * 0.2);
}

class ClientCredentials implements UpstreamAuth {
  private token?: { value: string; renewAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly config: Extract<UpstreamAuthConfig, { type: 'oauth2' }>,
    private readonly now: () => number,
  ) {}

  async header(): Promise<string> {
    if (this.token && this.now() < this.token.renewAt) return `Bearer ${this.token.value}`;
    // One token request at a time, however many calls need it.
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return `Bearer ${await this.pending}`;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret });
    if (this.config.scope) form.set('scope', this.config.scope);
    if (this.config.audience) form.set('resource', this.config.audience);
    const res = await request(this.config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      // The body may echo the client id, never the secret; keep only the error code.
      let code = '';
      try {
        code = String((JSON.parse(text) as { error?: string }).error ?? '');
      } catch {
        /* not JSON */
      }
      throw new TokenRequestFailed(`token endpoint answered ${res.statusCode}${code ? ` (${code})` : ''}`);
    }
    const body = JSON.parse(text) as { access_token?: string; expires_in?: number | string };
    if (!body.access_token) throw new TokenRequestFailed('token endpoint answered without access_token');
    const lifetimeMs = Number(body.expires_in ?? 3600) * 1000;
    this.token = { value: body.access_token, renewAt: renewAt(this.now(), lifetimeMs) };
    return body.access_token;
  }
}
