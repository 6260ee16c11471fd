/**
 * Webhook deliveries end to end in process: the gateway (real Redis under a unique prefix, its own
 * events.sqlite) delivers to real HTTP receivers that verify every signature with their own
 * implementation of the Standard Webhooks scheme (below, not the gateway's module).
 * The retry schedule is shortened through EVENTS_DELIVERY_RETRY_SCHEDULE_MS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { DeliveryService } from '../../src/events/deliveries/delivery.service';
import { EVENTS_DB } from '../../src/events/events-database.module';
import { EventsDatabase } from '../../src/events/events-database';
import { StudyEvent, StudyEventType } from '../../src/events/study-event';
import { SubscriptionStore } from '../../src/events/subscriptions/subscription-store';
import { freePort } from '../helpers/free-port';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';

// ---- an independent verifier of the Standard Webhooks signature scheme ----

/** Which of `secrets` signed the request (indexes), or a reason it is not valid. */
function verify(headers: IncomingMessage['headers'], body: string, secrets: string[]): { ok: true; matched: number[] } | { ok: false; reason: string } {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sig = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return { ok: false, reason: 'missing header' };
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return { ok: false, reason: 'timestamp' };
  if (headers['content-type'] !== 'application/json') return { ok: false, reason: 'content-type' };
  const given = sig
    .split(' ')
    .filter((p) => p.startsWith('v1,'))
    .map((p) => Buffer.from(p.slice(3), 'base64'));
  const matched: number[] = [];
  secrets.forEach((secret, i) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) matched.push(i);
  });
  return matched.length > 0 ? { ok: true, matched } : { ok: false, reason: 'signature' };
}

interface Received {
  at: number;
  id: string;
  timestamp: number;
  signatures: number;
  body: string;
  valid: boolean;
  matched: number[];
  status: number;
}

/** A subscriber: verifies each request, answers what `answer` says (status, after a delay). */
class Receiver {
  readonly received: Received[] = [];
  secrets: string[] = [];
  answer: (id: string, n: number) => { status: number; delayMs?: number } = () => ({ status: 204 });
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Requests for this webhook-id that were answered 2xx with a valid signature. */
  accepted(id: string): Received[] {
    return this.received.filter((r) => r.id === id && r.valid && r.status < 300);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const v = verify(req.headers, body, this.secrets);
      const id = String(req.headers['webhook-id']);
      const n = this.received.filter((r) => r.id === id).length + 1;
      const { status, delayMs } = v.ok ? this.answer(id, n) : { status: 401, delayMs: 0 };
      this.received.push({
        at: Date.now(),
        id,
        timestamp: Number(req.headers['webhook-timestamp']),
        signatures: String(req.headers['webhook-signature']).split(' ').length,
        body,
        valid: v.ok,
        matched: v.ok ? v.matched : [],
        status,
      });
      const reply = () => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? '' : `nope ${n}`);
      };
      if (delayMs) setTimeout(reply, delayMs);
      else reply();
    });
    res.on('error', () => undefined);
  }
}

// ---- helpers ----

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let studySeq = 0;
function newStudy(): string {
  return `1.2.826.0.1.3680043.10.543.${process.pid}.${Date.now()}.${++studySeq}`;
}

function studyEvent(type: StudyEventType, study: string): StudyEvent {
  return {
    id: `evt_${randomUUID()}`,
    type,
    time: new Date().toISOString(),
    store: 'local',
    studyInstanceUid: study,
    seriesInstanceUids: [`${study}.1`],
    modalities: ['CT'],
    sopClassUids: ['1.2.840.10008.5.1.4.1.1.2'],
    bodyParts: ['CHEST'],
    stations: [],
    priority: 'ROUTINE',
    series: 1,
    instances: 3,
  };
}

const payloadOf = (e: StudyEvent) => ({ id: e.id, type: `study.${e.type}`, timestamp: e.time, data: { studyInstanceUid: e.studyInstanceUid, note: 'é ✓' } });

interface DeliveryJson {
  id: string;
  eventId: string;
  state: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  attemptLog: { attempt: number; status: number | null; error: string | null; durationMs: number }[];
}

type Gateway = Awaited<ReturnType<typeof startInProcessGateway>>;

