import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { jittered, RETRY_SCHEDULE_MS } from '../../src/events/deliveries/delivery-worker';
import { retrySchedule } from '../../src/config/delivery-schedule';
import { secretKey, signWebhook, verifyWebhook, WebhookVerificationError, webhookHeaders } from '../../src/events/deliveries/webhook-signature';

const scheduleOf = (env: Record<string, string>) => {
  const problems: string[] = [];
  const schedule = retrySchedule(env, problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return schedule;
};

// The example of the Standard Webhooks reference libraries (standard-webhooks, svix).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

test('signs as the Standard Webhooks reference example', () => {
  assert.equal(signWebhook(SPEC.id, SPEC.timestamp, SPEC.body, [SPEC.secret]), SPEC.signature);
});

test('the key is the base64 after "whsec_"; a bare base64 secret is accepted too', () => {
  assert.deepEqual(secretKey(SPEC.secret), Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  assert.equal(signWebhook(SPEC.id, SPEC.timestamp, SPEC.body, ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']), SPEC.signature);
  assert.throws(() => secretKey('whsec_'));
  assert.throws(() => signWebhook('a', 1, '{}', []));
});

test('headers: id, timestamp in seconds, one v1 signature per secret, JSON content type', () => {
  const [a, b] = [newSecret(), newSecret()];
  const h = webhookHeaders('evt-1', 1700000000, '{"x":1}', [a, b]);
  assert.equal(h['webhook-id'], 'evt-1');
  assert.equal(h['webhook-timestamp'], '1700000000');
  assert.equal(h['content-type'], 'application/json');
  const parts = h['webhook-signature'].split(' ');
  assert.equal(parts.length, 2);
  for (const p of parts) assert.match(p, /^v1,[A-Za-z0-9+/]{43}=$/);
  assert.equal(parts[0], signWebhook('evt-1', 1700000000, '{"x":1}', [a]));
  assert.equal(parts[1], signWebhook('evt-1', 1700000000, '{"x":1}', [b]));
});

test('verifyWebhook accepts the spec example and either secret of a rotation', () => {
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature };
  assert.deepEqual(verifyWebhook(headers, SPEC.body, SPEC.secret, { now: SPEC.timestamp + 10 }), { test: 2432232314 });
  const [old, current] = [newSecret(), newSecret()];
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ a: 'b' });
  const signed = webhookHeaders('evt-2', now, body, [current, old]);
  assert.deepEqual(verifyWebhook(signed, body, old), { a: 'b' });
  assert.deepEqual(verifyWebhook(signed, body, current), { a: 'b' });
  // Header names in any case (as Node's http lower-cases them, but proxies may not).
  assert.deepEqual(verifyWebhook({ 'Webhook-Id': 'evt-2', 'WEBHOOK-TIMESTAMP': String(now), 'Webhook-Signature': signed['webhook-signature'] }, body, [newSecret(), old]), { a: 'b' });
});

test('verifyWebhook refuses another secret, a changed body, id or timestamp, an old timestamp, missing headers', () => {
  const secret = newSecret();
  const now = Math.floor(Date.now() / 1000);
  const body = '{"a":1}';
  const h = webhookHeaders('evt-3', now, body, [secret]);
  const refuses = (headers: Record<string, string>, b = body, s = secret) => assert.throws(() => verifyWebhook(headers, b, s), WebhookVerificationError);
  refuses(h, body, newSecret());
  refuses(h, '{"a":2}');
  refuses({ ...h, 'webhook-id': 'evt-4' });
  refuses({ ...h, 'webhook-timestamp': String(now + 1) });
  refuses({ ...h, 'webhook-signature': h['webhook-signature'].replace('v1,', 'v2,') });
  const old = webhookHeaders('evt-3', now - 3600, body, [secret]);
  refuses(old);
  assert.deepEqual(verifyWebhook(old, body, secret, { toleranceSeconds: 7200 }), { a: 1 });
  refuses({ 'webhook-id': 'evt-3', 'webhook-timestamp': String(now) });
  refuses({ ...h, 'webhook-timestamp': 'soon' });
});

test('the retry schedule lasts at least 24 hours even with the jitter, and can be scaled or replaced for tests', () => {
  const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
  assert.ok(RETRY_SCHEDULE_MS.reduce((a, b) => a + jittered(b, 0), 0) >= 24 * 3600_000, `${total} ms`);
  assert.ok(RETRY_SCHEDULE_MS.every((ms, i) => i === 0 || ms >= RETRY_SCHEDULE_MS[i - 1]), 'never shorter than the step before');
  assert.equal(jittered(1000, 0), 900);
  assert.equal(jittered(1000, 1), 1100);
  assert.deepEqual(scheduleOf({}), RETRY_SCHEDULE_MS);
  assert.deepEqual(scheduleOf({ EVENTS_DELIVERY_RETRY_SCALE: '0.001' }).slice(0, 3), [5, 30, 120]);
  assert.deepEqual(scheduleOf({ EVENTS_DELIVERY_RETRY_SCHEDULE_MS: '10, 20,30' }), [10, 20, 30]);
  assert.deepEqual(scheduleOf({ EVENTS_DELIVERY_RETRY_SCHEDULE_MS: '100', EVENTS_DELIVERY_RETRY_SCALE: '2' }), [200]);
  assert.throws(() => scheduleOf({ EVENTS_DELIVERY_RETRY_SCHEDULE_MS: '1,x' }));
  assert.throws(() => scheduleOf({ EVENTS_DELIVERY_RETRY_SCALE: '-1' }));
});
