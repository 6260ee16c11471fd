/**
 * Authentication and authorization on the Google Cloud Healthcare fake, end to end: the real
 * google-auth-library (JWT and GoogleAuth with a key file's credentials) gets a token from the
 * fake's token endpoint through a redirected Gaxios transporter and calls DICOMweb with it; the
 * token endpoint refuses what Google refuses with Google's OAuth errors; the DICOMweb server
 * answers 401 for missing, unknown, expired, foreign tokens and those of deleted keys, 403 for
 * insufficient scopes and for an account without permission, 404 for another store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleAuth } from 'google-auth-library';
import { request } from 'undici';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { SCOPES, accessToken, gcpClient, googleError, gtokenClaims, jwtClient, postAssertion, postToken, redirectingTransporter, signAssertion } from '../fakes/gcp/test-client/gcp-clients';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const INVALID = 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

let fake: GcpFake;
before(async () => {
  fake = await startGcpFake();
});
after(() => fake.close());

describe('the real JWT-bearer flow', () => {
  test('JWT with a key file\'s fields and scope cloud-healthcare: a token from the fake, then a DICOMweb call with undici', async () => {
    const key = fake.createServiceAccountKey();
    const before = fake.tokensIssued();
    fake.resetRequests();
    const client = jwtClient(fake, key, [SCOPES.healthcare]);
    const headers = await client.getRequestHeaders();
    const authorization = headers.get('authorization')!;
    assert.match(authorization, /^Bearer ya29\.[A-Za-z0-9_-]+$/);
    const answer = await request(`${fake.dicomWebRoot}/studies`, { headers: { authorization, accept: 'application/dicom+json' } });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(await answer.body.json(), []);
    // The cached token is used again: one assertion, one token.
    await client.getRequestHeaders();
    assert.equal(fake.tokensIssued(), before + 1);
    const token = fake.requests().find((r) => r.kind === 'token')!;
    assert.equal(token.method, 'POST');
    assert.equal(token.path, '/token');
    assert.equal(token.status, 200);
    assert.ok(token.bytesIn > 500, 'the form carried an assertion');
  });

  test('GoogleAuth with credentials and cloud-platform; a stored instance is found', async () => {
    const key = fake.createServiceAccountKey();
    const auth = new GoogleAuth({ credentials: key, scopes: [SCOPES.platform], clientOptions: { transporter: redirectingTransporter(fake.tokenUrl) } });
    const token = await auth.getAccessToken();
    assert.ok(token);
    const client = gcpClient(fake, token);
    assert.equal((await client.stow([syntheticInstance({ seed: 501, rows: 2, columns: 2, patientId: 'AUTH-1' })])).status, 200);
    assert.equal((await client.get('/studies?PatientID=AUTH-1')).json<unknown[]>().length, 1);
  });

  test('a deleted key: the library surfaces Google\'s "invalid_grant: Invalid JWT Signature."', async () => {
    const key = fake.createServiceAccountKey();
    fake.deleteServiceAccountKey(key.private_key_id);
    await assert.rejects(jwtClient(fake, key).getAccessToken(), /invalid_grant: Invalid JWT Signature\./);
  });
});

describe('token endpoint refusals', () => {
  let key: ReturnType<GcpFake['createServiceAccountKey']>;
  before(() => {
    key = fake.createServiceAccountKey();
  });
  const refused = async (assertion: string, error: string, description: string | RegExp) => {
    const answer = await postAssertion(fake, assertion);
    assert.equal(answer.status, 400, answer.text());
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = answer.json<{ error: string; error_description: string }>();
    assert.equal(body.error, error);
    if (typeof description === 'string') assert.equal(body.error_description, description);
    else assert.match(body.error_description, description);
  };

  test('signed with another key, alg none, a kid of another key', async () => {
    const stranger = fake.createServiceAccountKey();
    await refused(signAssertion(stranger.private_key, gtokenClaims(key)), 'invalid_grant', 'Invalid JWT Signature.');
    await refused(signAssertion(key.private_key, gtokenClaims(key), { alg: 'none' }), 'invalid_grant', 'Invalid JWT Signature.');
    await refused(signAssertion(key.private_key, gtokenClaims(key), { alg: 'RS256', kid: stranger.private_key_id }), 'invalid_grant', 'Invalid JWT Signature.');
  });

  test('wrong aud, missing and foreign scope, exp too far ahead, iat in the future, unknown iss', async () => {
    const claims = gtokenClaims(key);
    const t = claims.iat as number;
    await refused(signAssertion(key.private_key, { ...claims, aud: 'https://accounts.google.com/o/oauth2/token' }), 'invalid_grant', 'Invalid JWT: Failed audience check.');
    await refused(signAssertion(key.private_key, { ...claims, scope: undefined }), 'invalid_scope', 'Empty or missing scope not allowed.');
    await refused(signAssertion(key.private_key, { ...claims, scope: 'https://dicom.example.com/read' }), 'invalid_scope', /Invalid OAuth scope/);
    await refused(signAssertion(key.private_key, { ...claims, exp: t + 7200 }), 'invalid_grant', /^Invalid JWT: Token must be a short-lived token \(60 minutes\)/);
    await refused(signAssertion(key.private_key, { ...claims, iat: t + 600, exp: t + 1200 }), 'invalid_grant', /Check your iat and exp values/);
    await refused(signAssertion(key.private_key, { ...claims, iss: 'ghost@test-project.iam.gserviceaccount.com' }), 'invalid_grant', 'Invalid grant: account not found');
  });

  test('the grant type, the assertion parameter, the method and the form encoding are checked', async () => {
    const assertion = signAssertion(key.private_key, gtokenClaims(key));
    const wrongGrant = await postToken(fake, { grant_type: 'client_credentials', assertion });
    assert.equal(wrongGrant.status, 400);
    assert.equal(wrongGrant.json().error, 'unsupported_grant_type');
    const noAssertion = await postToken(fake, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });
    assert.equal(noAssertion.json().error, 'invalid_request');
    const asJson = await send(fake.tokenUrl, { method: 'POST', body: Buffer.from(JSON.stringify({ assertion })), headers: { 'content-type': 'application/json' } });
    assert.equal(asJson.status, 400);
    assert.equal((await send(fake.tokenUrl)).status, 405);
    const ok = await postAssertion(fake, assertion);
    assert.equal(ok.status, 200);
    const body = ok.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(body.expires_in, 3600);
    assert.equal(body.token_type, 'Bearer');
  });
});

describe('DICOMweb authentication and authorization', () => {
  test('no token: 401 UNAUTHENTICATED "missing required authentication credential" with WWW-Authenticate', async () => {
    const answer = await send(`${fake.dicomWebRoot}/studies`);
    assert.equal(answer.status, 401);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    assert.equal(answer.headers['www-authenticate'], 'Bearer realm="https://accounts.google.com/"');
    assert.deepEqual(googleError(answer), {
      code: 401,
      status: 'UNAUTHENTICATED',
      message: 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    });
  });

  test('unknown, foreign, malformed tokens and those of a deleted key: 401 "invalid authentication credentials"', async () => {
    const other = await startGcpFake();
    try {
      const foreign = await accessToken(other, other.createServiceAccountKey());
      const key = fake.createServiceAccountKey();
      const ofDeleted = await accessToken(fake, key);
      assert.equal((await gcpClient(fake, ofDeleted).get('/studies')).status, 200);
      fake.deleteServiceAccountKey(key.private_key_id);
      for (const authorization of ['Bearer ya29.unknown', `Bearer ${foreign}`, `Bearer ${ofDeleted}`, `Basic ${Buffer.from('a:b').toString('base64')}`]) {
        const answer = await send(`${fake.dicomWebRoot}/studies`, { headers: { authorization } });
        assert.equal(answer.status, 401, authorization);
        assert.deepEqual(googleError(answer), { code: 401, status: 'UNAUTHENTICATED', message: INVALID });
      }
    } finally {
      await other.close();
    }
  });

  test('an expired token (tokenLifetimeSeconds 2) is 401; expireAllTokens() expires every token at once', async () => {
    const short = await startGcpFake({ tokenLifetimeSeconds: 2 });
    try {
      const key = short.createServiceAccountKey();
      const answer = await postAssertion(short, signAssertion(key.private_key, gtokenClaims(key)));
      assert.equal(answer.json().expires_in, 2);
      const client = gcpClient(short, answer.json().access_token);
      assert.equal((await client.get('/studies')).status, 200);
      await sleep(2100);
      assert.equal((await client.get('/studies')).status, 401);
    } finally {
      await short.close();
    }
    const token = await accessToken(fake, fake.createServiceAccountKey());
    assert.equal((await gcpClient(fake, token).get('/studies')).status, 200);
    fake.expireAllTokens();
    assert.equal((await gcpClient(fake, token).get('/studies')).status, 401);
  });

  test('a token of another scope: 403 "Request had insufficient authentication scopes."', async () => {
    const token = await accessToken(fake, fake.createServiceAccountKey(), [SCOPES.storage]);
    const answer = await gcpClient(fake, token).get('/studies');
    assert.equal(answer.status, 403);
    assert.deepEqual(googleError(answer), { code: 403, status: 'PERMISSION_DENIED', message: 'Request had insufficient authentication scopes.' });
    assert.match(String(answer.headers['www-authenticate']), /error="insufficient_scope"/);
  });

  test('a denied account: valid tokens, 403 naming dicomWebRead (reads) or dicomWebWrite (STOW) on the store', async () => {
    const client = gcpClient(fake, await accessToken(fake, fake.createServiceAccountKey({ denied: true })));
    const store = `//healthcare.googleapis.com/projects/${fake.project}/locations/${fake.location}/datasets/${fake.dataset}/dicomStores/${fake.dicomStore}`;
    const read = await client.get('/studies');
    assert.equal(read.status, 403);
    assert.deepEqual(googleError(read), { code: 403, status: 'PERMISSION_DENIED', message: `Permission 'healthcare.dicomStores.dicomWebRead' denied on resource '${store}' (or it may not exist).` });
    const write = await client.stow([syntheticInstance({ seed: 502, rows: 2, columns: 2 })]);
    assert.equal(write.status, 403);
    assert.match(googleError(write).message, /^Permission 'healthcare\.dicomStores\.dicomWebWrite' denied on resource/);
    assert.equal(fake.instances().some((i) => i.sopInstanceUid === uidFromSeed(502, 'instance')), false, 'nothing was stored');
  });

  test('another project, dataset or store: 404 NOT_FOUND for an allowed account, 403 for a denied one', async () => {
    const allowed = await accessToken(fake, fake.createServiceAccountKey());
    const denied = await accessToken(fake, fake.createServiceAccountKey({ denied: true }));
    const root = fake.dicomWebRoot;
    for (const url of [root.replace(`/dicomStores/${fake.dicomStore}/`, '/dicomStores/other-store/'), root.replace(`/datasets/${fake.dataset}/`, '/datasets/other/'), root.replace(`/projects/${fake.project}/`, '/projects/other/')]) {
      const answer = await send(`${url}/studies`, { headers: { authorization: `Bearer ${allowed}` } });
      assert.equal(answer.status, 404, url);
      assert.equal(googleError(answer).status, 'NOT_FOUND');
      assert.match(googleError(answer).message, /not found$/);
      assert.equal((await send(`${url}/studies`, { headers: { authorization: `Bearer ${denied}` } })).status, 403);
    }
  });
});