async function listDeliveries(gw: Gateway, subscription: string, query = ''): Promise<DeliveryJson[]> {
  const r = await fetch(`${gw.baseUrl}/api/subscriptions/${subscription}/deliveries${query}`);
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as { deliveries: DeliveryJson[] }).deliveries;
}

async function deliveryOf(gw: Gateway, subscription: string, eventId: string): Promise<DeliveryJson | undefined> {
  return (await listDeliveries(gw, subscription, '?limit=500')).find((d) => d.eventId === eventId);
}

/** Starts a gateway; `schedule` (ms, comma-separated) replaces the retry schedule for it. */
async function startGateway(env: Record<string, string>, schedule: string): Promise<Gateway> {
  return startInProcessGateway({
    EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    EVENTS_DELIVERY_RETRY_SCHEDULE_MS: schedule,
    EVENTS_DELIVERY_PAUSED_RECHECK_MS: '300',
    ...env,
  });
}

function subscribe(gw: Gateway, receiver: Receiver, events: StudyEventType[] = ['stable', 'results-received']): string {
  const { subscription, secret } = gw.app.get(SubscriptionStore).create({ url: receiver.url, events });
  receiver.secrets = [secret];
  return subscription.id;
}

// ---- tests ----

describe('webhook deliveries', () => {
  const prefix = uniqueRedisPrefix('webhooks');
  const receivers: Receiver[] = [];
  let gw: Gateway;
  let deliveries: DeliveryService;

  const receiver = async (port?: number) => {
    const r = await new Receiver().start(port);
    receivers.push(r);
    return r;
  };

  before(async () => {
    gw = await startGateway({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, EVENTS_DELIVERY_TIMEOUT_MS: '800', EVENTS_DELIVERY_CONCURRENCY: '8' }, '300,300,300,300');
    deliveries = gw.app.get(DeliveryService);
  });

  after(async () => {
    await gw?.stop();
    for (const r of receivers) await r.stop();
    await deleteRedisKeys(prefix);
  });

  test('delivered once, with the Standard Webhooks headers and a valid signature; enqueue is idempotent', async () => {
    const r = await receiver();
    const sub = subscribe(gw, r);
    const event = studyEvent('stable', newStudy());
    const before = Math.floor(Date.now() / 1000);
    await deliveries.enqueue(sub, event, payloadOf(event));
    await deliveries.enqueue(sub, event, payloadOf(event)); // the same event again: no second delivery
    await waitFor('the delivery', () => r.accepted(event.id).length === 1);
    const got = r.received[0];
    assert.equal(got.valid, true);
    assert.equal(got.id, event.id, 'webhook-id is the event id');
    assert.ok(got.timestamp >= before && got.timestamp <= Math.floor(Date.now() / 1000) + 1);
    assert.equal(got.signatures, 1);
    assert.equal(got.body, JSON.stringify(payloadOf(event)), 'the body is the JSON of the payload, byte for byte');
    const d = await waitFor('state delivered', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x?.state === 'delivered' && x;
    });
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatus, 204);
    assert.equal(d.attemptLog.length, 1);
    assert.equal(d.attemptLog[0].status, 204);
    await new Promise((res) => setTimeout(res, 400));
    assert.equal(r.received.length, 1, 'received exactly once');
    assert.equal((await listDeliveries(gw, sub)).length, 1);
  });

  test('a receiver answering 500 twice then 200: delivered at the third attempt, every attempt logged', async () => {
    const r = await receiver();
    r.answer = (_id, n) => ({ status: n <= 2 ? 500 : 200 });
    const sub = subscribe(gw, r);
    const event = studyEvent('stable', newStudy());
    await deliveries.enqueue(sub, event, payloadOf(event));
    const d = await waitFor('delivered', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x?.state === 'delivered' && x;
    });
    assert.equal(d.attempts, 3);
    assert.deepEqual(
      d.attemptLog.map((a) => [a.attempt, a.status]),
      [
        [1, 500],
        [2, 500],
        [3, 200],
      ],
    );
    assert.match(d.attemptLog[0].error ?? '', /HTTP 500: nope 1/);
    assert.equal(d.attemptLog[2].error, null);
    assert.equal(r.received.length, 3);
    assert.ok(r.received.every((x) => x.valid && x.id === event.id), 'the same webhook-id on every attempt');
    // Retried after the schedule's step (300 ms, jitter +-10 %), not at once.
    assert.ok(r.received[1].at - r.received[0].at >= 250, `${r.received[1].at - r.received[0].at} ms`);
  });

  test('a receiver down (connection refused) then up: delivered', async () => {
    const port = await freePort();
    const down = new Receiver();
    down.port = port;
    const sub = subscribe(gw, down);
    const event = studyEvent('stable', newStudy());
    await deliveries.enqueue(sub, event, payloadOf(event));
    const failing = await waitFor('a refused attempt', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x && x.attempts >= 1 && x;
    });
    assert.equal(failing.state, 'pending');
    assert.equal(failing.attemptLog[0].status, null);
    assert.match(failing.attemptLog[0].error ?? '', /ECONNREFUSED|refused/i);
    const r = await receiver(port);
    r.secrets = down.secrets;
    await waitFor('delivered once up', () => r.accepted(event.id).length === 1);
    const d = await waitFor('state delivered', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x?.state === 'delivered' && x;
    });
    assert.ok(d.attempts >= 2);
  });

  test('a slow receiver times out; another subscriber is delivered meanwhile without waiting', async () => {
    const slow = await receiver();
    slow.answer = (_id, n) => (n === 1 ? { status: 200, delayMs: 3_000 } : { status: 200 });
    const fast = await receiver();
    const slowSub = subscribe(gw, slow);
    const fastSub = subscribe(gw, fast);
    const slowEvent = studyEvent('stable', newStudy());
    await deliveries.enqueue(slowSub, slowEvent, payloadOf(slowEvent));
    await waitFor('the slow request', () => slow.received.length === 1);
    const sentAt = Date.now();
    const fastEvent = studyEvent('stable', newStudy());
    await deliveries.enqueue(fastSub, fastEvent, payloadOf(fastEvent));
    await waitFor('the fast delivery', () => fast.accepted(fastEvent.id).length === 1);
    assert.ok(Date.now() - sentAt < 700, `the other subscriber waited ${Date.now() - sentAt} ms`);
    const d = await waitFor('the slow one delivered at its second attempt', async () => {
      const x = await deliveryOf(gw, slowSub, slowEvent.id);
      return x?.state === 'delivered' && x;
    });
    assert.equal(d.attempts, 2);
    assert.equal(d.attemptLog[0].status, null);
    assert.match(d.attemptLog[0].error ?? '', /timed out after 800 ms/);
    assert.ok(d.attemptLog[0].durationMs >= 750 && d.attemptLog[0].durationMs < 2_000, `${d.attemptLog[0].durationMs} ms`);
  });

  test('in order per study per subscription: results-received waits for a failing stable; another study does not', async () => {
    const r = await receiver();
    const study = newStudy();
    const stable = studyEvent('stable', study);
    const results = studyEvent('results-received', study);
    const other = studyEvent('stable', newStudy());
    r.answer = (id, n) => ({ status: id === stable.id && n <= 2 ? 503 : 200 });
    const sub = subscribe(gw, r);
    await deliveries.enqueue(sub, stable, payloadOf(stable));
    await deliveries.enqueue(sub, results, payloadOf(results));
    await deliveries.enqueue(sub, other, payloadOf(other));
    await waitFor('all delivered', () => r.accepted(results.id).length === 1 && r.accepted(stable.id).length === 1 && r.accepted(other.id).length === 1);
    const stableOk = r.accepted(stable.id)[0];
    const firstResults = r.received.find((x) => x.id === results.id)!;
    assert.ok(firstResults.at >= stableOk.at, 'results-received is not sent before stable was delivered');
    assert.equal(r.received.filter((x) => x.id === results.id).length, 1, 'results-received sent once');
    const otherOk = r.accepted(other.id)[0];
    assert.ok(otherOk.at < stableOk.at, 'a delivery of another study does not wait');
    assert.equal(r.received.filter((x) => x.id === stable.id).length, 3);
  });

  test('dead after the schedule; redelivered through the API (202), its log kept; 404 for unknown ids', async () => {
    const r = await receiver();
    let up = false;
    r.answer = () => ({ status: up ? 200 : 500 });
    const sub = subscribe(gw, r);
    const event = studyEvent('stable', newStudy());
    await deliveries.enqueue(sub, event, payloadOf(event));
    const dead = await waitFor('dead', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x?.state === 'dead' && x;
    });
    assert.equal(dead.attempts, 5, 'one attempt plus the four retries of the test schedule');
    assert.equal(dead.attemptLog.length, 5);
    assert.equal(dead.lastStatus, 500);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(r.received.length, 5, 'no attempt after dead');

    up = true;
    const res = await fetch(`${gw.baseUrl}/api/subscriptions/${sub}/deliveries/${dead.id}/redeliver`, { method: 'POST' });
    assert.equal(res.status, 202, await res.clone().text());
    const d = await waitFor('delivered after redeliver', async () => {
      const x = await deliveryOf(gw, sub, event.id);
      return x?.state === 'delivered' && x;
    });
    assert.equal(d.attempts, 6);
    assert.deepEqual(
      d.attemptLog.map((a) => a.status),
      [500, 500, 500, 500, 500, 200],
    );
    // A delivered one goes again too: the subscriber sees the same webhook-id.
    const again = await fetch(`${gw.baseUrl}/api/subscriptions/${sub}/deliveries/${dead.id}/redeliver`, { method: 'POST' });
    assert.equal(again.status, 202);
    await waitFor('delivered twice', () => r.accepted(event.id).length === 2);
    await waitFor('seven attempts logged', async () => (await deliveryOf(gw, sub, event.id))?.attempts === 7);

    assert.equal((await fetch(`${gw.baseUrl}/api/subscriptions/${sub}/deliveries/nope/redeliver`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${gw.baseUrl}/api/subscriptions/sub_unknown/deliveries/${dead.id}/redeliver`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${gw.baseUrl}/api/subscriptions/sub_unknown/deliveries`)).status, 404);
    assert.equal((await fetch(`${gw.baseUrl}/api/subscriptions/${sub}/deliveries?limit=0`)).status, 400);
  });

  test('deliveries are listed newest first, limited', async () => {
    const r = await receiver();
    const sub = subscribe(gw, r);
    const events = [1, 2, 3].map(() => studyEvent('stable', newStudy()));
    for (const e of events) await deliveries.enqueue(sub, e, payloadOf(e));
    const all = await listDeliveries(gw, sub);
    assert.deepEqual(
      all.map((d) => d.eventId),
      events.map((e) => e.id).reverse(),
    );
    assert.deepEqual(
      (await listDeliveries(gw, sub, '?limit=2')).map((d) => d.eventId),
      [events[2].id, events[1].id],
    );
    await waitFor('all delivered', () => events.every((e) => r.accepted(e.id).length === 1));
  });

  test('a rotated secret during its overlap: two v1 signatures, either secret verifies', async () => {
    const r = await receiver();
    const sub = subscribe(gw, r);
    const old = r.secrets[0];
    const { secret } = gw.app.get(SubscriptionStore).rotateSecret(sub, 3600);
    r.secrets = [old, secret];
    const event = studyEvent('stable', newStudy());
    await deliveries.enqueue(sub, event, payloadOf(event));
    await waitFor('delivered', () => r.accepted(event.id).length === 1);
    const got = r.received[0];
    assert.equal(got.signatures, 2);
    assert.deepEqual(got.matched, [0, 1], 'a receiver knowing only the old secret, or only the new one, accepts it');
  });

  test('a paused subscription waits and is delivered when resumed; a deleted one is cancelled', async () => {
    const r = await receiver();
    const sub = subscribe(gw, r);
    const store = gw.app.get(SubscriptionStore);
    store.update(sub, { status: 'paused' });
    const event = studyEvent('stable', newStudy());
    await deliveries.enqueue(sub, event, payloadOf(event));
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(r.received.length, 0, 'nothing sent while paused');
    assert.equal((await deliveryOf(gw, sub, event.id))?.state, 'pending');
    store.update(sub, { status: 'active' });
    await waitFor('delivered once resumed', () => r.accepted(event.id).length === 1);

    const gone = await receiver();
    gone.answer = () => ({ status: 500 });
    const goneSub = subscribe(gw, gone);
    const e2 = studyEvent('stable', newStudy());
    await deliveries.enqueue(goneSub, e2, payloadOf(e2));
    await waitFor('a failed attempt', () => gone.received.length >= 1);
    store.delete(goneSub);
    const db = gw.app.get<EventsDatabase>(EVENTS_DB).db;
    const state = await waitFor('cancelled', () => {
      const row = db.prepare('SELECT state FROM deliveries WHERE subscription_id = ? AND event_id = ?').get(goneSub, e2.id) as { state: string } | undefined;
      return row?.state === 'cancelled' && row.state;
    });
    assert.equal(state, 'cancelled');
  });
});

