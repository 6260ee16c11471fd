/**
 * Study tokens: issue and verify (claims, expiry, tampering, wrong secret, `alg: none` and other
 * algorithms refused, wrong audience/issuer), the generated secret kept in events.sqlite, and the
 * scope check of the guard (store, study, methods, path tricks).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { GatewayConfig } from '../../src/config/gateway-config';
import { EventsDatabase } from '../../src/events/events-database';
import { bearerTokenOf, parseDicomwebPath, studyTokenScopeRefusal } from '../../src/events/tokens/study-token.guard';
import { InvalidStudyToken, StudyTokenService } from '../../src/events/tokens/study-token.service';
import { makeTempDir } from '../helpers/temp-dir';

const STUDY = '1.2.826.0.1.3680043.10.7815.1';
const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

const dirs: { remove(): void }[] = [];
const databases: EventsDatabase[] = [];
after(() => {
  for (const d of databases) d.close();
  for (const d of dirs) d.remove();
});

function database(dir?: string): EventsDatabase {
  let path = dir;
  if (path === undefined) {
    const d = makeTempDir('tokens');
    dirs.push(d);
    path = d.path;
  }
  const db = new EventsDatabase(join(path, 'events.sqlite'));
  databases.push(db);
  return db;
}

function service(options: { secret?: string; ttl?: number; db?: EventsDatabase; clock?: () => number } = {}): StudyTokenService {
  const config = { events: { tokenTtlSeconds: options.ttl ?? 600, tokenSecret: options.secret }, defaultStore: 'default' } as unknown as GatewayConfig;
  return new StudyTokenService(config, options.db ?? database(), options.clock);
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('StudyTokenService', () => {
  test('issues an HS256 JWT with the agreed claims, which verifies', async () => {
    const tokens = service({ secret: SECRET, ttl: 900 });
    const before = Math.floor(Date.now() / 1000);
    const { token, expiresAt } = tokens.issue('default', STUDY);
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    assert.equal(claims.sub, `study:default:${STUDY}`);
    assert.equal(claims.store, 'default');
    assert.equal(claims.study, STUDY);
    assert.equal(claims.scope, 'study.read study.write');
    assert.equal(claims.iss, 'dicomweb-gateway');
    assert.equal(claims.aud, 'dicomweb-gateway-study');
    assert.ok(claims.iat! >= before && claims.iat! <= before + 2);
    assert.equal(claims.exp! - claims.iat!, 900);
    assert.equal(typeof claims.jti, 'string');
    assert.equal(expiresAt, new Date(claims.exp! * 1000).toISOString());
    assert.notEqual(decodeJwt(tokens.issue('default', STUDY).token).jti, claims.jti);

    const verified = await tokens.verify(token);
    assert.deepEqual(verified, { store: 'default', study: STUDY, expiresAt: new Date(claims.exp! * 1000) });
    // Any standard JWT library accepts it with the secret.
    const { payload } = await jwtVerify(token, Buffer.from(SECRET), { algorithms: ['HS256'], audience: 'dicomweb-gateway-study', issuer: 'dicomweb-gateway' });
    assert.equal(payload.study, STUDY);
  });

  test('expired tokens are refused (injected clock)', async () => {
    let now = Date.UTC(2030, 0, 1);
    const tokens = service({ secret: SECRET, ttl: 60, clock: () => now });
    const { token, expiresAt } = tokens.issue('default', STUDY);
    assert.equal(expiresAt, new Date(Date.UTC(2030, 0, 1) + 60_000).toISOString());
    now += 59_000;
    assert.equal((await tokens.verify(token)).study, STUDY);
    now += 2_000;
    await assert.rejects(tokens.verify(token), (e: Error) => e instanceof InvalidStudyToken && /expired/.test(e.message));
  });

  test('expired tokens are refused (real clock, short TTL)', async () => {
    const tokens = service({ secret: SECRET, ttl: 1 });
    const { token } = tokens.issue('default', STUDY);
    await new Promise((r) => setTimeout(r, 2100));
    await assert.rejects(tokens.verify(token), /expired/);
  });

  test('a tampered token is refused', async () => {
    const tokens = service({ secret: SECRET });
    const [header, payload, signature] = tokens.issue('default', STUDY).token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const other = b64({ ...claims, study: '1.2.3.4', sub: 'study:default:1.2.3.4' });
    await assert.rejects(tokens.verify(`${header}.${other}.${signature}`), /signature/);
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    await assert.rejects(tokens.verify(`${header}.${payload}.${flipped}`), InvalidStudyToken);
    await assert.rejects(tokens.verify(`${header}.${payload}`), /malformed/);
    await assert.rejects(tokens.verify('garbage'), /malformed/);
    await assert.rejects(tokens.verify(''), InvalidStudyToken);
  });

  test('a token signed with another secret is refused', async () => {
    const { token } = service({ secret: SECRET }).issue('default', STUDY);
    await assert.rejects(service({ secret: 'another-secret-that-is-long-enough-9876543210' }).verify(token), /signature/);
    await assert.rejects(service().verify(token), /signature/);
  });

  test('alg none and other algorithms are refused', async () => {
    const tokens = service({ secret: SECRET });
    const claims = decodeJwt(tokens.issue('default', STUDY).token);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    await assert.rejects(tokens.verify(none), InvalidStudyToken);
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(Buffer.from(SECRET.repeat(2)));
    await assert.rejects(tokens.verify(hs512), /algorithm/);
  });

  test('wrong audience, issuer or missing study claims are refused', async () => {
    const tokens = service({ secret: SECRET });
    const now = Math.floor(Date.now() / 1000);
    const base = { sub: `study:default:${STUDY}`, store: 'default', study: STUDY, scope: 'study.read study.write', iat: now, exp: now + 60 };
    const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(SECRET));
    assert.equal((await tokens.verify(await sign({ ...base, iss: 'dicomweb-gateway', aud: 'dicomweb-gateway-study' }))).study, STUDY);
    await assert.rejects(tokens.verify(await sign({ ...base, iss: 'dicomweb-gateway', aud: 'something-else' })), /"aud"/);
    await assert.rejects(tokens.verify(await sign({ ...base, iss: 'someone', aud: 'dicomweb-gateway-study' })), /"iss"/);
    await assert.rejects(tokens.verify(await sign({ ...base, aud: 'dicomweb-gateway-study' })), /"iss"/);
    const good = { iss: 'dicomweb-gateway', aud: 'dicomweb-gateway-study' };
    await assert.rejects(tokens.verify(await sign({ ...base, ...good, study: undefined })), /not a study token/);
    await assert.rejects(tokens.verify(await sign({ ...base, ...good, sub: 'study:default:1.2.3' })), /not a study token/);
    await assert.rejects(tokens.verify(await sign({ ...base, ...good, scope: 'study.read' })), /scope/);
    await assert.rejects(tokens.verify(await sign({ ...base, ...good, exp: undefined })), /"exp"/);
  });

  test('without a configured secret: one generated and kept in events.sqlite', async () => {
    const dir = makeTempDir('tokens-persist');
    dirs.push(dir);
    const first = database(dir.path);
    const { token } = service({ db: first }).issue('default', STUDY);
    // Another start on the same data directory accepts it.
    first.close();
    databases.splice(databases.indexOf(first), 1);
    const second = database(dir.path);
    assert.equal((await service({ db: second }).verify(token)).study, STUDY);
    const rows = second.db.prepare('SELECT length(secret) AS n FROM study_token_secret').all() as { n: number }[];
    assert.deepEqual(rows, [{ n: 32 }]);
    // Another data directory does not.
    await assert.rejects(service().verify(token), /signature/);
  });
});

describe('study token scope', () => {
  const token = { store: 'default', study: STUDY };
  const refusal = (method: string, url: string, params: Record<string, string> = {}, defaultStore = 'default') =>
    studyTokenScopeRefusal(method, url, params, token, defaultStore);

  test('within the study: allowed', () => {
    for (const url of [
      `/dicomweb/studies/${STUDY}`,
      `/dicomweb/studies/${STUDY}/metadata`,
      `/dicomweb/studies/${STUDY}/series`,
      `/dicomweb/studies/${STUDY}/instances?limit=3`,
      `/dicomweb/studies/${STUDY}/series/1.2.3/instances/1.2.3.4/frames/1`,
      `/dicomweb/studies/${STUDY}/series/1.2.3/instances/1.2.3.4/bulkdata/7FE00010`,
      `/dicomweb/studies/${STUDY}/rendered`,
      `/dicomweb/studies/${STUDY}/`,
      `/dicomweb//studies//${STUDY}/metadata`,
      `/dicomweb/studies/${STUDY.replace(/\./g, '%2E')}`,
      `/stores/default/dicomweb/studies/${STUDY}`,
    ]) {
      assert.equal(refusal('GET', url, { study: STUDY }), undefined, url);
      assert.equal(refusal('HEAD', url, { study: STUDY }), undefined, url);
    }
    assert.equal(refusal('GET', `/stores/default/dicomweb/studies/${STUDY}`, { store: 'default', study: STUDY }), undefined);
    assert.equal(refusal('POST', '/dicomweb/studies'), undefined);
    assert.equal(refusal('POST', '/dicomweb/studies/'), undefined);
    assert.equal(refusal('POST', `/dicomweb/studies/${STUDY}`, { study: STUDY }), undefined);
    assert.equal(refusal('POST', '/stores/default/dicomweb/studies', { store: 'default' }), undefined);
  });

  test('another study, top-level searches, other methods: refused', () => {
    assert.match(refusal('GET', '/dicomweb/studies/1.2.3/metadata', { study: '1.2.3' })!, /only/);
    assert.match(refusal('GET', '/dicomweb/studies?PatientID=X')!, /searching all studies/);
    assert.match(refusal('GET', '/dicomweb/studies/')!, /searching all studies/);
    assert.ok(refusal('GET', '/dicomweb/series?StudyInstanceUID=' + STUDY));
    assert.ok(refusal('GET', '/dicomweb/instances'));
    assert.ok(refusal('GET', '/dicomweb'));
    assert.ok(refusal('POST', '/dicomweb/studies/1.2.3', { study: '1.2.3' }));
    assert.ok(refusal('POST', `/dicomweb/studies/${STUDY}/series`, { study: STUDY }));
    assert.ok(refusal('DELETE', `/dicomweb/studies/${STUDY}`, { study: STUDY }));
    assert.ok(refusal('PUT', `/dicomweb/studies/${STUDY}`, { study: STUDY }));
  });

  test('another store: refused', () => {
    assert.match(refusal('GET', `/stores/other/dicomweb/studies/${STUDY}`, { store: 'other', study: STUDY })!, /store/);
    assert.match(refusal('GET', `/dicomweb/studies/${STUDY}`, { study: STUDY }, 'other')!, /store/);
    // The path and the route parameters must name the same store and study.
    assert.ok(refusal('GET', `/stores/default/dicomweb/studies/${STUDY}`, { store: 'other', study: STUDY }));
    assert.ok(refusal('GET', `/dicomweb/studies/${STUDY}`, { study: '1.2.3' }));
  });

  test('path tricks: refused', () => {
    for (const url of [
      `/dicomweb/studies/${STUDY}/../1.2.3/metadata`,
      `/dicomweb/studies/${STUDY}/%2e%2e/1.2.3`,
      `/dicomweb/studies/${STUDY}/%2E%2E/%2E%2E/series`,
      `/dicomweb/studies/./${STUDY}`,
      `/dicomweb/studies/${STUDY}%2F..%2F1.2.3`,
      `/dicomweb/studies/${STUDY}%5C..`,
      `/dicomweb/studies/${STUDY}%00`,
      `/dicomweb/studies/${STUDY}/%E0%A4%A`,
      `/dicomweb/../stores/other/dicomweb/studies/${STUDY}`,
      `http://host/dicomweb/studies/${STUDY}`,
      `/other/dicomweb/studies/${STUDY}`,
    ]) {
      assert.ok(refusal('GET', url, { study: STUDY }), url);
    }
  });

  test('path parsing', () => {
    assert.deepEqual(parseDicomwebPath('/stores/s1/dicomweb/studies/1.2?x=/..'), { ok: true, store: 's1', rest: ['studies', '1.2'] });
    assert.deepEqual(parseDicomwebPath('/dicomweb/'), { ok: true, store: undefined, rest: [] });
    assert.equal(parseDicomwebPath('/api/subscriptions').ok, false);
  });

  test('Authorization header', () => {
    assert.equal(bearerTokenOf(undefined), undefined);
    assert.equal(bearerTokenOf('Basic dXNlcjpwYXNz'), undefined);
    assert.deepEqual(bearerTokenOf('Bearer abc.def.ghi'), { token: 'abc.def.ghi' });
    assert.deepEqual(bearerTokenOf('bearer   abc '), { token: 'abc' });
    assert.deepEqual(bearerTokenOf('Bearer'), { token: undefined });
    assert.deepEqual(bearerTokenOf('Bearer   '), { token: undefined });
  });
});
