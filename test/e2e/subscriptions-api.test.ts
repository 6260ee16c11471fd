/**
 * /api/subscriptions end to end: create (the secret shown once), list and get (never a secret),
 * pause and resume, rotation with an overlap, delete, the 400s and 404s, and subscriptions that
 * survive a restart on the same DATA_DIR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, HttpAnswer } from '../helpers/http-client';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';
import { SubscriptionStore } from '../../src/events/subscriptions/subscription-store';
import { StudyEvent } from '../../src/events/study-event';

/** A public address (TEST-NET-3): accepted without DNS, never contacted by these tests. */
const HOOK = 'https://203.0.113.10/hooks/ai';

const json = (method: string, url: string, body?: unknown): Promise<HttpAnswer> =>
  send(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });

function event(overrides: Partial<StudyEvent> = {}): StudyEvent {
  return {
    id: 'evt_1',
    type: 'stable',
    time: new Date().toISOString(),
    store: 'local',
    studyInstanceUid: '1.2.3',
    seriesInstanceUids: ['1.2.3.1'],
    modalities: ['CT'],
    sopClassUids: ['1.2.840.10008.5.1.4.1.1.2'],
    bodyParts: ['HEAD'],
    stations: ['CT01'],
    priority: 'ROUTINE',
    series: 1,
    instances: 1,
    ...overrides,
  };
}

function assertBadRequest(res: HttpAnswer, reason: RegExp): void {
  assert.equal(res.status, 400, res.text());
  assert.match(res.json().message, reason);
  assert.match(String(res.headers.warning), /^299 /);
}

