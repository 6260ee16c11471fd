/**
 * SigV4 on the three hosts of the HealthImaging fake, judged by AWS's own signer
 * (@smithy/signature-v4): what it signs is accepted; the same request signed with a wrong secret,
 * region, service, an old date, without the session token, changed after signing, or not signed at
 * all is refused with AWS's status and error type. Also the payload forms (UNSIGNED-PAYLOAD, no
 * hash header, aws-chunked with chunk signatures), unsigned x-amz-* headers, presigned S3 URLs and
 * the identity that is allowed nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { fakeClient, stowSummary } from '../fakes/healthimaging/test-client/fake-clients';
import { SignedRequestSpec, awsChunkedBody, sendSigned, signRequest, signedFetch } from '../fakes/healthimaging/test-client/signed-request';

let fake: HealthImagingFake;
before(async () => {
  fake = await startHealthImagingFake({ region: 'eu-west-1' });
});
after(() => fake.close());

type Host = 'dicomweb' | 'control' | 's3';
const endpoint = (host: Host) => ({ dicomweb: fake.dicomwebEndpoint, control: fake.controlEndpoint, s3: fake.s3Endpoint })[host];
const spec = (host: Host, extra: Partial<SignedRequestSpec> = {}): SignedRequestSpec => ({
  path: host === 'dicomweb' ? `/datastore/${fake.datastoreId}/studies?limit=10` : host === 'control' ? `/datastore/${fake.datastoreId}` : `/${fake.bucket}?list-type=2&prefix=a%2Fb`,
  credentials: fake.credentials,
  region: fake.region,
  service: host === 's3' ? 's3' : 'medical-imaging',
  ...extra,
});
const errorType = (headers: Record<string, unknown>) => headers['x-amzn-errortype'];
const s3Code = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1];

describe('SigV4 accepted', () => {
  for (const host of ['dicomweb', 'control', 's3'] as Host[]) {
    test(`a request signed by @smithy/signature-v4 is accepted on the ${host} host`, async () => {
      const answer = await signedFetch(endpoint(host), spec(host));
      assert.equal(answer.status, 200, answer.text());
      assert.ok(answer.headers['x-amzn-requestid']);
    });
  }

  test('UNSIGNED-PAYLOAD and a request without x-amz-content-sha256 (the body hashed by the server) are accepted', async () => {
    assert.equal((await signedFetch(fake.dicomwebEndpoint, spec('dicomweb', { payloadHash: 'UNSIGNED-PAYLOAD' }))).status, 200);
    assert.equal((await signedFetch(fake.dicomwebEndpoint, spec('dicomweb', { omitPayloadHeader: true }))).status, 200);
  });

  test('paths with characters that need encoding and repeated query keys are signed alike', async () => {
    const answer = await signedFetch(fake.dicomwebEndpoint, spec('dicomweb', { path: `/datastore/${fake.datastoreId}/studies?PatientName=D%C3%BCrer%5E*&includefield=00081030&includefield=StudyID&limit=5` }));
    assert.equal(answer.status, 200, answer.text());
    // A percent-encoded path segment: medical-imaging encodes it once more in the canonical URI, S3 does not.
    const segment = await signedFetch(fake.dicomwebEndpoint, spec('dicomweb', { path: `/datastore/${fake.datastoreId}/studies/1.2%203/series` }));
    assert.equal(segment.status, 200, segment.text());
    assert.deepEqual(segment.json(), []);
    const s3 = await signedFetch(fake.s3Endpoint, spec('s3', { method: 'PUT', path: `/${fake.bucket}/in/a%20b%2Bc%28%29.dcm`, body: Buffer.from('x') }));
    assert.equal(s3.status, 200, s3.text());
    const listed = await signedFetch(fake.s3Endpoint, spec('s3', { path: `/${fake.bucket}?list-type=2&prefix=in%2Fa%20b` }));
    assert.match(listed.text(), /<Key>in\/a b\+c\(\)\.dcm<\/Key>/);
  });
});

describe('SigV4 refused', () => {
  const jsonCases: [string, (host: Host) => Partial<SignedRequestSpec>, number, string, RegExp][] = [
    ['a wrong secret', () => ({ credentials: { ...fake.credentials, secretAccessKey: 'wrong-secret' } }), 403, 'InvalidSignatureException', /signature we calculated does not match/],
    ['a wrong region', () => ({ region: 'us-west-2' }), 403, 'InvalidSignatureException', /scoped to a valid region/],
    ['a wrong service', () => ({ service: 'dicom-medical-imaging' }), 403, 'InvalidSignatureException', /correct service: 'medical-imaging'/],
    ['a date 10 minutes old', () => ({ signingDate: new Date(Date.now() - 10 * 60_000) }), 403, 'InvalidSignatureException', /Signature expired: \d{8}T\d{6}Z is now earlier than/],
    ['no session token', () => ({ credentials: { accessKeyId: fake.credentials.accessKeyId, secretAccessKey: fake.credentials.secretAccessKey } }), 403, 'UnrecognizedClientException', /security token included in the request is invalid/],
    ['an unknown access key', () => ({ credentials: { ...fake.credentials, accessKeyId: 'ASIAUNKNOWNUNKNOWN00' } }), 403, 'UnrecognizedClientException', /security token/],
  ];
  for (const host of ['dicomweb', 'control'] as Host[]) {
    for (const [what, change, status, type, message] of jsonCases) {
      test(`${host}: ${what} -> ${status} ${type}`, async () => {
        const answer = await signedFetch(endpoint(host), spec(host, change(host)));
        assert.equal(answer.status, status, answer.text());
        assert.equal(errorType(answer.headers), type);
        assert.equal(answer.headers['content-type'], 'application/json');
        assert.match(answer.json<{ message: string }>().message, message);
      });
    }
    test(`${host}: no Authorization -> 403 MissingAuthenticationTokenException`, async () => {
      const answer = await send(`${endpoint(host)}${spec(host).path}`);
      assert.equal(answer.status, 403);
      assert.equal(errorType(answer.headers), 'MissingAuthenticationTokenException');
      assert.deepEqual(answer.json(), { message: 'Missing Authentication Token' });
    });
    test(`${host}: the denied identity -> 403 AccessDeniedException naming the action and the datastore`, async () => {
      const answer = await signedFetch(endpoint(host), spec(host, { credentials: fake.deniedCredentials }));
      assert.equal(answer.status, 403);
      assert.equal(errorType(answer.headers), 'AccessDeniedException');
      const action = host === 'dicomweb' ? 'SearchDICOMStudies' : 'GetDatastore';
      assert.equal(
        answer.json<{ message: string }>().message,
        `User: arn:aws:sts::123456789012:assumed-role/denied/test is not authorized to perform: medical-imaging:${action} on resource: arn:aws:medical-imaging:eu-west-1:123456789012:datastore/${fake.datastoreId}`,
      );
    });
  }

  const s3Cases: [string, () => Partial<SignedRequestSpec>, number, string][] = [
    ['a wrong secret', () => ({ credentials: { ...fake.credentials, secretAccessKey: 'wrong' } }), 403, 'SignatureDoesNotMatch'],
    ['a wrong region', () => ({ region: 'us-west-2' }), 400, 'AuthorizationHeaderMalformed'],
    ['a wrong service', () => ({ service: 'medical-imaging' }), 400, 'AuthorizationHeaderMalformed'],
    ['a date 10 minutes old', () => ({ signingDate: new Date(Date.now() - 10 * 60_000) }), 403, 'RequestTimeTooSkewed'],
    ['an unknown access key', () => ({ credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'y' } }), 403, 'InvalidAccessKeyId'],
  ];
  for (const [what, change, status, code] of s3Cases) {
    test(`s3: ${what} -> ${status} ${code}`, async () => {
      const answer = await signedFetch(fake.s3Endpoint, spec('s3', change()));
      assert.equal(answer.status, status, answer.text());
      assert.equal(s3Code(answer.text()), code);
      assert.match(answer.text(), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>/);
    });
  }
  test('s3: without the session token of temporary credentials, and unsigned -> refused', async () => {
    const noToken = await signedFetch(fake.s3Endpoint, spec('s3', { credentials: { accessKeyId: fake.credentials.accessKeyId, secretAccessKey: fake.credentials.secretAccessKey } }));
    assert.equal(s3Code(noToken.text()), 'InvalidAccessKeyId');
    const unsigned = await send(`${fake.s3Endpoint}${spec('s3').path}`);
    assert.equal(unsigned.status, 403);
    assert.equal(s3Code(unsigned.text()), 'AccessDenied');
  });

  test('a body changed after signing is refused before anything is stored (hex hash, no hash header, S3)', async () => {
    const file = syntheticInstance({ seed: 901 });
    const tampered = Buffer.from(file);
    tampered[tampered.length - 1] ^= 0xff;
    for (const omitPayloadHeader of [false, true]) {
      const request = await signRequest(fake.dicomwebEndpoint, { ...spec('dicomweb'), method: 'POST', path: `/datastore/${fake.datastoreId}/studies`, headers: { 'content-type': 'application/dicom' }, body: file, omitPayloadHeader });
      const answer = await sendSigned({ ...request, body: tampered });
      assert.equal(answer.status, 403, answer.text());
      assert.equal(errorType(answer.headers), 'InvalidSignatureException');
    }
    assert.equal(fake.instances().length, 0);
    const s3 = await signRequest(fake.s3Endpoint, { ...spec('s3'), method: 'PUT', path: `/${fake.bucket}/tampered.dcm`, body: file });
    const answer = await sendSigned({ ...s3, body: tampered });
    assert.equal(s3Code(answer.text()), 'XAmzContentSHA256Mismatch');
    const job = Buffer.from(JSON.stringify({ clientToken: 'c1', dataAccessRoleArn: fake.dataAccessRoleArn, inputS3Uri: `s3://${fake.bucket}/a/`, outputS3Uri: `s3://${fake.bucket}/b/` }));
    const control = await signRequest(fake.controlEndpoint, { ...spec('control'), method: 'POST', path: `/startDICOMImportJob/datastore/${fake.datastoreId}`, headers: { 'content-type': 'application/json' }, body: job });
    const refused = await sendSigned({ ...control, body: Buffer.from(job.toString().replace('/b/', '/c/')) });
    assert.equal(refused.status, 403);
    assert.equal(errorType(refused.headers), 'InvalidSignatureException');
  });

  test('s3: an aws-chunked upload whose x-amz-checksum-crc32 trailer is wrong -> 400 BadDigest, nothing stored', async () => {
    const chunked = (crc: string) => Buffer.from(`5\r\nhello\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`);
    const put = async (crc: string) => {
      const request = await signRequest(fake.s3Endpoint, {
        ...spec('s3'),
        method: 'PUT',
        path: `/${fake.bucket}/trailer.txt`,
        payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32' },
      });
      return sendSigned({ ...request, body: chunked(crc) });
    };
    const bad = await put('AAAAAA==');
    assert.equal(bad.status, 400, bad.text());
    assert.equal(s3Code(bad.text()), 'BadDigest');
    assert.equal((await signedFetch(fake.s3Endpoint, spec('s3', { path: `/${fake.bucket}/trailer.txt` }))).status, 404);
    const good = await put('NhCmhg=='); // CRC32 of "hello"
    assert.equal(good.status, 200, good.text());
    assert.equal((await signedFetch(fake.s3Endpoint, spec('s3', { path: `/${fake.bucket}/trailer.txt` }))).text(), 'hello');
  });

  test('an x-amz-* header that is not signed is refused', async () => {
    const request = await signRequest(fake.dicomwebEndpoint, spec('dicomweb'));
    const answer = await sendSigned({ ...request, headers: { ...request.headers, 'x-amz-meta-extra': 'not signed' } });
    assert.equal(answer.status, 403);
    assert.equal(errorType(answer.headers), 'InvalidSignatureException');
    assert.match(answer.json<{ message: string }>().message, /x-amz-meta-extra/);
  });
});

describe('aws-chunked STOW (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, as in AWS\'s STOW example)', () => {
  async function chunkedStow(file: Buffer, corrupt: (body: Buffer) => Buffer = (b) => b) {
    const signingDate = new Date();
    const request = await signRequest(fake.dicomwebEndpoint, {
      ...spec('dicomweb'),
      method: 'POST',
      path: `/datastore/${fake.datastoreId}/studies`,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      headers: { 'content-type': 'application/dicom', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(file.length) },
      signingDate,
    });
    const scope = /Credential=[^/]+\/([^,]+),/.exec(request.headers.authorization)![1];
    const body = await awsChunkedBody(request, file, 4096, signingDate, scope);
    return sendSigned({ ...request, body: corrupt(body) });
  }

  test('each chunk signature verified: a good body is stored', async () => {
    const file = syntheticInstance({ seed: 902, rows: 64, columns: 64 });
    const answer = await chunkedStow(file);
    assert.equal(answer.status, 200, answer.text());
    assert.equal(stowSummary(answer).stored.length, 1);
  });

  test('a changed chunk is refused and nothing is stored', async () => {
    const file = syntheticInstance({ seed: 903, rows: 64, columns: 64 });
    const before = fake.instances().length;
    const answer = await chunkedStow(file, (body) => {
      const copy = Buffer.from(body);
      copy[copy.length - 200] ^= 0x01; // inside the last data chunk
      return copy;
    });
    assert.equal(answer.status, 403, answer.text());
    assert.equal(errorType(answer.headers), 'InvalidSignatureException');
    assert.equal(fake.instances().length, before);
  });
});

describe('presigned S3 URLs and the denied identity on S3', () => {
  test('a GET presigned by @smithy/signature-v4 is accepted; an expired one refused', async () => {
    const client = fakeClient(fake);
    assert.equal((await client.request('s3', { method: 'PUT', path: `/${fake.bucket}/presigned.txt`, body: Buffer.from('hello') })).status, 200);
    const signer = new SignatureV4({ credentials: fake.credentials, region: fake.region, service: 's3', sha256: Sha256, uriEscapePath: false });
    const url = new URL(fake.s3Endpoint);
    const presign = async (signingDate: Date) => {
      const signed = await signer.presign(
        // As @aws-sdk/s3-request-presigner does: the payload is named UNSIGNED-PAYLOAD (hoisted into the query).
        { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: `/${fake.bucket}/presigned.txt`, query: {}, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
        { expiresIn: 60, signingDate },
      );
      const query = Object.entries(signed.query as Record<string, string>).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      return send(`${fake.s3Endpoint}${signed.path}?${query}`);
    };
    const fresh = await presign(new Date());
    assert.equal(fresh.status, 200, fresh.text());
    assert.equal(fresh.text(), 'hello');
    const old = await presign(new Date(Date.now() - 120_000));
    assert.equal(old.status, 403);
    assert.equal(s3Code(old.text()), 'AccessDenied');
  });

  test('the denied identity gets S3 AccessDenied', async () => {
    const answer = await signedFetch(fake.s3Endpoint, spec('s3', { credentials: fake.deniedCredentials }));
    assert.equal(answer.status, 403);
    assert.equal(s3Code(answer.text()), 'AccessDenied');
  });
});
