/**
 * Any error of the two medical-imaging hosts (DICOMweb and control plane) as an AWS rest-json
 * error: the fake's own AwsErrors as they are, authentication failures, body errors, and the
 * archive's typed errors (not found 404, not acceptable 406, bad query or frame list 400).
 */
import { ArchiveBadRequest, ArchiveInvalidQuery, ArchiveNotAcceptable, ArchiveNotFound } from '../dicom-archive/archive-errors';
import { bodyError, restJsonAuthError } from './auth-answers';
import { ChunkedBodyError } from './aws-chunked-decoder';
import { AwsError, awsErrors } from './aws-errors';
import { Fault } from './fault-injection';
import { BodyTooLarge } from './signed-body';
import { AuthFailure } from './sigv4-verifier';

export function restJsonError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof AuthFailure) return restJsonAuthError(error);
  if (error instanceof ChunkedBodyError || error instanceof BodyTooLarge) return bodyError(error, 'rest-json');
  if (error instanceof ArchiveNotFound) return awsErrors.notFound(error.message);
  if (error instanceof ArchiveNotAcceptable) return awsErrors.notAcceptable(error.message);
  if (error instanceof ArchiveInvalidQuery || error instanceof ArchiveBadRequest) return awsErrors.validation(error.message);
  console.error('healthimaging fake: unexpected error', error);
  return awsErrors.internal(`The fake failed: ${(error as Error)?.message ?? String(error)}`);
}

export function restJsonFault(fault: Fault): AwsError {
  if (fault.kind === 'throttle') return awsErrors.throttling();
  if (fault.status === 503) return new AwsError(503, 'ServiceUnavailableException', 'Service unavailable');
  return new AwsError(fault.status, 'InternalServerException', 'Internal server error (injected by the test)');
}

