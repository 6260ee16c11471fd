/**
 * What AWS answers when authentication or authorization fails, per protocol. The medical-imaging
 * codes and messages are those of AWS's rest-json front end (MissingAuthenticationTokenException,
 * UnrecognizedClientException, InvalidSignatureException, IncompleteSignatureException,
 * AccessDeniedException); S3 has its own (AccessDenied, InvalidAccessKeyId, InvalidToken,
 * AuthorizationHeaderMalformed, RequestTimeTooSkewed, SignatureDoesNotMatch,
 * XAmzContentSHA256Mismatch, BadDigest).
 */
import { ChunkedBodyError } from './aws-chunked-decoder';
import { AwsError } from './aws-errors';
import { AwsIdentity } from './aws-identity';
import { BodyTooLarge } from './signed-body';
import { AuthFailure } from './sigv4-verifier';

export function restJsonAuthError(failure: AuthFailure): AwsError {
  switch (failure.kind) {
    case 'missing':
      return new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'malformed':
      return new AwsError(400, 'IncompleteSignatureException', failure.message);
    case 'unknownKey':
    case 'missingToken':
    case 'badToken':
      return new AwsError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'signatureMismatch': {
      const c = failure.canonical;
      const detail = c ? `\n\nThe Canonical String for this request should have been\n'${c.canonicalRequest}'\n\nThe String-to-Sign should have been\n'${c.stringToSign}'\n` : '';
      return new AwsError(403, 'InvalidSignatureException', failure.message + detail);
    }
    default:
      return new AwsError(403, 'InvalidSignatureException', failure.message);
  }
}

export function s3AuthError(failure: AuthFailure, region: string): AwsError {
  switch (failure.kind) {
    case 'missing':
      return new AwsError(403, 'AccessDenied', 'Access Denied');
    case 'malformed':
      if (failure.message.startsWith('Missing required header')) return new AwsError(400, 'InvalidRequest', failure.message);
      return new AwsError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${failure.message}`);
    case 'unknownKey':
    case 'missingToken':
      return new AwsError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    case 'badToken':
      return new AwsError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    case 'wrongRegion':
    case 'wrongService':
    case 'scopeDate':
      return new AwsError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${failure.message} Expecting region '${region}' and service 's3'.`);
    case 'expired':
    case 'notYetValid':
      return failure.message === 'Request has expired'
        ? new AwsError(403, 'AccessDenied', 'Request has expired')
        : new AwsError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    case 'unsignedHeader':
      return new AwsError(403, 'AccessDenied', failure.message);
    case 'payloadMismatch':
      return new AwsError(400, 'XAmzContentSHA256Mismatch', failure.message);
    case 'signatureMismatch':
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        failure.canonical ? { StringToSign: failure.canonical.stringToSign, CanonicalRequest: failure.canonical.canonicalRequest } : {},
      );
  }
}

/** Errors of reading a signed body, as either protocol names them. */
export function bodyError(error: ChunkedBodyError | BodyTooLarge, protocol: 'rest-json' | 's3'): AwsError {
  if (error instanceof BodyTooLarge) {
    // AWS documents the 1 GB STOW limit but not the answer past it: 413 with a ValidationException type (assumption).
    return protocol === 's3' ? new AwsError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size') : new AwsError(413, 'ValidationException', error.message);
  }
  if (error.kind === 'signature') return protocol === 's3' ? new AwsError(403, 'SignatureDoesNotMatch', error.message) : new AwsError(403, 'InvalidSignatureException', error.message);
  if (error.kind === 'checksum') return protocol === 's3' ? new AwsError(400, 'BadDigest', error.message) : new AwsError(400, 'ValidationException', error.message);
  return protocol === 's3' ? new AwsError(400, 'IncompleteBody', error.message) : new AwsError(400, 'IncompleteSignatureException', error.message);
}

export function accessDenied(identity: AwsIdentity, action: string, resourceArn: string): AwsError {
  return new AwsError(403, 'AccessDeniedException', `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${resourceArn}`);
}