describe('subscriptions API', () => {
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let api: string;
  let store: SubscriptionStore;

  before(async () => {
    gw = await startInProcessGateway();
    api = `${gw.baseUrl}/api/subscriptions`;
    store = gw.app.get(SubscriptionStore, { strict: false });
  });
  after(async () => {
    await gw?.stop();
  });

  test('create answers 201 with the subscription and its secret, once; get and list never show it', async () => {
    const res = await json('POST', api, {
      url: HOOK,
      events: ['stable', 'results-received'],
      filters: { modalities: ['CT'], priorities: ['stat'], attributes: { StudyDescription: 'stroke' } },
      description: 'stroke AI',
    });
    assert.equal(res.status, 201, res.text());
    const created = res.json();
    assert.match(created.id, /^sub_[A-Za-z0-9_-]{22}$/);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(created.url, HOOK);
    assert.deepEqual(created.events, ['stable', 'results-received']);
    assert.deepEqual(created.filters, { modalities: ['CT'], priorities: ['STAT'], attributes: { StudyDescription: 'stroke' } });
    assert.equal(created.description, 'stroke AI');
    assert.equal(created.status, 'active');
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
    assert.equal(created.updatedAt, created.createdAt);
    assert.deepEqual(store.signingSecrets(created.id), [created.secret]);

    const key = created.secret.slice('whsec_'.length);
    const one = await json('GET', `${api}/${created.id}`);
    assert.equal(one.status, 200, one.text());
    const { secret: _secret, ...withoutSecret } = created;
    assert.deepEqual(one.json(), withoutSecret);
    assert.ok(!one.text().includes(key) && !('secret' in one.json()));

    const list = await json('GET', api);
    assert.equal(list.status, 200);
    assert.ok(list.json().some((s: { id: string }) => s.id === created.id));
    assert.ok(!list.text().includes(key));
    assert.ok(list.json().every((s: object) => !('secret' in s)));
  });

  test('two subscriptions get different ids and secrets', async () => {
    const a = (await json('POST', api, { url: HOOK, events: ['stable'] })).json();
    const b = (await json('POST', api, { url: HOOK, events: ['stable'] })).json();
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.secret, b.secret);
    assert.deepEqual(a.filters, {});
    assert.equal('description' in a, false);
  });

  test('create: validation answers 400 with the reasons', async () => {
    assertBadRequest(await json('POST', api), /expected a JSON object body/);
    assertBadRequest(await json('POST', api, '[]'), /expected a JSON object body/);
    assertBadRequest(await json('POST', api, '{"url":'), /JSON/i);
    assertBadRequest(await json('POST', api, { events: ['stable'] }), /url: required/);
    assertBadRequest(await json('POST', api, { url: HOOK }), /events: required/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: [] }), /events: expected a non-empty array/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable', 'deleted'] }), /unknown event type "deleted"/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: 'stable' }), /events: expected a non-empty array/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], filter: { modalities: ['CT'] } }), /unknown field "filter"/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], filters: { modality: ['CT'] } }), /unknown filter "modality"/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], filters: { modalities: [] } }), /filters\.modalities: must not be empty/);
    assertBadRequest(
      await json('POST', api, { url: HOOK, events: ['stable'], filters: { attributes: { StudyDescription: '(' } } }),
      /filters\.attributes\.StudyDescription: invalid regular expression/,
    );
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], filters: { attributes: { NotAKeyword: 'x' } } }), /not a DICOM keyword/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], filters: { priorities: ['NOW'] } }), /unknown priority "NOW"/);
    assertBadRequest(await json('POST', api, { url: HOOK, events: ['stable'], description: 7 }), /description/);
    // several problems at once
    const many = await json('POST', api, { url: 'ftp://x', events: ['nope'], extra: 1 });
    assertBadRequest(many, /extra/);
    assert.match(many.json().message, /scheme "ftp"/);
    assert.match(many.json().message, /"nope"/);
    assert.equal(store.list().filter((s) => s.url !== HOOK).length, 0, 'nothing was created');
  });

  test('create: unsafe URLs are refused (private targets are not allowed by default)', async () => {
    assertBadRequest(await json('POST', api, { url: 'http://127.0.0.1:9/hook', events: ['stable'] }), /loopback/);
    assertBadRequest(await json('POST', api, { url: 'http://169.254.169.254/latest/meta-data/', events: ['stable'] }), /cloud metadata/);
    assertBadRequest(await json('POST', api, { url: 'http://[::ffff:10.0.0.1]/', events: ['stable'] }), /private \(IPv4-mapped\)/);
    assertBadRequest(await json('POST', api, { url: 'http://localhost/hook', events: ['stable'] }), /"localhost" resolves to .*loopback/);
    assertBadRequest(await json('POST', api, { url: 'https://u:p@203.0.113.10/', events: ['stable'] }), /credentials/);
    assertBadRequest(await json('POST', api, { url: 'file:///etc/passwd', events: ['stable'] }), /scheme "file"/);
    assertBadRequest(await json('POST', api, { url: 'not a url', events: ['stable'] }), /not a valid absolute URL/);
  });

  test('ids: garbage is 400, an unknown well-formed id 404', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const body = method === 'PATCH' ? { status: 'paused' } : undefined;
      assertBadRequest(await json(method, `${api}/not-an-id`, body), /not a subscription id/);
      assertBadRequest(await json(method, `${api}/sub_${'A'.repeat(21)}!`, body), /not a subscription id/);
      const missing = await json(method, `${api}/sub_${'A'.repeat(22)}`, body);
      assert.equal(missing.status, 404, `${method}: ${missing.text()}`);
      assert.match(missing.json().message, /no subscription/);
    }
  });

  test('pause and resume: a paused subscription matches nothing', async () => {
    const { id } = (await json('POST', api, { url: HOOK, events: ['forwarded'], filters: { stations: ['PAUSE01'] } })).json();
    const facts = { event: event({ type: 'forwarded', stations: ['PAUSE01'] }) };
    assert.deepEqual(store.matching(facts).map((s) => s.id), [id]);

    const paused = await json('PATCH', `${api}/${id}`, { status: 'paused' });
    assert.equal(paused.status, 200, paused.text());
    assert.equal(paused.json().status, 'paused');
    assert.equal('secret' in paused.json(), false);
    assert.ok(paused.json().updatedAt >= paused.json().createdAt);
    assert.equal((await json('GET', `${api}/${id}`)).json().status, 'paused');
    assert.deepEqual(store.matching(facts), []);

    const resumed = await json('PATCH', `${api}/${id}`, { status: 'active' });
    assert.equal(resumed.json().status, 'active');
    assert.deepEqual(store.matching(facts).map((s) => s.id), [id]);
  });

  test('update: url, events, filters (replaced as a whole) and description; validated like create', async () => {
    const { id } = (await json('POST', api, { url: HOOK, events: ['stable'], filters: { modalities: ['CT'] }, description: 'old' })).json();
    const res = await json('PATCH', `${api}/${id}`, {
      url: 'https://203.0.113.11/v2',
      events: ['updated'],
      filters: { bodyParts: ['CHEST'] },
      description: null,
    });
    assert.equal(res.status, 200, res.text());
    const updated = res.json();
    assert.equal(updated.url, 'https://203.0.113.11/v2');
    assert.deepEqual(updated.events, ['updated']);
    assert.deepEqual(updated.filters, { bodyParts: ['CHEST'] });
    assert.equal('description' in updated, false);

    assertBadRequest(await json('PATCH', `${api}/${id}`, { url: 'http://10.0.0.1/' }), /private/);
    assertBadRequest(await json('PATCH', `${api}/${id}`, { events: ['nope'] }), /unknown event type/);
    assertBadRequest(await json('PATCH', `${api}/${id}`, { filters: { attributes: { StudyDescription: '[' } } }), /invalid regular expression/);
    assertBadRequest(await json('PATCH', `${api}/${id}`, { status: 'deleted' }), /status: expected "active" or "paused"/);
    assertBadRequest(await json('PATCH', `${api}/${id}`, { secret: 'whsec_mine' }), /unknown field "secret"/);
    assertBadRequest(await json('PATCH', `${api}/${id}`, {}), /nothing to change/);
    assertBadRequest(await json('PATCH', `${api}/${id}`), /expected a JSON object body/);
    assert.deepEqual((await json('GET', `${api}/${id}`)).json(), updated, 'a refused update changes nothing');
  });

  test('rotate: the new secret is shown once; the previous one keeps signing during the overlap only', async () => {
    const created = (await json('POST', api, { url: HOOK, events: ['stable'] })).json();
    const before = Date.now();
    const res = await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, overlapSeconds: 120 });
    const after = Date.now();
    assert.equal(res.status, 200, res.text());
    const rotated = res.json();
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, created.secret);
    assert.equal(rotated.id, created.id);
    assert.equal((await json('GET', `${api}/${created.id}`)).text().includes(rotated.secret.slice(6)), false);

    assert.deepEqual(store.signingSecrets(created.id, after), [rotated.secret, created.secret]);
    assert.deepEqual(store.signingSecrets(created.id, before + 119_000), [rotated.secret, created.secret]);
    assert.deepEqual(store.signingSecrets(created.id, after + 120_000), [rotated.secret]);

    // Default overlap: one hour. A rotation together with another change.
    const again = await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, status: 'paused' });
    assert.equal(again.status, 200, again.text());
    assert.equal(again.json().status, 'paused');
    const now = Date.now();
    assert.deepEqual(store.signingSecrets(created.id, now), [again.json().secret, rotated.secret]);
    assert.deepEqual(store.signingSecrets(created.id, now + 3590_000), [again.json().secret, rotated.secret]);
    assert.deepEqual(store.signingSecrets(created.id, now + 3601_000), [again.json().secret]);

    assertBadRequest(await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, overlapSeconds: 7 * 24 * 3600 + 1 }), /overlapSeconds: expected an integer from 0 to 604800/);
    assertBadRequest(await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, overlapSeconds: -1 }), /overlapSeconds/);
    assertBadRequest(await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, overlapSeconds: 1.5 }), /overlapSeconds/);
    assertBadRequest(await json('PATCH', `${api}/${created.id}`, { overlapSeconds: 60 }), /overlapSeconds: only with rotateSecret: true/);
    assertBadRequest(await json('PATCH', `${api}/${created.id}`, { rotateSecret: 'yes' }), /rotateSecret: expected true or false/);
    assert.deepEqual(store.signingSecrets(created.id, now), [again.json().secret, rotated.secret], 'refused rotations changed nothing');

    const max = await json('PATCH', `${api}/${created.id}`, { rotateSecret: true, overlapSeconds: 7 * 24 * 3600 });
    assert.equal(max.status, 200, max.text());
  });

  test('delete answers 204, then the subscription is gone', async () => {
    const { id } = (await json('POST', api, { url: HOOK, events: ['stable'] })).json();
    const res = await json('DELETE', `${api}/${id}`);
    assert.equal(res.status, 204);
    assert.equal(res.body.length, 0);
    assert.equal((await json('GET', `${api}/${id}`)).status, 404);
    assert.equal((await json('DELETE', `${api}/${id}`)).status, 404);
    assert.ok(!(await json('GET', api)).json().some((s: { id: string }) => s.id === id));
    assert.deepEqual(store.signingSecrets(id), []);
  });
});

