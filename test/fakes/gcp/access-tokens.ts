/**
 * The opaque OAuth2 access tokens the fake's token endpoint issues (`ya29.` and random bytes, as
 * Google's look) and what each stands for: the account, the key whose assertion got it, the
 * scopes granted, the expiry. The DICOMweb server looks a bearer token up here.
 */
import { randomBytes } from 'node:crypto';

export interface AccessToken {
  token: string;
  email: string;
  keyId: string;
  scopes: ReadonlySet<string>;
  issuedAt: number;
  expiresAt: number;
}

export class AccessTokens {
  private readonly tokens = new Map<string, AccessToken>();
  private issued = 0;

  constructor(private readonly now: () => number = Date.now) {}

  issue(email: string, keyId: string, scopes: string[], lifetimeSeconds: number): AccessToken {
    const issuedAt = this.now();
    const token: AccessToken = {
      token: `ya29.${randomBytes(48).toString('base64url')}`,
      email,
      keyId,
      scopes: new Set(scopes),
      issuedAt,
      expiresAt: issuedAt + lifetimeSeconds * 1000,
    };
    this.tokens.set(token.token, token);
    this.issued++;
    return token;
  }

  /** The token if it was issued and has not expired; undefined otherwise. */
  valid(token: string): AccessToken | undefined {
    const found = this.tokens.get(token);
    return found && found.expiresAt > this.now() ? found : undefined;
  }

  expireAll(): void {
    const now = this.now();
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  count(): number {
    return this.issued;
  }
}