describe('webhook deliveries across a restart', () => {
  test('a delivery waiting for its retry is delivered by the next gateway, once; also after Redis lost its keys', async () => {
    const prefix = uniqueRedisPrefix('webhooks-restart');
    const dir = makeTempDir('webhooks-restart');
    const r = await new Receiver().start();
    let up = false;
    r.answer = () => ({ status: up ? 200 : 500 });
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, DATA_DIR: dir.path };
    let gw = await startGateway(env, '1500,1500,1500');
    try {
      const sub = subscribe(gw, r);
      const secrets = r.secrets;
      const event = studyEvent('stable', newStudy());
      await gw.app.get(DeliveryService).enqueue(sub, event, payloadOf(event));
      await waitFor('the first, failed, attempt', async () => (await deliveryOf(gw, sub, event.id))?.attempts === 1);
      await gw.stop();
      up = true;
      gw = await startGateway(env, '1500,1500,1500');
      assert.deepEqual(gw.app.get(SubscriptionStore).signingSecrets(sub), secrets);
      await waitFor('delivered after the restart', () => r.accepted(event.id).length === 1);
      const d = await waitFor('logged delivered', async () => {
        const x = await deliveryOf(gw, sub, event.id);
        return x?.state === 'delivered' && x;
      });
      assert.deepEqual(
        d.attemptLog.map((a) => a.status),
        [500, 200],
      );

      // Redis emptied while the gateway is down: the reconciler rebuilds the queue from SQLite.
      up = false;
      const e2 = studyEvent('results-received', newStudy());
      await gw.app.get(DeliveryService).enqueue(sub, e2, payloadOf(e2));
      await waitFor('a failed attempt', async () => (await deliveryOf(gw, sub, e2.id))?.attempts === 1);
      await gw.stop();
      await deleteRedisKeys(prefix);
      up = true;
      gw = await startGateway(env, '1500,1500,1500');
      await waitFor('delivered from SQLite alone', () => r.accepted(e2.id).length === 1);
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(r.accepted(event.id).length, 1, 'the first delivery was not sent again');
      assert.equal(r.accepted(e2.id).length, 1);
    } finally {
      await gw.stop();
      await r.stop();
      dir.remove();
      await deleteRedisKeys(prefix);
    }
  });

  test('without Redis reachable, enqueue records the delivery and returns at once; without REDIS_URL deliveries go in process', async () => {
    const r = await new Receiver().start();
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    let gw = await startGateway({ REDIS_URL: deadRedis, REDIS_KEY_PREFIX: uniqueRedisPrefix('webhooks-away') }, '200');
    try {
      const sub = subscribe(gw, r);
      const event = studyEvent('stable', newStudy());
      const t0 = Date.now();
      await gw.app.get(DeliveryService).enqueue(sub, event, payloadOf(event));
      assert.ok(Date.now() - t0 < 1_000, `enqueue took ${Date.now() - t0} ms`);
      assert.equal((await deliveryOf(gw, sub, event.id))?.state, 'pending');
      await gw.stop();

      gw = await startGateway({}, '200,200');
      const sub2 = subscribe(gw, r);
      r.answer = (_id, n) => ({ status: n === 1 ? 500 : 200 });
      const e2 = studyEvent('stable', newStudy());
      await gw.app.get(DeliveryService).enqueue(sub2, e2, payloadOf(e2));
      await waitFor('delivered in process', () => r.accepted(e2.id).length === 1);
      assert.equal(gw.app.get(DeliveryService).status().queue, 'memory');
    } finally {
      await gw.stop();
      await r.stop();
    }
  });
});
