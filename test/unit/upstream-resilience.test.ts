import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { CircuitBreaker, CircuitOpen } from '../../src/stores/dicomweb/circuit-breaker';
import { backoffDelayMs } from '../../src/stores/dicomweb/backoff';
import { createUpstreamAuth, TokenRequestFailed } from '../../src/stores/dicomweb/upstream-auth';

test('the breaker opens after consecutive failures, lets one trial through, and closes on success', () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, now: () => now });
  breaker.enter();
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.state, 'closed');
  breaker.failure();
  assert.equal(breaker.state, 'open');
  assert.throws(() => breaker.enter(), (e) => e instanceof CircuitOpen && e.retryAfterMs === 1000);
  now = 1000;
  assert.equal(breaker.state, 'half-open');
  breaker.enter(); // the trial call
  assert.throws(() => breaker.enter(), CircuitOpen, 'only one trial at a time');
  breaker.failure();
  assert.equal(breaker.state, 'open');
  now = 2500;
  breaker.enter();
  breaker.success();
  assert.equal(breaker.state, 'closed');
  breaker.enter();
});

test('a success in between resets the failure count', () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1000 });
  breaker.failure();
  breaker.success();
  breaker.failure();
  assert.equal(breaker.state, 'closed');
});

test('backoff grows exponentially under a cap, with full jitter', () => {
  assert.equal(backoffDelayMs(0, 100, 5000, () => 0.999), 99);
  assert.equal(backoffDelayMs(3, 100, 5000, () => 0.5), 400);
  assert.equal(backoffDelayMs(10, 100, 5000, () => 0.5), 2500);
  assert.equal(backoffDelayMs(5, 100, 5000, () => 0), 0);
});

test('basic and bearer headers', async () => {
  assert.equal(await createUpstreamAuth({ type: 'none' }).header(), undefined);
  assert.equal(await createUpstreamAuth({ type: 'basic', username: 'orthanc', password: 'p:w' }).header(), `Basic ${Buffer.from('orthanc:p:w').toString('base64')}`);
  assert.equal(await createUpstreamAuth({ type: 'bearer', token: 'abc' }).header(), 'Bearer abc');
});

test('OAuth2 client credentials: one token request for concurrent calls, cached, renewed before expiry', async () => {
  const requests: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      requests.push(form);
      if (form.get('client_secret') !== 'right') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client' }));
        return;
      }
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `t${requests.length}`, expires_in: 100, token_type: 'Bearer' })), 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  try {
    let now = 0;
    const auth = createUpstreamAuth({ type: 'oauth2', tokenUrl: url, clientId: 'gw', clientSecret: 'right', scope: 'dicom.read', audience: 'https://dicom.healthcareapis.azure.com' }, () => now);
    const headers = await Promise.all([auth.header(), auth.header(), auth.header()]);
    assert.deepEqual(headers, ['Bearer t1', 'Bearer t1', 'Bearer t1']);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].get('grant_type'), 'client_credentials');
    assert.equal(requests[0].get('scope'), 'dicom.read');
    assert.equal(requests[0].get('resource'), 'https://dicom.healthcareapis.azure.com');
    now = 79_000; // 100 s token: renewed after 80 s
    assert.equal(await auth.header(), 'Bearer t1');
    now = 80_001;
    assert.equal(await auth.header(), 'Bearer t2');
    auth.invalidate();
    assert.equal(await auth.header(), 'Bearer t3');
    const wrong = createUpstreamAuth({ type: 'oauth2', tokenUrl: url, clientId: 'gw', clientSecret: 'wrong' });
    await assert.rejects(wrong.header(), (e) => e instanceof TokenRequestFailed && /401 \(invalid_client\)/.test(e.message) && !/wrong/.test(e.message));
  } finally {
    server.close();
  }
});
