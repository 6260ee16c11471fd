/**
 * Authentication and scopes with a local identity provider (test/helpers/jwks-server.ts) and real
 * signed tokens: valid, expired, not yet valid, wrong audience, wrong issuer, wrong key, alg none,
 * an HMAC token, an unknown kid (the key set fetched again), the provider unreachable; scopes per
 * store and family of routes; API keys created, used and revoked; study tokens beside all that;
 * and the start refused on a public address without authentication.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { StudyTokenService } from '../../src/events/tokens/study-token.service';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { startTestIdp, TestIdp } from '../helpers/jwks-server';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { runGatewayUntilExit, startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7830';
const STUDY = `${ROOT}.1`;
const OTHER_STUDY = `${ROOT}.2`;
const instance = (study: string, n: number) => syntheticInstance({ seed: 7830 + n, rows: 8, columns: 8, studyUid: study, seriesUid: `${study}.1`, sopInstanceUid: `${study}.1.${n}`, patientId: 'AUTH-1', patientName: 'Secret^Patient' });

describe('authentication and scopes', () => {
  let idp: TestIdp;
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  const dir = makeTempDir('auth');
  const url = (path: string) => `${gw.baseUrl}${path}`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const get = (path: string, headers: Record<string, string> = {}) => send(url(path), { headers: { accept: 'application/dicom+json', ...headers } });
  const stow = (path: string, files: Buffer[], headers: Record<string, string> = {}) => {
    const { body, contentType } = multipartBody(files);
    return send(url(path), { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers }, body });
  };
  const tokenWith = (scope: string, claims: Record<string, unknown> = {}) => idp.sign({ scope, ...claims });

  before(async () => {
    idp = await startTestIdp();
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(config, 'defaultStore: main\nstores:\n  - { name: main, kind: local }\n  - { name: other, kind: local }\n');
    gw = await startInProcessGateway({
      CONFIG_FILE: config,
      DATA_DIR: join(dir.path, 'data'),
      AUTH_MODE: 'required',
      AUTH_JWT_ISSUER: idp.issuer,
      AUTH_JWT_AUDIENCE: idp.audience,
      AUTH_JWT_JWKS_URL: idp.jwksUrl,
      AUTH_JWT_CLOCK_TOLERANCE_SECONDS: '30',
      AUTH_JWT_KEY_SET_COOLDOWN_SECONDS: '1',
    });
    const writer = await tokenWith('dicomweb:write');
    assert.equal((await stow('/dicomweb/studies', [instance(STUDY, 1), instance(OTHER_STUDY, 2)], bearer(writer))).status, 200);
  });
  after(async () => {
    await gw?.stop();
    await idp?.close();
    dir.remove();
  });

  test('no credential: 401 with a Bearer challenge; public routes answer without one', async () => {
    const res = await get('/dicomweb/studies');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="dicomweb-gateway"');
    assert.match(String(res.headers.warning), /credential is required/);
    for (const path of ['/health/live', '/health/ready', '/metrics']) assert.equal((await send(url(path))).status, 200, path);
    assert.equal((await send(url('/health/live'), { headers: bearer('not-even-a-token') })).status, 200);
  });

  test('a valid token with the read scope reads; writing needs the write scope (403 insufficient_scope)', async () => {
    const reader = await tokenWith('openid dicomweb:read');
    assert.equal((await get('/dicomweb/studies?PatientID=AUTH-1', bearer(reader))).status, 200);
    assert.equal((await get(`/dicomweb/studies/${STUDY}/metadata`, bearer(reader))).status, 200);
    const refused = await stow('/dicomweb/studies', [instance(STUDY, 3)], bearer(reader));
    assert.equal(refused.status, 403);
    assert.match(String(refused.headers['www-authenticate']), /error="insufficient_scope", scope="dicomweb:write:main"/);
    // A scope list (the scp claim of some providers) works as well as the scope string.
    const listed = await idp.sign({ scp: ['dicomweb:read'] });
    assert.equal((await get('/dicomweb/studies', bearer(listed))).status, 200);
  });

  test('scopes per store: a store named in the scope, and only it', async () => {
    const otherOnly = await tokenWith('dicomweb:read:other');
    assert.equal((await get('/stores/other/dicomweb/studies', bearer(otherOnly))).status, 200);
    const main = await get('/dicomweb/studies', bearer(otherOnly));
    assert.equal(main.status, 403);
    assert.match(String(main.headers['www-authenticate']), /scope="dicomweb:read:main"/);
    assert.equal((await get('/stores/main/dicomweb/studies', bearer(otherOnly))).status, 403);
    const writeMain = await tokenWith('dicomweb:write:main');
    assert.equal((await stow('/stores/main/dicomweb/studies', [instance(STUDY, 4)], bearer(writeMain))).status, 200);
    assert.equal((await stow('/stores/other/dicomweb/studies', [instance(STUDY, 5)], bearer(writeMain))).status, 403);
  });

  test('every DICOMweb route family: 401 without a credential, 403 with the other permission, allowed with its own', async () => {
    const series = `${STUDY}.1`;
    const sop = `${series}.1`;
    const instancePath = `/dicomweb/studies/${STUDY}/series/${series}/instances/${sop}`;
    const reads = [
      '/dicomweb/studies',
      '/dicomweb/series',
      '/dicomweb/instances',
      `/dicomweb/studies/${STUDY}/series`,
      `/dicomweb/studies/${STUDY}/instances`,
      `/dicomweb/studies/${STUDY}`,
      `/dicomweb/studies/${STUDY}/metadata`,
      `/dicomweb/studies/${STUDY}/series/${series}`,
      `/dicomweb/studies/${STUDY}/series/${series}/metadata`,
      instancePath,
      `${instancePath}/metadata`,
      `${instancePath}/frames/1`,
      `${instancePath}/bulkdata/7FE00010`,
      `${instancePath}/rendered`,
    ];
    const reader = bearer(await tokenWith('dicomweb:read'));
    const writer = bearer(await tokenWith('dicomweb:write'));
    for (const path of reads) {
      assert.equal((await send(url(path))).status, 401, `${path} without a credential`);
      assert.equal((await send(url(path), { headers: writer })).status, 403, `${path} with write only`);
      const allowed = (await send(url(path), { headers: { ...reader, accept: '*/*' } })).status;
      assert.ok(allowed !== 401 && allowed !== 403, `${path} with read: ${allowed}`);
    }
    assert.equal((await stow(`/dicomweb/studies/${STUDY}`, [instance(STUDY, 9)])).status, 401);
    assert.equal((await stow(`/dicomweb/studies/${STUDY}`, [instance(STUDY, 9)], reader)).status, 403);
    assert.equal((await stow(`/dicomweb/studies/${STUDY}`, [instance(STUDY, 9)], writer)).status, 200);
    const complete = (headers: Record<string, string>) => send(url(`/api/studies/${STUDY}/complete`), { method: 'POST', headers });
    assert.equal((await complete({})).status, 401);
    assert.equal((await complete(reader)).status, 403);
    assert.ok([200, 202, 204].includes((await complete(writer)).status), 'write on the store may say an upload is complete');
  });

  test('admin routes need the admin scope; the store list any valid credential', async () => {
    const reader = await tokenWith('dicomweb:read dicomweb:write');
    for (const path of ['/api/forwarding', '/api/subscriptions', '/api/audit', '/api/keys', `/api/studies/${STUDY}/events`]) {
      const res = await get(path, bearer(reader));
      assert.equal(res.status, 403, path);
      assert.match(String(res.headers['www-authenticate']), /scope="dicomweb:admin"/, path);
    }
    assert.equal((await get('/api/stores', bearer(reader))).status, 200);
    const admin = await tokenWith('dicomweb:admin');
    assert.equal((await get('/api/subscriptions', bearer(admin))).status, 200);
    assert.equal((await get('/api/audit', bearer(admin))).status, 200);
    assert.equal((await get('/dicomweb/studies', bearer(admin))).status, 403, 'admin alone does not read studies');
  });

  test('bad tokens are 401 with the reason: expired, not yet valid, wrong audience or issuer, wrong key, alg none, HMAC, garbage', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stray = await idp.strayKey('RS256', 'rsa-1');
    const cases: [string, string, RegExp][] = [
      ['expired', await tokenWith('dicomweb:read', { iat: now - 600, exp: now - 120 }), /expired/],
      ['not yet valid', await tokenWith('dicomweb:read', { nbf: now + 600 }), /"nbf" claim/],
      ['wrong audience', await tokenWith('dicomweb:read', { aud: 'someone-else' }), /"aud" claim/],
      ['wrong issuer', await tokenWith('dicomweb:read', { iss: 'https://evil.example/realms/x' }), /"iss" claim/],
      ['no exp', await tokenWith('dicomweb:read', { exp: undefined }), /"exp" claim/],
      ['wrong key, same kid', await idp.sign({ scope: 'dicomweb:read' }, { key: stray }), /signature/],
      ['alg none', new UnsecuredJWT({ iss: idp.issuer, aud: idp.audience, sub: 'x', scope: 'dicomweb:read', exp: now + 300 }).encode(), /algorithm|not valid/],
      ['HMAC', await new SignJWT({ scope: 'dicomweb:read' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setIssuer(idp.issuer).setAudience(idp.audience).setExpirationTime(now + 300).sign(Buffer.alloc(32, 7)), /algorithm|not valid/],
      ['garbage', 'garbage', /malformed|not valid/],
    ];
    for (const [what, token, reason] of cases) {
      const res = await get('/dicomweb/studies', bearer(token));
      assert.equal(res.status, 401, `${what}: ${res.text()}`);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/, what);
      assert.match(res.json().message, reason, what);
    }
    // A token expired 10 s ago is still accepted within the 30 s clock tolerance.
    assert.equal((await get('/dicomweb/studies', bearer(await tokenWith('dicomweb:read', { iat: now - 100, exp: now - 10 })))).status, 200);
  });

  test('an unknown kid makes the gateway fetch the key set again: a rotated key is accepted', async () => {
    await new Promise((r) => setTimeout(r, 1_100)); // past the key set's refetch cool-down
    const before = idp.fetches();
    const rotated = await idp.addKey('PS256');
    const token = await idp.sign({ scope: 'dicomweb:read' }, { kid: rotated.kid });
    assert.equal((await get('/dicomweb/studies', bearer(token))).status, 200);
    assert.ok(idp.fetches() > before, 'the key set was fetched again');
    const ec = await idp.sign({ scope: 'dicomweb:read' }, { kid: 'ec-1' });
    assert.equal((await get('/dicomweb/studies', bearer(ec))).status, 200, 'ES256 too');
  });

  test('the identity provider unreachable when a key must be fetched: 503, not 401', async () => {
    idp.setDown(true);
    try {
      await new Promise((r) => setTimeout(r, 1_100)); // past the key set's refetch cool-down
      const rotated = await idp.addKey('RS256');
      const res = await get('/dicomweb/studies', bearer(await idp.sign({ scope: 'dicomweb:read' }, { kid: rotated.kid })));
      assert.equal(res.status, 503, res.text());
      assert.ok(Number(res.headers['retry-after']) >= 1);
    } finally {
      idp.setDown(false);
    }
  });

  test('API keys: made by an admin, used by X-API-Key or as a bearer, confined to their scopes, revoked', async () => {
    const admin = bearer(await tokenWith('dicomweb:admin'));
    const bad = await send(url('/api/keys'), { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ name: 'edge', scopes: ['nothing'] })) });
    assert.equal(bad.status, 400);
    const made = await send(url('/api/keys'), { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ name: 'edge-1', scopes: ['dicomweb:write:main'] })) });
    assert.equal(made.status, 201, made.text());
    const { key, apiKey } = made.json();
    assert.match(key, /^gwk_[A-Za-z0-9_-]{43}$/);
    const listed = (await get('/api/keys', admin)).json().apiKeys as { id: string; hint: string }[];
    assert.ok(listed.some((k) => k.id === apiKey.id && key.startsWith(k.hint.replace('...', ''))));
    assert.ok(!JSON.stringify(listed).includes(key), 'a key is never shown again');
    assert.equal((await stow('/dicomweb/studies', [instance(STUDY, 6)], { 'x-api-key': key })).status, 200);
    assert.equal((await stow('/dicomweb/studies', [instance(STUDY, 7)], bearer(key))).status, 200);
    assert.equal((await get('/dicomweb/studies', { 'x-api-key': key })).status, 403, 'write only');
    assert.equal((await send(url(`/api/keys/${apiKey.id}`), { method: 'DELETE', headers: admin })).status, 204);
    const revoked = await stow('/dicomweb/studies', [instance(STUDY, 8)], { 'x-api-key': key });
    assert.equal(revoked.status, 401);
    assert.match(revoked.json().message, /revoked/);
    assert.equal((await get('/dicomweb/studies', { 'x-api-key': 'gwk_made-up' })).status, 401);
  });

  test('study tokens work beside the identity provider, within their study only', async () => {
    const token = gw.app.get(StudyTokenService).issue('main', STUDY).token;
    assert.equal((await get(`/dicomweb/studies/${STUDY}/metadata`, bearer(token))).status, 200);
    assert.equal((await get(`/dicomweb/studies/${OTHER_STUDY}/metadata`, bearer(token))).status, 403);
    assert.equal((await get('/api/stores', bearer(token))).status, 200);
    assert.equal((await get('/api/forwarding', bearer(token))).status, 403);
  });

  test('the audit trail: who read and wrote which study, with the outcome and bytes; no patient data', async () => {
    const reader = await idp.sign({ scope: 'dicomweb:read', sub: 'radiologist-7' });
    assert.equal((await get(`/dicomweb/studies/${STUDY}/metadata`, bearer(reader))).status, 200);
    assert.equal((await get('/dicomweb/studies?PatientName=Secret*', bearer(reader))).status, 200);
    assert.equal((await get(`/dicomweb/studies/${STUDY}/metadata`)).status, 401);
    await new Promise((r) => setTimeout(r, 300));
    const admin = bearer(await tokenWith('dicomweb:admin'));
    const trail = (await get(`/api/audit?study=${STUDY}&limit=1000`, admin)).json();
    const records = trail.records as { client: string; action: string; status: number; bytes: number; studies: string[]; address: string; requestId: string; route: string }[];
    const read = records.find((r) => r.client === 'jwt:radiologist-7' && r.action === 'wado.metadata');
    assert.ok(read, JSON.stringify(records.slice(0, 3)));
    assert.equal(read.status, 200);
    assert.ok(read.bytes > 1000);
    assert.equal(read.address, '127.0.0.1');
    assert.ok(read.requestId);
    assert.ok(records.some((r) => r.client === 'jwt:radiologist-7' && r.action === 'qido.search' && r.studies.includes(STUDY)), 'the studies a search revealed');
    assert.ok(records.some((r) => r.action === 'stow.store' && r.status === 200 && r.bytes > 0));
    assert.ok(records.some((r) => r.client === 'unauthenticated' && r.status === 401));
    assert.ok(!JSON.stringify(trail).includes('Secret'), 'no patient name in the trail');
    const since = (await get(`/api/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, admin)).json();
    assert.deepEqual(since.records, []);
    assert.equal((await get('/api/audit?study=not-a-uid', admin)).status, 400);
  });
});

describe('starting without authentication', () => {
  test('on a non-loopback address it refuses to start, and says why', async () => {
    const dir = makeTempDir('auth-start');
    try {
      const { code, output } = await runGatewayUntilExit(dir.path, { HOST: '0.0.0.0', AUTH_MODE: 'off' });
      assert.equal(code, 2);
      assert.match(output, /authentication is off while the gateway listens on 0\.0\.0\.0, which is not a loopback address/);
    } finally {
      dir.remove();
    }
  });
});