describe('subscriptions API: persistence and private targets', () => {
  const dir = makeTempDir('subscriptions-e2e');
  after(() => dir.remove());

  test('subscriptions (with their secrets) survive a restart on the same DATA_DIR', async () => {
    const env = { DATA_DIR: dir.path, EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true' };
    const first = await startInProcessGateway(env);
    let created: any;
    let rotated: any;
    try {
      const res = await json('POST', `${first.baseUrl}/api/subscriptions`, {
        url: 'http://127.0.0.1:9/hooks',
        events: ['stable', 'updated'],
        filters: { stores: ['local'], attributes: { '00081030': 'brain' } },
        description: 'kept',
      });
      assert.equal(res.status, 201, res.text()); // private targets allowed by the config
      created = res.json();
      assert.equal((await json('PATCH', `${first.baseUrl}/api/subscriptions/${created.id}`, { status: 'paused' })).status, 200);
      rotated = (await json('PATCH', `${first.baseUrl}/api/subscriptions/${created.id}`, { rotateSecret: true, overlapSeconds: 600 })).json();
    } finally {
      await first.stop();
    }

    const second = await startInProcessGateway(env);
    try {
      const list = await json('GET', `${second.baseUrl}/api/subscriptions`);
      assert.equal(list.status, 200);
      const { secret: _s, ...expected } = rotated;
      assert.deepEqual(list.json(), [expected]);
      assert.equal(expected.status, 'paused');
      assert.deepEqual(expected.filters, { stores: ['local'], attributes: { '00081030': 'brain' } });
      const store = second.app.get(SubscriptionStore, { strict: false });
      assert.deepEqual(store.signingSecrets(created.id), [rotated.secret, created.secret]);
      assert.equal((await json('PATCH', `${second.baseUrl}/api/subscriptions/${created.id}`, { status: 'active' })).status, 200);
      const facts = { event: event({ type: 'updated' }), sample: { '00081030': { vr: 'LO', Value: ['MR Brain'] } } };
      assert.deepEqual(store.matching(facts).map((s) => s.id), [created.id]);
    } finally {
      await second.stop();
    }
  });
});
