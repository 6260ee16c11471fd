/**
 * Errors of the DICOMweb server in the shape every Google API answers them:
 * `{"error":{"code":<http>,"message":"...","status":"<google.rpc.Code>"}}` with
 * `Content-Type: application/json` (reference 2.6), the authentication texts of Google's front end,
 * and the archive's typed errors mapped onto them. HTTP codes that have no google.rpc.Code of their
 * own (406, 413, 415) carry INVALID_ARGUMENT: what Google sends there is UNCONFIRMED.
 */
import { ServerResponse } from 'node:http';
import { ArchiveBadRequest, ArchiveInvalidQuery, ArchiveNotAcceptable, ArchiveNotFound } from '../dicom-archive/archive-errors';
import { MultipartSyntaxError } from '../dicom-archive/multipart-related';
import { Fault } from './fault-injection';
import { BodyTooLarge } from './request-body';

export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const REALM = 'Bearer realm="https://accounts.google.com/"';
const SEE = 'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export const googleErrors = {
  invalidArgument: (message: string) => new GoogleApiError(400, 'INVALID_ARGUMENT', message),
  missingCredential: () => new GoogleApiError(401, 'UNAUTHENTICATED', `Request is missing required authentication credential. ${SEE}`, { 'www-authenticate': REALM }),
  invalidCredential: () => new GoogleApiError(401, 'UNAUTHENTICATED', `Request had invalid authentication credentials. ${SEE}`, { 'www-authenticate': `${REALM}, error="invalid_token"` }),
  insufficientScope: () =>
    new GoogleApiError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', {
      'www-authenticate': `${REALM}, error="insufficient_scope", scope="https://www.googleapis.com/auth/cloud-healthcare https://www.googleapis.com/auth/cloud-platform"`,
    }),
  permissionDenied: (permission: string, resource: string) =>
    new GoogleApiError(403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`),
  notFound: (message: string) => new GoogleApiError(404, 'NOT_FOUND', message),
  notAcceptable: (message: string) => new GoogleApiError(406, 'INVALID_ARGUMENT', message),
  unsupportedMediaType: (message: string) => new GoogleApiError(415, 'INVALID_ARGUMENT', message),
  tooLarge: (message: string) => new GoogleApiError(413, 'INVALID_ARGUMENT', message),
  internal: (message = 'Internal error encountered.') => new GoogleApiError(500, 'INTERNAL', message),
};

/** Any error as a GoogleApiError (unexpected ones become 500 INTERNAL and are logged). */
export function asGoogleError(error: unknown): GoogleApiError {
  if (error instanceof GoogleApiError) return error;
  if (error instanceof BodyTooLarge) return googleErrors.tooLarge(error.message);
  if (error instanceof ArchiveNotFound) return googleErrors.notFound(error.message);
  if (error instanceof ArchiveNotAcceptable) return googleErrors.notAcceptable(error.message);
  if (error instanceof ArchiveInvalidQuery || error instanceof ArchiveBadRequest) return googleErrors.invalidArgument(error.message);
  if (error instanceof MultipartSyntaxError) return googleErrors.invalidArgument(`malformed multipart/related body: ${error.message}`);
  console.error('gcp fake: unexpected error', error);
  return googleErrors.internal(`The fake failed: ${(error as Error)?.message ?? String(error)}`);
}

/** Injected faults: quota (429 RESOURCE_EXHAUSTED, read or write quota by the operation), 500 INTERNAL, 503 UNAVAILABLE. */
export function faultError(fault: Fault, project: string, write: boolean): GoogleApiError {
  if (fault.kind === 'throttle') {
    const metric = write ? 'Number of DICOMweb write requests' : 'Number of DICOMweb read requests';
    return new GoogleApiError(
      429,
      'RESOURCE_EXHAUSTED',
      `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per region' of service 'healthcare.googleapis.com' for consumer 'project_number:${projectNumber(project)}'.`,
    );
  }
  if (fault.status === 503) return new GoogleApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
  return new GoogleApiError(fault.status, fault.status === 500 ? 'INTERNAL' : 'UNKNOWN', 'Internal error encountered.');
}

/** A stable made-up project number for a project id (quota messages name the number, not the id). */
function projectNumber(project: string): string {
  let h = 0;
  for (const c of project) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return String(100000000000 + (h % 899999999999));
}

export function sendGoogleError(res: ServerResponse, error: GoogleApiError, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: { code: error.code, message: error.message, status: error.status } }));
  res.writeHead(error.code, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': body.length,
    ...error.headers,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
