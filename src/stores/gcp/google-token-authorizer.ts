/**
 * Google OAuth2 access tokens for the Healthcare API (RequestAuthorizer), from google-auth-library
 * as Google's own clients get them: a service account key runs the JWT-bearer grant (an RS256
 * assertion signed with the key, exchanged at Google's token endpoint for a short-lived token);
 * without one, Application Default Credentials (the key file GOOGLE_APPLICATION_CREDENTIALS
 * names, gcloud's user credentials, or the metadata server on GCE, GKE and Cloud Run). The library
 * caches the token and renews it `tokenRefreshMarginMs` before it expires, one renewal for all
 * concurrent requests. A `tokenUrl` (Private Service Connect, tests) is where the grant is sent:
 * the library has Google's token URL built in, so its requests to that URL are redirected there.
 */
import { Gaxios } from 'gaxios';
import { AuthClient, GoogleAuth } from 'google-auth-library';
import { GcpStoreConfig } from '../../config/store-config';
import { RequestAuthorizer } from '../dicomweb/request-authorizer';
import { TokenRequestFailed } from '../dicomweb/upstream-auth';

/** What google-auth-library posts the JWT-bearer grant to (build/src/gtoken/getToken.js). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export class GoogleTokenAuthorizer implements RequestAuthorizer {
  private readonly auth: GoogleAuth;
  private client?: Promise<AuthClient>;

  constructor(config: GcpStoreConfig) {
    const transporter = new Gaxios();
    const tokenUrl = config.tokenUrl;
    if (tokenUrl && tokenUrl !== GOOGLE_TOKEN_URL) {
      transporter.interceptors.request.add({
        resolved: async (options) => {
          if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUrl);
          return options;
        },
      });
    }
    this.auth = new GoogleAuth({
      scopes: config.scopes,
      ...(config.serviceAccountKey ? { credentials: JSON.parse(config.serviceAccountKey.json) as Record<string, string> } : {}),
      clientOptions: { transporter, eagerRefreshThresholdMillis: config.tokenRefreshMarginMs },
    });
  }

  async authorize(): Promise<Record<string, string>> {
    try {
      this.client ??= this.auth.getClient();
      const headers = await (await this.client).getRequestHeaders();
      const authorization = headers.get('authorization');
      if (!authorization) throw new Error('the credentials gave no Authorization header');
      return { authorization };
    } catch (e) {
      // A failed getClient() (no credentials at all) is not cached: the next call tries again.
      if (!(await this.client?.then(() => true, () => false))) this.client = undefined;
      throw new TokenRequestFailed(`Google credentials: ${describe(e)}`);
    }
  }

  /** After a 401: the cached token is marked expired (every kind of Google client then renews
   *  it on the next call; emptying the credentials would leave a JWT client without its grant). */
  invalidate(): void {
    void this.client?.then((client) => {
      const holder = client as AuthClient & { credentials: Record<string, unknown> };
      holder.credentials = { ...holder.credentials, expiry_date: 1 };
    });
  }
}

/** The token endpoint's error code and description, or the error's message (never a key). */
function describe(e: unknown): string {
  const err = e as { message?: string; response?: { status?: number; data?: { error?: string; error_description?: string } } };
  const data = err?.response?.data;
  if (data?.error) return `token endpoint answered ${err.response?.status ?? ''} ${data.error}${data.error_description ? `: ${data.error_description}` : ''}`.replace(/\s+/g, ' ');
  return String(err?.message ?? e).slice(0, 300);
}
