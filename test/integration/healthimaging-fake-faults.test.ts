/**
 * What a test can do to the HealthImaging fake, and its connection handling: throttling and
 * failures for the next N requests (per host or any), latency before the answer's headers, an
 * outage (connections destroyed) and recovery, the visibility delay, the request log, and HTTP/1.1
 * keep-alive through an undici pool as the adapter uses it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { FakeClient, fakeClient } from '../fakes/healthimaging/test-client/fake-clients';
import { signRequest } from '../fakes/healthimaging/test-client/signed-request';

let fake: HealthImagingFake;
let client: FakeClient;
before(async () => {
  fake = await startHealthImagingFake();
  client = fakeClient(fake);
});
after(() => fake.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const datastore = () => `/datastore/${fake.datastoreId}`;

async function pooledGet(pool: Pool, path: string): Promise<number> {
  const signed = await signRequest(fake.dicomwebEndpoint, { path, credentials: fake.credentials, region: fake.region, service: 'medical-imaging' });
  const { statusCode, body } = await pool.request({ method: 'GET', path, headers: signed.headers });
  await body.arrayBuffer();
  return statusCode;
}

describe('injected faults', () => {
  test('throttleNext: 429 ThrottlingException "Rate exceeded" for the next N requests to that host only', async () => {
    fake.throttleNext(2, 'dicomweb');
    const control = await client.request('control', { path: datastore() });
    assert.equal(control.status, 200, 'another host is not throttled');
    for (let i = 0; i < 2; i++) {
      const answer = await client.get('/studies');
      assert.equal(answer.status, 429);
      assert.equal(answer.headers['x-amzn-errortype'], 'ThrottlingException');
      assert.deepEqual(answer.json(), { message: 'Rate exceeded' });
    }
    assert.equal((await client.get('/studies')).status, 200);
  });

  test('failNext: 500 InternalServerException (or the given status), on any host; S3 in its XML', async () => {
    fake.failNext(1);
    const failed = await client.request('control', { path: datastore() });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers['x-amzn-errortype'], 'InternalServerException');
    fake.failNext(1, 503, 's3');
    const s3 = await client.request('s3', { path: `/${fake.bucket}?list-type=2` });
    assert.equal(s3.status, 503);
    assert.match(s3.text(), /<Code>ServiceUnavailable<\/Code>/);
    assert.equal((await client.request('s3', { path: `/${fake.bucket}?list-type=2` })).status, 200);
  });

  test('a STOW answered by a fault stores nothing and the connection stays usable', async () => {
    fake.throttleNext(1);
    const answer = await client.stow([syntheticInstance({ seed: 71 })]);
    assert.equal(answer.status, 429);
    assert.equal(fake.instances().length, 0);
    assert.equal((await client.stow([syntheticInstance({ seed: 71 })])).status, 200);
  });

  test('setLatencyMs delays each answer', async () => {
    fake.setLatencyMs(150);
    const started = Date.now();
    assert.equal((await client.get('/studies')).status, 200);
    assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
    fake.setLatencyMs(0);
  });

  test('setVisibilityDelayMs: data stored afterwards is hidden that long', async () => {
    fake.setVisibilityDelayMs(200);
    await client.stow([syntheticInstance({ seed: 72, patientId: 'LATE' })]);
    fake.setVisibilityDelayMs(0);
    assert.deepEqual((await client.get('/studies?PatientID=LATE')).json(), []);
    await sleep(250);
    assert.equal((await client.get('/studies?PatientID=LATE')).json<unknown[]>().length, 1);
  });
});

describe('connections', () => {
  test('keep-alive: an undici pool reuses one connection for sequential requests', async () => {
    const pool = new Pool(fake.dicomwebEndpoint, { connections: 4 });
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal(await pooledGet(pool, `${datastore()}/studies?limit=${i + 1}`), 200);
        // undici frees a connection for the next request only on a later turn of the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(pool.stats.connected, 1);
    } finally {
      await pool.close();
    }
  });

  test('setDown(true): pooled and new connections fail at once; setDown(false): requests succeed again', async () => {
    const pool = new Pool(fake.dicomwebEndpoint, { connections: 1 });
    try {
      assert.equal(await pooledGet(pool, `${datastore()}/studies`), 200);
      fake.setDown(true);
      await assert.rejects(pooledGet(pool, `${datastore()}/studies`));
      await assert.rejects(client.request('control', { path: datastore() }));
      fake.setDown(false);
      assert.equal(await pooledGet(pool, `${datastore()}/studies`), 200);
      assert.equal((await client.request('control', { path: datastore() })).status, 200);
    } finally {
      fake.setDown(false);
      await pool.close();
    }
  });
});

describe('request log', () => {
  test('requests() lists host, method, path (with the query), operation, status and body bytes; resetRequests() empties it', async () => {
    fake.resetRequests();
    const file = syntheticInstance({ seed: 73 });
    await client.stow([file]);
    await client.get(`/studies/${uidFromSeed(73, 'study')}/series/${uidFromSeed(73, 'series')}/instances/${uidFromSeed(73, 'instance')}/frames/1`);
    await client.get('/studies/1.2.3?includefield=all');
    await client.request('s3', { method: 'PUT', path: `/${fake.bucket}/log/x.bin`, body: Buffer.alloc(10) });
    assert.deepEqual(
      fake.requests().map((r) => [r.host, r.method, r.operation, r.status, r.bytesIn]),
      [
        ['dicomweb', 'POST', 'StoreDICOM', 200, file.length],
        ['dicomweb', 'GET', 'GetDICOMInstanceFrames', 200, 0],
        ['dicomweb', 'GET', 'Unknown', 404, 0],
        ['s3', 'PUT', 'PutObject', 200, 10],
      ],
    );
    assert.equal(fake.requests()[0].path, `${datastore()}/studies`);
    assert.equal(fake.requests()[2].path, `${datastore()}/studies/1.2.3?includefield=all`);
    fake.resetRequests();
    assert.deepEqual(fake.requests(), []);
  });
});
