/**
 * The optional HTTPS listener (issue 13, point 5): with TLS_CERT_FILE and TLS_KEY_FILE the gateway
 * speaks only HTTPS, with that certificate (a client trusting its self-signed CA searches and
 * stores; one that does not is refused); a missing, unreadable or unusable file stops the start as
 * a configuration problem naming the file, exit code 2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { runGatewayUntilExit, startInProcessGateway } from '../helpers/test-gateway';

const STUDY = '1.2.826.0.1.3680043.10.7915.1';

function httpsSend(url: string, ca: Buffer | undefined, options: { method?: string; headers?: Record<string, string | number>; body?: Buffer } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: options.method ?? 'GET', headers: options.headers, ca, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTPS listener', () => {
  const dir = makeTempDir('tls');
  const certFile = join(dir.path, 'cert.pem');
  const keyFile = join(dir.path, 'key.pem');
  let cert: Buffer;
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let httpsUrl: string;
  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    cert = readFileSync(certFile);
    gw = await startInProcessGateway({ DATA_DIR: join(dir.path, 'data'), TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    httpsUrl = gw.baseUrl.replace('http://', 'https://');
  });
  after(async () => {
    await gw?.stop();
    dir.remove();
  });

  test('a client trusting the certificate stores and searches over HTTPS', async () => {
    const { body, contentType } = multipartBody([syntheticInstance({ studyUid: STUDY, seriesUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.1` })]);
    const stored = await httpsSend(`${httpsUrl}/dicomweb/studies`, cert, { method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length }, body });
    assert.equal(stored.status, 200, stored.body);
    const found = await httpsSend(`${httpsUrl}/dicomweb/studies?StudyInstanceUID=${STUDY}`, cert);
    assert.equal(found.status, 200, found.body);
    const studies = JSON.parse(found.body) as Record<string, { Value: string[] }>[];
    assert.deepEqual(studies.map((s) => s['0020000D'].Value[0]), [STUDY]);
    assert.equal(typeof found.headers['x-request-id'], 'string');
    // Also by name, as the certificate says.
    const byName = await httpsSend(`${httpsUrl.replace('127.0.0.1', 'localhost')}/health/live`, cert);
    assert.equal(byName.status, 200);
  });

  test('a client that does not trust it is refused, and plain HTTP gets no answer', async () => {
    await assert.rejects(httpsSend(`${httpsUrl}/dicomweb/studies`, undefined), (e: NodeJS.ErrnoException) => /SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(e.code)));
    await assert.rejects(send(`${gw.baseUrl}/dicomweb/studies`, { timeoutMs: 5_000 }));
  });
});

describe('certificate files that cannot be used stop the start (exit 2)', () => {
  const dir = makeTempDir('tls-bad');
  const good = join(dir.path, 'good');
  before(() => {
    mkdirSync(good);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(good, 'key.pem'), '-out', join(good, 'cert.pem')], { stdio: 'ignore' });
    writeFileSync(join(dir.path, 'garbage.pem'), 'not a certificate\n');
  });
  after(() => dir.remove());

  test('a missing certificate file is named', async () => {
    const missing = join(dir.path, 'nowhere', 'cert.pem');
    const { code, output } = await runGatewayUntilExit(join(dir.path, 'data1'), { TLS_CERT_FILE: missing, TLS_KEY_FILE: join(good, 'key.pem') });
    assert.equal(code, 2, output);
    assert.ok(output.includes(`TLS_CERT_FILE (tls.certFile): cannot read ${missing} (ENOENT)`), output);
    assert.doesNotMatch(output, /\n\s+at /, 'a configuration problem, not a stack trace');
  });

  test('an unreadable key file is named', async () => {
    // A directory cannot be read as a file, whoever runs the test (root reads files of mode 000).
    const { code, output } = await runGatewayUntilExit(join(dir.path, 'data2'), { TLS_CERT_FILE: join(good, 'cert.pem'), TLS_KEY_FILE: good });
    assert.equal(code, 2, output);
    assert.ok(output.includes(`TLS_KEY_FILE (tls.keyFile): cannot read ${good} (EISDIR)`), output);
  });

  test('a file that is not a PEM certificate is named', async () => {
    const garbage = join(dir.path, 'garbage.pem');
    const { code, output } = await runGatewayUntilExit(join(dir.path, 'data3'), { TLS_CERT_FILE: garbage, TLS_KEY_FILE: join(good, 'key.pem') });
    assert.equal(code, 2, output);
    assert.ok(output.includes(`${garbage} and ${join(good, 'key.pem')} are not a PEM certificate and its private key`), output);
  });
});
