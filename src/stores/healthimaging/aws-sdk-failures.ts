/**
 * Errors of the AWS SDK clients (control plane, S3) as the gateway's typed errors, as
 * upstream-failures.ts does for HTTP answers: throttling and quota (after the SDK's own retries)
 * and an unreachable service are 503, a timeout 504, anything else 502 with AWS's error name and
 * message (AccessDeniedException names the IAM action missing, which is what an operator needs).
 */
import { UpstreamError, UpstreamFailure, UpstreamTimeout, UpstreamUnavailable } from '../store-errors';
import { errorCode, networkFailure } from '../dicomweb/upstream-failures';
import { UpstreamTimeouts } from '../../config/store-config';

const BUSY = new Set(['ThrottlingException', 'ServiceQuotaExceededException', 'SlowDown', 'RequestLimitExceeded', 'TooManyRequestsException', 'ServiceUnavailable']);
const TIMEOUTS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export function awsSdkFailure(e: unknown, store: string, what: string, timeouts: UpstreamTimeouts): UpstreamFailure {
  if (e instanceof UpstreamFailure) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  const status = err?.$metadata?.httpStatusCode;
  const prefix = `upstream store "${store}" (${what})`;
  const said = `${err?.name ?? 'Error'}${err?.message ? `: ${String(err.message).slice(0, 300)}` : ''}`;
  if (status === undefined) {
    if (err?.name && TIMEOUTS.has(err.name)) return new UpstreamTimeout(`${prefix}: no answer in time (${said})`);
    // No answer at all: the network (ECONNREFUSED...), as for the DICOMweb host.
    if (errorCode(e)) return networkFailure(e, { store, what, retryAfterSeconds: 10, timeouts });
  }
  if ((err?.name && BUSY.has(err.name)) || status === 429 || status === 503) return new UpstreamUnavailable(`${prefix}: ${said}`, 10, status);
  return new UpstreamError(`${prefix} answered ${status ?? 'with an error'}: ${said}`, undefined, status);
}
