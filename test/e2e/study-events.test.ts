/**
 * The whole loop an AI service sees: subscribe, STOW a study, receive `study.stable` (signed as the
 * Standard Webhooks specification says, checked here with the spec's algorithm written again),
 * read the study with the delivered token, STOW a result back with it, receive
 * `study.results-received`; a late instance reopens the study (`study.updated`); a sender's
 * "complete" makes a study stable at once; filters keep other events away; no patient data leaves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7814';
const PATIENT = 'Secret^Patient';

interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
  json: any;
  valid: boolean;
}

/** Standard Webhooks verification, written from the specification (not the gateway's code). */
function verify(secret: string, headers: Record<string, string>, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest();
  const age = Math.abs(Date.now() / 1000 - Number(headers['webhook-timestamp']));
  if (!(age < 300)) return false;
  return (headers['webhook-signature'] ?? '').split(' ').some((part) => {
    const [version, signature] = part.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function instance(study: number, series: number, n: number, extra: { tag: string; value: string }[] = []): Buffer {
  const studyUid = `${ROOT}.${study}`;
  return syntheticInstance({
    seed: study * 1000 + series * 100 + n,
    rows: 16,
    columns: 16,
    studyUid,
    seriesUid: `${studyUid}.${series}`,
    sopInstanceUid: `${studyUid}.${series}.${n}`,
    instanceNumber: n,
    patientName: PATIENT,
    patientId: `EVT-${study}`,
    extraElements: extra,
  });
}

describe('study events and AI hooks', () => {
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let secret = '';
  const prefix = uniqueRedisPrefix('events');

  const stow = async (url: string, parts: Buffer[], headers: Record<string, string> = {}) => {
    const { body, contentType } = multipartBody(parts);
    return send(url, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers }, body });
  };
  const waitFor = async (what: string, find: () => Received | undefined, ms = 10_000): Promise<Received> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = find();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${received.map((r) => r.json?.type + ' ' + r.json?.data?.studyInstanceUid).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const eventOf = (type: string, study: number) => () => received.find((r) => r.url === '/hooks' && r.json.type === type && r.json.data.studyInstanceUid === `${ROOT}.${study}`);

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers as Record<string, string>;
        received.push({ url: req.url ?? '', headers, body, json: JSON.parse(body), valid: verify(secret, headers, body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    gw = await startInProcessGateway({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      EVENTS_QUIET_PERIOD_MS: '600',
      EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    });
    const created = await send(`${gw.baseUrl}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ url: receiverUrl, events: ['stable', 'updated', 'results-received'], description: 'AI test' })),
    });
    assert.equal(created.status, 201, created.text());
    secret = created.json().secret;
    // A subscriber that only wants MR studies must hear nothing of these CT studies.
    const mr = await send(`${gw.baseUrl}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ url: `${receiverUrl}/mr-only`, events: ['stable'], filters: { modalities: ['MR'] } })),
    });
    assert.equal(mr.status, 201, mr.text());
  });

  after(async () => {
    await gw?.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
    await deleteRedisKeys(prefix);
  });

  test('a study becomes stable after the quiet period: one signed delivery with the facts, the URLs and a token, no patient data', async () => {
    const res = await stow(`${gw.baseUrl}/dicomweb/studies`, [instance(1, 1, 1), instance(1, 1, 2), instance(1, 2, 3)]);
    assert.equal(res.status, 200, res.text());
    const stable = await waitFor('study.stable', eventOf('study.stable', 1));
    assert.ok(stable.valid, 'the signature verifies with the secret given at subscription');
    assert.equal(stable.headers['webhook-id'], stable.json.id);
    assert.equal(stable.json.data.numberOfInstances, 3);
    assert.equal(stable.json.data.numberOfSeries, 2);
    assert.deepEqual(stable.json.data.modalities, ['CT']);
    assert.equal(stable.json.data.dicomweb.study, `${gw.baseUrl}/dicomweb/studies/${ROOT}.1`);
    assert.ok(!stable.body.includes('Secret'), 'no patient name in the delivery');
    assert.ok(!stable.body.includes('EVT-1'), 'no patient id in the delivery');
    assert.equal(received.filter((r) => r.headers['webhook-id'] === stable.json.id).length, 1);
    assert.ok(!received.some((r) => r.url.endsWith('/mr-only')), 'the MR-only subscription hears nothing of CT studies');
  });

  test('the delivered token reads that study and stores a result into it, nothing else; the result is announced', async () => {
    const stable = await waitFor('study.stable', eventOf('study.stable', 1));
    const { accessToken } = stable.json.data.access;
    const auth = { authorization: `Bearer ${accessToken}` };
    const metadata = await send(stable.json.data.dicomweb.metadata, { headers: { accept: 'application/dicom+json', ...auth } });
    assert.equal(metadata.status, 200, metadata.text());
    await stow(`${gw.baseUrl}/dicomweb/studies`, [instance(2, 1, 1)]);
    const other = await send(`${gw.baseUrl}/dicomweb/studies/${ROOT}.2/metadata`, { headers: { accept: 'application/dicom+json', ...auth } });
    assert.equal(other.status, 403);
    const result = await stow(stable.json.data.dicomweb.stow, [instance(1, 9, 1, [{ tag: 'SeriesDescription', value: 'AI result' }])], auth);
    assert.equal(result.status, 200, result.text());
    const announced = await waitFor('study.results-received', eventOf('study.results-received', 1));
    assert.ok(announced.valid);
    assert.equal(announced.json.data.numberOfInstances, 4);
    const order = received.filter((r) => r.json.data.studyInstanceUid === `${ROOT}.1`).map((r) => r.json.type);
    assert.deepEqual(order.slice(0, 2), ['study.stable', 'study.results-received'], 'in order per study');
  });

  test('a late instance reopens a stable study, which is then announced as updated', async () => {
    await waitFor('study 2 stable', eventOf('study.stable', 2));
    await stow(`${gw.baseUrl}/dicomweb/studies`, [instance(2, 1, 2)]);
    const updated = await waitFor('study.updated', eventOf('study.updated', 2));
    assert.equal(updated.json.data.numberOfInstances, 2);
    const log = (await send(`${gw.baseUrl}/api/studies/${ROOT}.2/events`)).json();
    assert.deepEqual(log.events.map((e: any) => e.type), ['stable', 'updated']);
  });

  test('a sender that knows the study is complete makes it stable at once', async () => {
    await stow(`${gw.baseUrl}/dicomweb/studies`, [instance(3, 1, 1)]);
    const t0 = Date.now();
    const done = await send(`${gw.baseUrl}/api/studies/${ROOT}.3/complete`, { method: 'POST' });
    assert.equal(done.status, 202, done.text());
    await waitFor('study.stable of study 3', eventOf('study.stable', 3), 2_000);
    assert.ok(Date.now() - t0 < 600, 'before the quiet period would have ended');
    assert.equal((await send(`${gw.baseUrl}/api/studies/${ROOT}.404/complete`, { method: 'POST' })).status, 404);
    assert.equal((await send(`${gw.baseUrl}/api/studies/not-a-uid/complete`, { method: 'POST' })).status, 400);
  });
});
