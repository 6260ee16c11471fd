/**
 * The S3 host of the fake, path-style (/{bucket}/{key}), service `s3`: PutObject (plain body with
 * a hex or UNSIGNED-PAYLOAD hash, or aws-chunked - signed, or unsigned with a CRC32 trailer as
 * @aws-sdk/client-s3 sends a stream), GetObject, HeadObject, DeleteObject, DeleteObjects and
 * ListObjectsV2 on the fake's one bucket, with S3's XML errors.
 */
import { createReadStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { bodyError, s3AuthError } from './auth-answers';
import { ChunkedBodyError } from './aws-chunked-decoder';
import { AwsError, sendS3Error } from './aws-errors';
import { FakeState } from './fake-state';
import { HostProtocol } from './host-server';
import { S3ObjectStore, crc32Base64 } from './s3-object-store';
import { deleteResultXml, listObjectsV2Xml, parseDeleteRequest } from './s3-xml';
import { BodyTooLarge, receiveSignedBody } from './signed-body';
import { AuthFailure, SigV4Verifier } from './sigv4-verifier';

const MAX_OBJECT_BYTES = 5 * 1024 ** 3;

interface S3Route {
  operation: string;
  bucket: string;
  key?: string;
  query: URLSearchParams;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function route(req: IncomingMessage): S3Route {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const [, bucketSegment = '', ...keySegments] = path.split('/');
  const bucket = safeDecode(bucketSegment);
  const key = keySegments.length > 0 && keySegments.join('/') !== '' ? safeDecode(keySegments.join('/')) : undefined;
  const method = req.method ?? 'GET';
  const operation =
    key !== undefined
      ? ({ PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' } as Record<string, string>)[method] ?? 'Unknown'
      : method === 'GET' && query.get('list-type') === '2'
        ? 'ListObjectsV2'
        : method === 'POST' && query.has('delete')
          ? 'DeleteObjects'
          : method === 'HEAD'
            ? 'HeadBucket'
            : 'Unknown';
  return { operation, bucket, key, query };
}

export function s3Error(error: unknown, region: string): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof AuthFailure) return s3AuthError(error, region);
  if (error instanceof ChunkedBodyError || error instanceof BodyTooLarge) return bodyError(error, 's3');
  console.error('healthimaging fake (s3): unexpected error', error);
  return new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.');
}

function objectHeaders(res: ServerResponse, o: { size: number; etag: string; lastModified: Date; contentType: string; crc32: string }, withChecksum: boolean): void {
  res.setHeader('content-length', o.size);
  res.setHeader('content-type', o.contentType);
  res.setHeader('etag', o.etag);
  res.setHeader('last-modified', o.lastModified.toUTCString());
  if (withChecksum) res.setHeader('x-amz-checksum-crc32', o.crc32);
}

export function s3Protocol(state: FakeState, store: S3ObjectStore, verifier: SigV4Verifier): HostProtocol {
  const scratch = `${state.config.scratchDir}/s3`;
  mkdirSync(scratch, { recursive: true });
  const noSuchKey = (key: string) => new AwsError(404, 'NoSuchKey', `The specified key does not exist. (${key})`);

  async function putObject(req: IncomingMessage, res: ServerResponse, key: string, body: { path?: string; size: number; md5: string; crc32: number }): Promise<void> {
    const declared = req.headers['x-amz-checksum-crc32'];
    if (typeof declared === 'string' && declared !== crc32Base64(body.crc32)) {
      throw new AwsError(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
    const contentType = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined;
    const object = store.putFile(key, body.path!, { ...body, contentType });
    res.writeHead(200, { etag: object.etag, 'x-amz-checksum-crc32': object.crc32, 'content-length': 0 });
    res.end();
  }

  return {
    host: 's3',
    classify: (req) => route(req).operation,
    async handle(req, res, ctx) {
      const r = route(req);
      const auth = verifier.verify(req);
      const action = `s3:${r.operation === 'ListObjectsV2' ? 'ListBucket' : r.operation === 'DeleteObjects' ? 'DeleteObject' : r.operation}`;
      if (!auth.identity.allowed) {
        throw new AwsError(403, 'AccessDenied', `User: ${auth.identity.arn} is not authorized to perform: ${action} on resource: arn:aws:s3:::${r.bucket}${r.key ? `/${r.key}` : ''}`);
      }
      if (r.operation === 'PutObject') {
        if (r.bucket !== store.bucket) throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist');
        const body = await receiveSignedBody(req, auth, { maxBytes: MAX_OBJECT_BYTES, tempDir: scratch, onWireBytes: ctx.addWireBytes });
        try {
          return await putObject(req, res, r.key!, body);
        } finally {
          await rm(body.path!, { force: true });
        }
      }
      const small = await receiveSignedBody(req, auth, { maxBytes: 1_048_576, onWireBytes: ctx.addWireBytes });
      if (r.operation === 'Unknown') throw new AwsError(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
      if (r.bucket !== store.bucket) throw new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist');
      const withChecksum = req.headers['x-amz-checksum-mode'] === 'ENABLED';
      switch (r.operation) {
        case 'HeadBucket':
          res.writeHead(200, { 'content-length': 0 });
          return void res.end();
        case 'GetObject':
        case 'HeadObject': {
          const object = store.get(r.key!);
          if (!object) throw noSuchKey(r.key!);
          objectHeaders(res, object, withChecksum);
          res.writeHead(200);
          if (r.operation === 'HeadObject') return void res.end();
          return pipeline(createReadStream(object.filePath), res);
        }
        case 'DeleteObject':
          store.delete(r.key!);
          res.writeHead(204);
          return void res.end();
        case 'DeleteObjects': {
          const { keys, quiet } = parseDeleteRequest(small.bytes!.toString('utf8'));
          keys.forEach((k) => store.delete(k));
          const xml = Buffer.from(deleteResultXml(keys, quiet));
          res.writeHead(200, { 'content-type': 'application/xml', 'content-length': xml.length });
          return void res.end(xml);
        }
        case 'ListObjectsV2':
          return listObjects(res, r.query, store);
      }
    },
    writeError: (res, error, ctx, close) => sendS3Error(res, s3Error(error, state.config.region), ctx.requestId, close),
    faultError: (fault) =>
      fault.kind === 'throttle'
        ? new AwsError(503, 'SlowDown', 'Please reduce your request rate.')
        : new AwsError(fault.status, fault.status === 503 ? 'ServiceUnavailable' : 'InternalError', 'We encountered an internal error. Please try again.'),
  };
}

function listObjects(res: ServerResponse, query: URLSearchParams, store: S3ObjectStore): void {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000) || 1000));
  const token = query.get('continuation-token') ?? undefined;
  const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : query.get('start-after') ?? '';
  const contents = [];
  const commonPrefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const object of store.list(prefix, startAfter)) {
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    const rest = object.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut >= 0) {
      const common = prefix + rest.slice(0, cut + delimiter!.length);
      if (!commonPrefixes.includes(common)) commonPrefixes.push(common);
    } else contents.push(object);
    last = object.key;
  }
  const xml = Buffer.from(
    listObjectsV2Xml({
      bucket: store.bucket,
      prefix,
      delimiter,
      maxKeys,
      startAfter: query.get('start-after') ?? undefined,
      continuationToken: token,
      nextContinuationToken: truncated ? Buffer.from(last).toString('base64url') : undefined,
      contents,
      commonPrefixes,
    }),
  );
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': xml.length });
  res.end(xml);
}
