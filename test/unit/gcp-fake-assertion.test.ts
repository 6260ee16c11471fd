/**
 * The Google fake's verification of JWT-bearer assertions, without a server: what gtoken sends
 * passes; each thing Google checks - algorithm, issuer, signature and key id, audience, the
 * iat/exp window with its clock skew, the scope, delegation - fails on its own with Google's
 * error and description.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { OAuthError, verifyAssertion } from '../fakes/gcp/jwt-assertion';
import { ServiceAccounts } from '../fakes/gcp/service-accounts';
import { SCOPES, gtokenClaims, signAssertion } from '../fakes/gcp/test-client/gcp-clients';

const accounts = new ServiceAccounts('unit-project');
const key = accounts.create();
const other = accounts.create();
const SKEW = 60;

function refusal(assertion: string, nowMs = Date.now()): { status: number; error: string; description?: string } {
  try {
    verifyAssertion(assertion, accounts, nowMs, SKEW);
  } catch (error) {
    assert.ok(error instanceof OAuthError, String(error));
    return { status: error.status, error: error.error, description: error.description };
  }
  assert.fail('the assertion was accepted');
}

const SIGNATURE = { status: 400, error: 'invalid_grant', description: 'Invalid JWT Signature.' };
const TIMEFRAME = {
  status: 400,
  error: 'invalid_grant',
  description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
};

describe('JWT-bearer assertion', () => {
  test('what gtoken signs (alg RS256, no kid) passes and names the account, key and scopes', () => {
    const claims = { ...gtokenClaims(key), scope: `${SCOPES.healthcare} ${SCOPES.storage}` };
    const verified = verifyAssertion(signAssertion(key.private_key, claims), accounts, Date.now(), SKEW);
    assert.deepEqual(verified, { email: key.client_email, keyId: key.private_key_id, scopes: [SCOPES.healthcare, SCOPES.storage] });
    const withKid = verifyAssertion(signAssertion(key.private_key, claims, { alg: 'RS256', typ: 'JWT', kid: key.private_key_id }), accounts, Date.now(), SKEW);
    assert.equal(withKid.keyId, key.private_key_id);
  });

  test('signature: another key, another kid, alg none, HS256 keyed with the public key, a tampered claim set', () => {
    const claims = gtokenClaims(key);
    assert.deepEqual(refusal(signAssertion(other.private_key, claims)), SIGNATURE);
    assert.deepEqual(refusal(signAssertion(key.private_key, claims, { alg: 'RS256', kid: other.private_key_id })), SIGNATURE);
    assert.deepEqual(refusal(signAssertion(key.private_key, claims, { alg: 'none' })), SIGNATURE);
    const publicPem = createPublicKey(key.private_key).export({ type: 'spki', format: 'pem' });
    const head = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const hs = `${head}.${body}.${createHmac('sha256', publicPem).update(`${head}.${body}`).digest('base64url')}`;
    assert.deepEqual(refusal(hs), SIGNATURE);
    const [h, , s] = signAssertion(key.private_key, claims).split('.');
    const tampered = Buffer.from(JSON.stringify({ ...claims, scope: SCOPES.platform })).toString('base64url');
    assert.deepEqual(refusal(`${h}.${tampered}.${s}`), SIGNATURE);
  });

  test('an unknown iss is "account not found", before any signature is looked at', () => {
    assert.deepEqual(refusal(signAssertion(key.private_key, { ...gtokenClaims(key), iss: 'nobody@unit-project.iam.gserviceaccount.com' })), {
      status: 400,
      error: 'invalid_grant',
      description: 'Invalid grant: account not found',
    });
  });

  test('aud must be exactly https://oauth2.googleapis.com/token', () => {
    for (const aud of ['https://www.googleapis.com/oauth2/v4/token', 'https://oauth2.googleapis.com/token/', undefined]) {
      assert.deepEqual(refusal(signAssertion(key.private_key, { ...gtokenClaims(key), aud })), { status: 400, error: 'invalid_grant', description: 'Invalid JWT: Failed audience check.' });
    }
  });

  test('iat and exp: at most 3600 s apart, iat not in the future and exp not in the past beyond the skew', () => {
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const at = (iat: unknown, exp: unknown) => refusal(signAssertion(key.private_key, { ...gtokenClaims(key), iat, exp }), now);
    assert.deepEqual(at(t, t + 3601), TIMEFRAME);
    assert.deepEqual(at(t + SKEW + 5, t + SKEW + 65), TIMEFRAME, 'iat in the future');
    assert.deepEqual(at(t - 7200, t - SKEW - 5), TIMEFRAME, 'exp in the past');
    assert.deepEqual(at(t, t), TIMEFRAME, 'exp not after iat');
    assert.deepEqual(at(String(t), t + 60), TIMEFRAME, 'iat not a number');
    // Inside the skew both ways: accepted.
    verifyAssertion(signAssertion(key.private_key, { ...gtokenClaims(key), iat: t + SKEW - 5, exp: t + SKEW + 3000 }), accounts, now, SKEW);
    verifyAssertion(signAssertion(key.private_key, { ...gtokenClaims(key), iat: t - 3600, exp: t - SKEW + 5 }), accounts, now, SKEW);
  });

  test('scope: missing or empty is "Empty or missing scope", a name that is no Google scope is invalid_scope', () => {
    const { scope: _omitted, ...noScope } = gtokenClaims(key);
    void _omitted;
    const missing = { status: 400, error: 'invalid_scope', description: 'Empty or missing scope not allowed.' };
    assert.deepEqual(refusal(signAssertion(key.private_key, noScope)), missing);
    assert.deepEqual(refusal(signAssertion(key.private_key, { ...noScope, scope: '  ' })), missing);
    assert.deepEqual(refusal(signAssertion(key.private_key, { ...noScope, scope: `${SCOPES.healthcare} https://example.com/dicom` })), {
      status: 400,
      error: 'invalid_scope',
      description: 'Invalid OAuth scope or ID token audience provided.',
    });
  });

  test('a deleted key no longer verifies; the account is still known', () => {
    const spare = accounts.create({ email: key.client_email });
    const assertion = signAssertion(spare.private_key, gtokenClaims(key));
    assert.equal(verifyAssertion(assertion, accounts, Date.now(), SKEW).keyId, spare.private_key_id);
    accounts.deleteKey(spare.private_key_id);
    assert.deepEqual(refusal(assertion), SIGNATURE);
    assert.throws(() => accounts.deleteKey(spare.private_key_id), /no live key/);
  });

  test('malformed assertions and delegation to another subject are refused', () => {
    assert.equal(refusal('abc.def').error, 'invalid_grant');
    assert.equal(refusal('!!.e30.e30').error, 'invalid_grant');
    assert.deepEqual(refusal(signAssertion(key.private_key, { ...gtokenClaims(key), sub: 'someone@example.com' })).error, 'unauthorized_client');
  });

  test('a key file has the fields of Google\'s, with a PKCS#8 key', () => {
    assert.equal(key.type, 'service_account');
    assert.equal(key.project_id, 'unit-project');
    assert.match(key.private_key_id, /^[0-9a-f]{40}$/);
    assert.match(key.private_key, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(key.client_email, /@unit-project\.iam\.gserviceaccount\.com$/);
    assert.equal(key.token_uri, 'https://oauth2.googleapis.com/token');
    assert.equal(key.universe_domain, 'googleapis.com');
    assert.equal(createPublicKey(key.private_key).asymmetricKeyDetails?.modulusLength, 2048);
  });
});
