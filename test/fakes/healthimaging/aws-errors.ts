/**
 * AWS error answers as the two protocols the fake speaks put them on the wire:
 *  - rest-json (medical-imaging, both hosts): status, `x-amzn-ErrorType: <Type>`, body
 *    `{"message": "..."}` with `Content-Type: application/json` (the form the SDK's
 *    restJson1 deserializer reads);
 *  - S3's XML: `<Error><Code>..</Code><Message>..</Message><RequestId>..</RequestId></Error>`.
 * Every answer of the fake carries `x-amzn-RequestId` (S3 also `x-amz-request-id`).
 */
import { ServerResponse } from 'node:http';
import { xmlEscape } from './s3-xml';

export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More XML elements of an S3 error (StringToSign, CanonicalRequest, ...). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const awsErrors = {
  validation: (message: string) => new AwsError(400, 'ValidationException', message),
  notFound: (message: string) => new AwsError(404, 'ResourceNotFoundException', message),
  conflict: (message: string) => new AwsError(409, 'ConflictException', message),
  throttling: () => new AwsError(429, 'ThrottlingException', 'Rate exceeded'),
  internal: (message = 'Internal server error') => new AwsError(500, 'InternalServerException', message),
  quota: (message: string) => new AwsError(402, 'ServiceQuotaExceededException', message),
  notAcceptable: (message: string) => new AwsError(406, 'NotAcceptableException', message),
  unknownOperation: (method: string, path: string) => new AwsError(404, 'UnknownOperationException', `No operation matches ${method} ${path}`),
};

/** Ends the answer; `close` asks the client not to reuse a connection whose request body was left unread. */
export function sendJsonError(res: ServerResponse, error: AwsError, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ message: error.message }));
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-amzn-errortype': error.code,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

export function sendS3Error(res: ServerResponse, error: AwsError, requestId: string, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const details = Object.entries(error.details).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
  const body = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${details}<RequestId>${requestId}</RequestId></Error>`,
  );
  res.writeHead(error.status, { 'content-type': 'application/xml', 'content-length': body.length, ...(close ? { connection: 'close' } : {}) });
  res.end(body);
}
