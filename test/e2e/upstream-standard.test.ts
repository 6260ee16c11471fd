/**
 * The dicomweb store against a scripted, standard-conformant upstream (a small HTTP server that
 * checks what a real DICOMweb service behind OAuth2 would check): credentials from the config's
 * OAuth2 client (the secret from an environment variable) on every call and never in a log line,
 * query values percent-encoded, BulkDataURIs of another scheme rewritten and followed, and each
 * STOW outcome the upstream gives mapped to the client's answer (Table 10.5.3-1) - a silent drop
 * included, which becomes a failure, not a 200.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { GatewayProcess, startGatewayProcess } from '../helpers/test-gateway';
import { splitMultipart } from '../helpers/wado-client';

const SECRET = 'client-secret-7f3e9a';
const TOKEN = 'access-token-b41c2d';
const STUDY = '1.2.826.0.1.3680043.10.7950.1';
const SERIES = `${STUDY}.1`;
const SOP = `${SERIES}.1`;

type Stow = { status: number; body: object | '' };

describe('a standard upstream behind OAuth2', () => {
  let upstream: Server;
  let gw: GatewayProcess;
  let dir: { path: string; remove(): void };
  let base: string;
  const requests: { url: string; authorization?: string }[] = [];
  let tokenRequests: URLSearchParams[] = [];
  let stowAnswer: (sop: string) => Stow = () => ({ status: 200, body: {} });

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = req.url!;
    if (url === '/oauth2/token') {
      tokenRequests.push(new URLSearchParams(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' }));
      return;
    }
    requests.push({ url, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/dicom+json' }).end(JSON.stringify(value));
    if (req.method === 'POST' && url === '/v1/studies') {
      const sop = /1\.2\.826\.0\.1\.3680043\.10\.7950\.1\.1\.\d+/.exec(body)?.[0] ?? '';
      const answer = stowAnswer(sop);
      return answer.body === '' ? void res.writeHead(answer.status).end() : json(answer.status, answer.body);
    }
    if (url.startsWith('/v1/studies?')) return json(200, []);
    if (url === `/v1/studies/${STUDY}/series/${SERIES}/instances/${SOP}/metadata`) {
      return json(200, [
        {
          '0020000D': { vr: 'UI', Value: [STUDY] },
          '0020000E': { vr: 'UI', Value: [SERIES] },
          '00080018': { vr: 'UI', Value: [SOP] },
          '00081190': { vr: 'UR', Value: ['https://internal.example/v1/studies/x'] },
          '00660023': { vr: 'OW', BulkDataURI: `https://upstream.internal:8443/v1/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk?tag=00660023` },
        },
      ]);
    }
    if (url === `/v1/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk?tag=00660023`) {
      res.writeHead(200, { 'content-type': 'multipart/related; type="application/octet-stream"; boundary=b1' });
      return void res.end('--b1\r\nContent-Type: application/octet-stream\r\n\r\nBULKBYTES\r\n--b1--\r\n');
    }
    res.writeHead(404).end();
  };

  before(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => handle(req, res, body));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    dir = makeTempDir('standard-upstream');
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'stores:',
        '  - name: cloud',
        '    kind: dicomweb',
        `    url: ${origin}/v1`,
        '    verifyDuplicates: false',
        '    auth:',
        '      type: oauth2',
        `      tokenUrl: ${origin}/oauth2/token`,
        '      clientId: gateway',
        '      clientSecretEnv: CLOUD_DICOM_SECRET',
        '      audience: https://dicom.healthcareapis.azure.com',
        '',
      ].join('\n'),
    );
    // Debug logging: nothing the gateway logs may hold the secret or the token.
    gw = await startGatewayProcess(join(dir.path, 'data'), { CONFIG_FILE: config, CLOUD_DICOM_SECRET: SECRET, LOG_LEVEL: 'debug' });
    base = `${gw.baseUrl}/stores/cloud/dicomweb`;
  });
  after(async () => {
    await gw?.stop();
    upstream?.close();
    dir?.remove();
  });

  test('every call carries the token from the client-credentials grant (with the Azure audience)', async () => {
    const res = await send(`${base}/studies?PatientName=Wang%5E*&StudyDescription=Kopf%20axial`);
    assert.equal(res.status, 200);
    assert.ok(tokenRequests.length >= 1);
    assert.equal(tokenRequests[0].get('client_secret'), SECRET);
    assert.equal(tokenRequests[0].get('resource'), 'https://dicom.healthcareapis.azure.com');
    assert.ok(requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    const search = requests.find((r) => r.url.includes('00100010='))!;
    assert.match(search.url, /00100010=Wang%5E\*/, 'values percent-encoded for a standard upstream');
    assert.match(search.url, /00081030=Kopf%20axial/);
  });

  test('BulkDataURIs of any scheme are rewritten to the gateway and followed on its origin; the upstream Retrieve URL is dropped', async () => {
    const metadata = (await send(`${base}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/metadata`)).json();
    const uri = metadata[0]['00660023'].BulkDataURI;
    assert.equal(uri, `${base}/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulkdata/00660023`);
    assert.equal(metadata[0]['00081190'], undefined);
    const bulk = await send(uri, { headers: { accept: 'multipart/related; type="application/octet-stream"' } });
    assert.equal(bulk.status, 200);
    assert.equal((await splitMultipart(bulk))[0].body.toString(), 'BULKBYTES');
    assert.ok(requests.some((r) => r.url === `/v1/studies/${STUDY}/series/${SERIES}/instances/${SOP}/bulk?tag=00660023`));
  });

  test("STOW: the upstream's outcome per instance becomes the client's answer, and a silent drop is a failure", async () => {
    const instance = (n: number) => syntheticInstance({ seed: 7950 + n, studyUid: STUDY, seriesUid: SERIES, sopInstanceUid: `${SERIES}.${n}` });
    const item = (sop: string, extra: object = {}) => ({ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [sop] }, ...extra });
    stowAnswer = (sop) => {
      if (sop.endsWith('.1')) return { status: 200, body: { '00081199': { vr: 'SQ', Value: [item(sop)] } } };
      if (sop.endsWith('.2')) return { status: 200, body: {} }; // silently dropped
      if (sop.endsWith('.3')) return { status: 409, body: { '00081198': { vr: 'SQ', Value: [item(sop, { '00081197': { vr: 'US', Value: [0x0111] } })] } } };
      if (sop.endsWith('.4')) return { status: 400, body: { '00081198': { vr: 'SQ', Value: [item(sop, { '00081197': { vr: 'US', Value: [0xa900] } })] } } };
      return { status: 400, body: '' }; // refused without a STOW-RS answer
    };
    const post = (files: Buffer[]) => {
      const { body, contentType } = multipartBody(files);
      return send(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
    };
    const reasons = (res: Awaited<ReturnType<typeof send>>) =>
      Object.fromEntries(((res.json()['00081198']?.Value ?? []) as Record<string, { Value: unknown[] }>[]).map((f) => [String(f['00081155'].Value[0]).split('.').pop(), f['00081197'].Value[0]]));

    const all = await post([1, 2, 3, 4, 5].map(instance));
    assert.equal(all.status, 202, all.text());
    assert.equal(all.json()['00081199'].Value.length, 1);
    assert.deepEqual(reasons(all), { '2': 0x0110, '3': 0x0111, '4': 0xa900, '5': 0x0110 });
    assert.equal((await post([instance(1)])).status, 200);
    assert.equal((await post([instance(2)])).status, 400, 'a silent drop alone is a failure, not a 200');
    assert.equal((await post([instance(3)])).status, 409);
    assert.equal((await post([instance(4)])).status, 400);
  });

  test('the secret and the token never appear in the logs', async () => {
    const output = gw.output();
    assert.ok(output.length > 0, 'the gateway logged something');
    assert.ok(!output.includes(SECRET), 'no client secret in the logs');
    assert.ok(!output.includes(TOKEN), 'no token in the logs');
  });
});
