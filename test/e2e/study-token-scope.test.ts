/**
 * A study token in use: it reads its study (WADO, metadata, QIDO within the study) and stores into
 * it, at /dicomweb and /stores/default/dicomweb; anything else is 403 (another study, top-level
 * searches, another store) and an invalid or expired token is 401. Requests without a token are
 * unaffected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { StudyTokenService } from '../../src/events/tokens/study-token.service';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7816';
const A = `${ROOT}.1`;
const B = `${ROOT}.2`;
const SECRET = 'e2e-study-token-secret-0123456789abcdef';

function instance(study: string, series: number, n: number): Buffer {
  return syntheticInstance({
    seed: series * 100 + n + (study === A ? 0 : 5000),
    rows: 16,
    columns: 16,
    studyUid: study,
    seriesUid: `${study}.${series}`,
    sopInstanceUid: `${study}.${series}.${n}`,
    instanceNumber: n,
    patientId: study === A ? 'TOK-A' : 'TOK-B',
  });
}

describe('study token scope', () => {
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let token = '';

  const stow = (path: string, parts: Buffer[], headers: Record<string, string> = {}) => {
    const { body, contentType } = multipartBody(parts);
    return send(`${gw.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers }, body });
  };
  /** bearer: the token to send (the study token of A by default); null: no Authorization. */
  const get = (path: string, bearer: string | null = token, accept = 'application/dicom+json') =>
    send(`${gw.baseUrl}${path}`, { headers: { accept, ...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}) } });
  const auth = () => ({ authorization: `Bearer ${token}` });
  /** A GET with the path sent exactly as given (send() would normalize dot segments first). */
  const rawGet = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(gw.baseUrl);
      const req = httpRequest({ host: url.hostname, port: url.port, path, agent: false, headers: { accept: 'application/dicom+json', ...auth() } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    gw = await startInProcessGateway({ EVENTS_TOKEN_SECRET: SECRET, EVENTS_TOKEN_TTL_SECONDS: '600' });
    assert.equal((await stow('/dicomweb/studies', [instance(A, 1, 1), instance(A, 1, 2)])).status, 200);
    assert.equal((await stow('/dicomweb/studies', [instance(B, 1, 1)])).status, 200);
    token = gw.app.get(StudyTokenService).issue('default', A).token;
  });
  after(async () => {
    await gw?.stop();
  });

  test('reads within its study: 200', async () => {
    for (const path of [
      `/dicomweb/studies/${A}/metadata`,
      `/dicomweb/studies/${A}/series/${A}.1/metadata`,
      `/dicomweb/studies/${A}/series/${A}.1/instances/${A}.1.1/metadata`,
      `/dicomweb/studies/${A}/series`,
      `/dicomweb/studies/${A}/instances`,
      `/dicomweb/studies/${A}/series/${A}.1/instances`,
      `/stores/default/dicomweb/studies/${A}/metadata`,
    ]) {
      const res = await get(path);
      assert.equal(res.status, 200, `${path}: ${res.text()}`);
    }
    const series = (await get(`/dicomweb/studies/${A}/series`)).json();
    assert.equal(series.length, 1);
    const wado = await get(`/dicomweb/studies/${A}`, token, 'multipart/related; type="application/dicom"');
    assert.equal(wado.status, 200);
    const frame = await get(`/dicomweb/studies/${A}/series/${A}.1/instances/${A}.1.1/frames/1`, token, 'multipart/related; type="application/octet-stream"');
    assert.equal(frame.status, 200);
  });

  test('another study, top-level searches: 403', async () => {
    for (const path of [
      `/dicomweb/studies/${B}/metadata`,
      `/dicomweb/studies/${B}`,
      `/dicomweb/studies/${B}/series`,
      `/dicomweb/studies?PatientID=TOK-B`,
      `/dicomweb/studies`,
      `/dicomweb/series?PatientID=TOK-B`,
      `/dicomweb/instances`,
      `/stores/default/dicomweb/studies?PatientID=TOK-B`,
      `/dicomweb/studies/${A}/series/../../${B}/metadata`,
      `/dicomweb/studies/${A}/%2E%2E/${B}/metadata`,
    ]) {
      const res = await get(path);
      assert.equal(res.status, 403, `${path}: ${res.status} ${res.text()}`);
      assert.match(res.json().message, /outside the token's scope/);
      assert.doesNotMatch(res.text(), /TOK-B/);
    }
  });

  test('paths sent verbatim: dot segments refused, slashes and percent-encoding handled', async () => {
    for (const path of [
      `/dicomweb/studies/${A}/series/../../${B}/metadata`,
      `/dicomweb/studies/${A}/%2E%2E/${B}/metadata`,
      `/dicomweb/studies/${A}/..%2F${B}/metadata`,
      `/dicomweb/studies/./${B}/metadata`,
      `/stores/default/dicomweb/studies/${A}/../../../dicomweb/studies/${B}`,
      `/dicomweb/studies/${B}%2Fmetadata`,
    ]) {
      const res = await rawGet(path);
      assert.equal(res.status, 403, `${path}: ${res.status} ${res.body}`);
    }
    // Percent-encoded characters of the study's own UID: the same study.
    const encoded = await rawGet(`/dicomweb/studies/${A.replace(/\./g, '%2E')}/metadata`);
    assert.equal(encoded.status, 200, encoded.body);
    const encodedB = await rawGet(`/dicomweb/studies/${B.replace(/\./g, '%2E')}/metadata`);
    assert.equal(encodedB.status, 403, encodedB.body);
    // Double and trailing slashes never reach another study, and never fail with a 5xx.
    for (const path of [`/dicomweb//studies/${B}/metadata`, `/dicomweb/studies//${B}/metadata`, `/dicomweb/studies/${B}/`, `//dicomweb/studies/${B}`]) {
      const res = await rawGet(path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.doesNotMatch(res.body, /TOK-B/);
    }
    for (const path of [`/dicomweb/studies/${A}/`, `/dicomweb//studies/${A}/metadata`]) {
      const res = await rawGet(path);
      assert.ok(res.status !== 401 && res.status !== 403 && res.status < 500, `${path}: ${res.status}`);
    }
  });

  test('STOW into its study: 200, at both prefixes', async () => {
    const a = await stow('/dicomweb/studies', [instance(A, 2, 1)], auth());
    assert.equal(a.status, 200, a.text());
    const b = await stow(`/dicomweb/studies/${A}`, [instance(A, 2, 2)], auth());
    assert.equal(b.status, 200, b.text());
    const c = await stow('/stores/default/dicomweb/studies', [instance(A, 2, 3)], auth());
    assert.equal(c.status, 200, c.text());
    const d = await stow(`/stores/default/dicomweb/studies/${A}`, [instance(A, 2, 4)], auth());
    assert.equal(d.status, 200, d.text());
    const stored = (await get(`/dicomweb/studies/${A}/series/${A}.2/instances`)).json();
    assert.equal(stored.length, 4);
  });

  test('STOW of another study with the token: the instance is refused', async () => {
    const res = await stow('/dicomweb/studies', [instance(B, 3, 1)], auth());
    assert.equal(res.status, 409, res.text());
    const failed = res.json()['00081198'].Value[0];
    assert.equal(failed['00081155'].Value[0], `${B}.3.1`);
    assert.equal(failed['00081197'].Value[0], 0xa900);
    // Mixed: the instance of the token's study is stored, the other refused.
    const mixed = await stow('/dicomweb/studies', [instance(A, 3, 1), instance(B, 3, 2)], auth());
    assert.equal(mixed.status, 202, mixed.text());
    assert.equal(mixed.json()['00081199'].Value.length, 1);
    assert.equal(mixed.json()['00081198'].Value[0]['00081155'].Value[0], `${B}.3.2`);
    // POST to the other study's URL is not even read.
    assert.equal((await stow(`/dicomweb/studies/${B}`, [instance(B, 3, 3)], auth())).status, 403);
    // Nothing of B reached the store.
    const series = await get(`/dicomweb/studies/${B}/series`, null);
    assert.deepEqual(series.json().map((s: any) => s['0020000E'].Value[0]), [`${B}.1`]);
  });

  test('invalid or expired tokens: 401 with WWW-Authenticate', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ sub: `study:default:${A}`, store: 'default', study: A, scope: 'study.read study.write', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('dicomweb-gateway')
      .setAudience('dicomweb-gateway-study')
      .setIssuedAt(now - 700)
      .setExpirationTime(now - 100)
      .sign(Buffer.from(SECRET));
    const [h, p] = token.split('.');
    for (const [what, bad, reason] of [
      ['garbage', 'garbage', /malformed/],
      ['expired', expired, /expired/],
      ['tampered', `${h}.${p}.AAAA`, /signature/],
      ['empty', '', /no token/],
    ] as const) {
      const res = await get(`/dicomweb/studies/${A}/metadata`, bad);
      assert.equal(res.status, 401, what);
      assert.match(String(res.headers['www-authenticate']), /^Bearer (realm="[^"]*", )?error="invalid_token"/, what);
      assert.match(res.json().message, reason, what);
    }
    const post = await stow('/dicomweb/studies', [instance(A, 4, 1)], { authorization: 'Bearer garbage' });
    assert.equal(post.status, 401);
  });

  test('a token for another store: 403', async () => {
    const other = gw.app.get(StudyTokenService).issue('other', A).token;
    const res = await get(`/dicomweb/studies/${A}/metadata`, other);
    assert.equal(res.status, 403);
    assert.match(res.json().message, /store "other"/);
    const stowed = await stow('/dicomweb/studies', [instance(A, 5, 1)], { authorization: `Bearer ${other}` });
    assert.equal(stowed.status, 403);
  });

  test('without Authorization (or with another scheme) nothing changes', async () => {
    assert.equal((await get('/dicomweb/studies?PatientID=TOK-B', null)).status, 200);
    const basic = await send(`${gw.baseUrl}/dicomweb/studies/${B}/metadata`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.status, 200);
    assert.equal((await get('/health/live', 'garbage')).status, 200);
  });
});
