/**
 * Faults a test injects on the Google Cloud Healthcare fake, and the connection behaviour an
 * undici pool relies on: throttling (429 RESOURCE_EXHAUSTED naming the read or write quota),
 * failures (500 INTERNAL, 503 UNAVAILABLE), latency before the headers, the outage switch, all on
 * the DICOMweb server only (the token endpoint keeps answering); keep-alive across successes and
 * error answers, bodies included; and the request log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'undici';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { GcpClient, accessToken, allowedClient, googleError, gtokenClaims, postAssertion, signAssertion } from '../fakes/gcp/test-client/gcp-clients';

let fake: GcpFake;
let client: GcpClient;
before(async () => {
  fake = await startGcpFake();
  client = await allowedClient(fake);
});
after(() => fake.close());

describe('injected faults', () => {
  test('throttleNext: 429 RESOURCE_EXHAUSTED with the read quota for reads and the write quota for STOW, then normal answers', async () => {
    fake.throttleNext(2);
    const read = await client.get('/studies');
    assert.equal(read.status, 429);
    assert.equal(googleError(read).status, 'RESOURCE_EXHAUSTED');
    assert.match(googleError(read).message, /^Quota exceeded for quota metric 'Number of DICOMweb read requests'/);
    const write = await client.stow([syntheticInstance({ seed: 1001, rows: 2, columns: 2 })]);
    assert.equal(write.status, 429);
    assert.match(googleError(write).message, /'Number of DICOMweb write requests'/);
    assert.equal(fake.instances().length, 0, 'a throttled STOW stores nothing');
    assert.equal((await client.get('/studies')).status, 200);
  });

  test('failNext: 500 INTERNAL, or 503 UNAVAILABLE, in the order armed', async () => {
    fake.failNext(1);
    fake.failNext(1, 503);
    const first = await client.get('/studies');
    assert.deepEqual(googleError(first), { code: 500, status: 'INTERNAL', message: 'Internal error encountered.' });
    const second = await client.get('/studies');
    assert.equal(second.status, 503);
    assert.equal(googleError(second).status, 'UNAVAILABLE');
    assert.equal((await client.get('/studies')).status, 200);
  });

  test('faults, latency and the outage leave the token endpoint alone', async () => {
    const key = fake.createServiceAccountKey();
    fake.throttleNext(1);
    fake.setLatencyMs(400);
    fake.setDown(true);
    try {
      const started = Date.now();
      assert.equal((await postAssertion(fake, signAssertion(key.private_key, gtokenClaims(key)))).status, 200);
      assert.ok(Date.now() - started < 400);
    } finally {
      fake.setDown(false);
      fake.setLatencyMs(0);
    }
    assert.equal((await client.get('/studies')).status, 429, 'the armed throttle is still there for DICOMweb');
  });

  test('setLatencyMs delays every DICOMweb answer', async () => {
    fake.setLatencyMs(250);
    try {
      const started = Date.now();
      assert.equal((await client.get('/studies')).status, 200);
      assert.ok(Date.now() - started >= 240);
    } finally {
      fake.setLatencyMs(0);
    }
  });

  test('setDown: connections are destroyed at once, open ones too; setDown(false) restores service', async () => {
    const pool = new Client(fake.origin);
    try {
      const headers = { authorization: `Bearer ${client.token}` };
      const path = new URL(`${fake.dicomWebRoot}/studies`).pathname;
      assert.equal((await pool.request({ path, method: 'GET', headers })).statusCode, 200);
      fake.setDown(true);
      await assert.rejects(pool.request({ path, method: 'GET', headers }));
      await assert.rejects(send(`${fake.dicomWebRoot}/studies`, { headers }));
      fake.setDown(false);
      const back = await pool.request({ path, method: 'GET', headers });
      assert.equal(back.statusCode, 200);
      await back.body.dump();
    } finally {
      fake.setDown(false);
      await pool.close();
    }
  });
});

describe('connections and the request log', () => {
  test('one keep-alive connection carries successes, errors with unread bodies and faults alike', async () => {
    const pool = new Client(fake.origin, { pipelining: 1 });
    let connects = 0;
    pool.on('connect', () => connects++);
    try {
      const path = (p: string) => {
        const url = new URL(`${fake.dicomWebRoot}${p}`);
        return url.pathname + url.search;
      };
      const auth = { authorization: `Bearer ${client.token}` };
      const file = syntheticInstance({ seed: 1002, rows: 8, columns: 8 });
      const calls: [string, string, Record<string, string>, Buffer | undefined, number][] = [
        ['POST', '/studies', { 'content-type': 'application/dicom' }, file, 401], // no token, body unread by the handler
        ['POST', '/studies', { ...auth, 'content-type': 'application/dicom', accept: 'application/dicom+json' }, file, 200],
        ['GET', '/studies?limit=999999', auth, undefined, 400],
        ['POST', '/studies', { ...auth, 'content-type': 'application/dicom' }, file, 429],
        ['GET', '/studies', auth, undefined, 200],
      ];
      fake.resetRequests();
      for (const [method, p, headers, body, status] of calls) {
        if (status === 429) fake.throttleNext(1);
        const answer = await pool.request({ method: method as 'GET' | 'POST', path: path(p), headers, body });
        await answer.body.dump();
        assert.equal(answer.statusCode, status, `${method} ${p}`);
      }
      assert.equal(connects, 1);
      const log = fake.requests();
      assert.deepEqual(log.map((r) => [r.kind, r.method, r.operation, r.status]), [
        ['dicomweb', 'POST', 'dicomStores.storeInstances', 401],
        ['dicomweb', 'POST', 'dicomStores.storeInstances', 200],
        ['dicomweb', 'GET', 'dicomStores.searchForStudies', 400],
        ['dicomweb', 'POST', 'dicomStores.storeInstances', 429],
        ['dicomweb', 'GET', 'dicomStores.searchForStudies', 200],
      ]);
      assert.equal(log[1].bytesIn, file.length);
      assert.equal(log[2].path, path('/studies?limit=999999'));
      assert.ok(log[2].path.endsWith('/dicomWeb/studies?limit=999999'));
      fake.resetRequests();
      assert.deepEqual(fake.requests(), []);
    } finally {
      await pool.close();
    }
  });

  test('operation names follow the REST reference for each DICOMweb method', async () => {
    const token = await accessToken(fake, fake.createServiceAccountKey());
    const c = { authorization: `Bearer ${token}` };
    fake.resetRequests();
    const study = fake.instances()[0];
    const base = `/studies/${study.studyInstanceUid}/series/${study.seriesInstanceUid}/instances/${study.sopInstanceUid}`;
    for (const p of ['/series', '/instances', `/studies/${study.studyInstanceUid}/metadata`, `${base}/frames/1`, `${base}/rendered`, `${base}/bulkdata/7FE00010`, `${base}/thumbnail`]) {
      await send(`${fake.dicomWebRoot}${p}`, { headers: c });
    }
    assert.deepEqual(fake.requests().map((r) => r.operation), [
      'dicomStores.searchForSeries',
      'dicomStores.searchForInstances',
      'dicomStores.studies.retrieveMetadata',
      'dicomStores.studies.series.instances.frames.retrieveFrames',
      'dicomStores.studies.series.instances.retrieveRendered',
      'dicomStores.studies.series.instances.bulkdata.retrieveBulkdata',
      'Unknown',
    ]);
  });
});
