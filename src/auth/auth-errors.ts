/**
 * The answers of authentication (RFC 6750 3): 401 with `WWW-Authenticate` when a credential is
 * missing or not valid, 403 with `error="insufficient_scope"` and the scope that would do when it
 * does not allow the request, 503 when the identity provider's keys cannot be fetched (nothing is
 * known of the token then; a 401 would make clients throw good tokens away).
 */
import { DicomwebError } from '../dicomweb/errors';

const REALM = 'dicomweb-gateway';

function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 200);
}

export class Unauthenticated extends DicomwebError {
  constructor(reason: string, invalidToken: boolean) {
    const challenge = invalidToken ? `Bearer realm="${REALM}", error="invalid_token", error_description="${quoted(reason)}"` : `Bearer realm="${REALM}"`;
    super(401, reason, { 'www-authenticate': challenge });
  }
}

export class Forbidden extends DicomwebError {
  constructor(reason: string, neededScope: string) {
    super(403, reason, { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${quoted(neededScope)}"` });
  }
}

export class IdentityProviderUnavailable extends DicomwebError {
  constructor(reason: string) {
    super(503, reason, { 'retry-after': '10' });
  }
}
