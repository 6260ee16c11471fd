/**
 * The Google Cloud Healthcare adapter against the wire-level fake, beyond the store contract: the
 * real OAuth2 JWT-bearer flow (tokens cached, renewed before they expire, a revoked one replaced
 * without a failed request, a foreign key refused), Google's errors (permission denied, throttling,
 * an outage, slowness) as the client sees them, a conflicting duplicate, QIDO keys and wildcards
 * Google does not search on, paging under its per-request maxima, rendered images, and data that
 * is not indexed yet.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { GcpSetup, startGcpGateway } from '../helpers/gcp-gateway';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';

const ROOT = '1.2.826.0.1.3680043.10.7820';
const JSON_ACCEPT = { accept: 'application/dicom+json' };

function stow(base: string, files: Buffer[]) {
  const { body, contentType } = multipartBody(files);
  return send(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
}

function study(n: number, instances = 1, extra: { tag: string; value: string }[] = []): Buffer[] {
  const studyUid = `${ROOT}.${n}`;
  return Array.from({ length: instances }, (_, i) =>
    syntheticInstance({
      seed: n * 100 + i,
      rows: 16,
      columns: 16,
      studyUid,
      seriesUid: `${studyUid}.1`,
      sopInstanceUid: `${studyUid}.1.${i + 1}`,
      instanceNumber: i + 1,
      patientId: `GCP-${n}`,
      patientName: `Müller^Gcp${n}`,
      studyDescription: `GCP study ${n}`,
      extraElements: extra,
    }),
  );
}

/** Waits until the gateway sent the fake nothing for a while: the metadata cache refreshes a study
 *  stored through it in the background, which would take a fault armed for the test. */
async function quiet(setup: GcpSetup, ms = 300): Promise<void> {
  for (let seen = -1; seen !== setup.fake.requests().length; ) {
    seen = setup.fake.requests().length;
    await new Promise((r) => setTimeout(r, ms));
  }
}

const tokenRequests = (setup: GcpSetup) => setup.fake.requests().filter((r) => r.kind === 'token');
const dicomwebRequests = (setup: GcpSetup) => setup.fake.requests().filter((r) => r.kind === 'dicomweb');

describe('gcp adapter: the OAuth2 token flow', () => {
  test('one token serves many requests; a token of a few seconds is renewed before it expires, without a failed request', async () => {
    const setup = await startGcpGateway({ tokenLifetimeSeconds: 3 }, { storeLines: ['tokenRefreshMarginMs: 1000'] });
    try {
      assert.equal((await stow(setup.dicomweb, study(1))).status, 200);
      setup.fake.resetRequests();
      const before = setup.fake.tokensIssued();
      const deadline = Date.now() + 5_500;
      let requests = 0;
      while (Date.now() < deadline) {
        const res = await send(`${setup.dicomweb}/studies?PatientID=GCP-1`, { headers: JSON_ACCEPT });
        assert.equal(res.status, 200, res.text());
        requests++;
        await new Promise((r) => setTimeout(r, 100));
      }
      const issued = setup.fake.tokensIssued() - before;
      assert.ok(issued >= 2 && issued < requests / 3, `${issued} tokens for ${requests} requests`);
      assert.equal(dicomwebRequests(setup).filter((r) => r.status === 401).length, 0, 'no request went out with an expired token');
    } finally {
      await setup.close();
    }
  });

  test('a token revoked early is replaced on its 401: the client never sees it', async () => {
    const setup = await startGcpGateway();
    try {
      assert.equal((await stow(setup.dicomweb, study(2))).status, 200);
      await quiet(setup);
      setup.fake.expireAllTokens();
      setup.fake.resetRequests();
      const res = await send(`${setup.dicomweb}/studies?PatientID=GCP-2`, { headers: JSON_ACCEPT });
      assert.equal(res.status, 200, res.text());
      assert.deepEqual(dicomwebRequests(setup).map((r) => r.status), [401, 200]);
      assert.equal(tokenRequests(setup).length, 1);
    } finally {
      await setup.close();
    }
  });

  test('a key Google does not know, and a deleted key, are refused by the token endpoint: 502 with its reason', async () => {
    const foreign = await startGcpGateway({}, {
      key: (fake) => {
        const real = fake.createServiceAccountKey();
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return { ...real, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
      },
    });
    try {
      const res = await send(`${foreign.dicomweb}/studies`, { headers: JSON_ACCEPT });
      assert.equal(res.status, 502, res.text());
      assert.match(String(res.headers.warning), /invalid_grant/);
      assert.doesNotMatch(res.text(), /PRIVATE KEY/);
    } finally {
      await foreign.close();
    }
    const deleted = await startGcpGateway();
    try {
      deleted.fake.deleteServiceAccountKey(deleted.key.private_key_id);
      const res = await send(`${deleted.dicomweb}/studies`, { headers: JSON_ACCEPT });
      assert.equal(res.status, 502, res.text());
      assert.match(String(res.headers.warning), /invalid_grant/);
    } finally {
      await deleted.close();
    }
  });

  test('an account without permission on the store: 502 with Google\'s PERMISSION_DENIED reason', async () => {
    const setup = await startGcpGateway({}, { key: (fake) => fake.createServiceAccountKey({ denied: true }) });
    try {
      const res = await send(`${setup.dicomweb}/studies`, { headers: JSON_ACCEPT });
      assert.equal(res.status, 502, res.text());
      assert.match(String(res.headers.warning), /PERMISSION_DENIED.*healthcare\.dicomStores\.dicomWebRead/);
    } finally {
      await setup.close();
    }
  });
});

describe('gcp adapter: Google\'s answers', () => {
  let setup: GcpSetup;
  before(async () => {
    setup = await startGcpGateway({}, { storeLines: ['timeouts: { connectMs: 1000, firstByteMs: 1500, idleMs: 1500 }', 'circuitBreaker: { failureThreshold: 50, openMs: 1000 }', 'qidoMaxLimits: { study: 3, series: 3, instance: 3 }'] });
    assert.equal((await stow(setup.dicomweb, [10, 11, 12, 13, 14, 15, 16].flatMap((n) => study(n)))).status, 200);
  });
  after(() => setup?.close());

  test('429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE are retried with backoff; beyond the retries 503 with Retry-After', async () => {
    await quiet(setup);
    setup.fake.throttleNext(2);
    assert.equal((await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT })).status, 200);
    setup.fake.failNext(2, 503);
    assert.equal((await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT })).status, 200);
    await quiet(setup);
    setup.fake.throttleNext(3);
    const res = await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT });
    assert.equal(res.status, 503, res.text());
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.match(String(res.headers.warning), /RESOURCE_EXHAUSTED/);
  });

  test('Google down: 503 in bounded time; too slow: 504; an internal error: 502 with the reason', async () => {
    setup.fake.setDown(true);
    try {
      const t0 = Date.now();
      const res = await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT });
      assert.ok([502, 503].includes(res.status), `${res.status}: ${res.text()}`);
      assert.ok(Date.now() - t0 < 5_000);
    } finally {
      setup.fake.setDown(false);
    }
    setup.fake.setLatencyMs(6_000);
    try {
      assert.equal((await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT })).status, 504);
    } finally {
      setup.fake.setLatencyMs(0);
    }
    await quiet(setup);
    setup.fake.failNext(1, 500);
    const failed = await send(`${setup.dicomweb}/studies?PatientID=GCP-10`, { headers: JSON_ACCEPT });
    assert.equal(failed.status, 502, failed.text());
    assert.match(String(failed.headers.warning), /INTERNAL/);
  });

  test('a duplicate with other bytes is Google\'s 409, answered as a conflict (0x0111); the same bytes again succeed', async () => {
    const [original] = study(10);
    assert.equal((await stow(setup.dicomweb, [original])).status, 200);
    const other = syntheticInstance({ seed: 9999, rows: 16, columns: 16, studyUid: `${ROOT}.10`, seriesUid: `${ROOT}.10.1`, sopInstanceUid: `${ROOT}.10.1.1`, patientId: 'GCP-10' });
    const res = await stow(setup.dicomweb, [other]);
    assert.equal(res.status, 409, res.text());
    assert.deepEqual(res.json()['00081198'].Value[0]['00081197'].Value, [0x0111]);
    assert.match(String(res.headers.warning), /already exists/);
    const again = await stow(setup.dicomweb, [original]);
    assert.equal(again.status, 200, again.text());
    const kept = setup.fake.instances().find((i) => i.sopInstanceUid === `${ROOT}.10.1.1`)!;
    assert.equal(kept.sha256, createHash('sha256').update(original).digest('hex'), 'Google kept the first copy');
  });

  test('pages beyond Google\'s per-request maximum are asked in several requests; limit and offset behave as the standard says', async () => {
    setup.fake.resetRequests();
    const page = await send(`${setup.dicomweb}/studies?PatientName=M%C3%BCller%5E*&limit=5`, { headers: JSON_ACCEPT });
    assert.equal(page.status, 200, page.text());
    assert.equal((page.json() as unknown[]).length, 5);
    const searches = dicomwebRequests(setup).filter((r) => /searchFor/i.test(r.operation));
    assert.ok(searches.length >= 2, `${searches.length} searches`);
    for (const r of searches) {
      assert.match(r.path, /[?&]limit=[1-3](&|$)/, r.path);
      assert.ok(!/PatientName=/.test(r.path), `a wildcard is matched at the gateway, not sent: ${r.path}`);
    }
    const all = await send(`${setup.dicomweb}/studies?PatientName=M%C3%BCller%5E*&limit=100`, { headers: JSON_ACCEPT });
    const uids = (all.json() as Record<string, { Value: string[] }>[]).map((r) => r['0020000D'].Value[0]);
    assert.equal(uids.length, 7);
    const offset = await send(`${setup.dicomweb}/studies?PatientName=M%C3%BCller%5E*&limit=3&offset=5`, { headers: JSON_ACCEPT });
    assert.deepEqual((offset.json() as Record<string, { Value: string[] }>[]).map((r) => r['0020000D'].Value[0]), uids.slice(5, 8));
  });

  test('a key Google does not search on is matched at the gateway; one the results cannot carry is a 400', async () => {
    const [head] = study(20, 1, [{ tag: 'BodyPartExamined', value: 'HEAD' }]);
    assert.equal((await stow(setup.dicomweb, [head])).status, 200);
    setup.fake.resetRequests();
    const series = await send(`${setup.dicomweb}/series?BodyPartExamined=HEAD`, { headers: JSON_ACCEPT });
    assert.equal(series.status, 200, series.text());
    assert.deepEqual((series.json() as Record<string, { Value: string[] }>[]).map((s) => s['0020000E'].Value[0]), [`${ROOT}.20.1`]);
    for (const r of dicomwebRequests(setup)) assert.ok(!/00180015=/.test(r.path), r.path);
    const refused = await send(`${setup.dicomweb}/studies?BodyPartExamined=HEAD`, { headers: JSON_ACCEPT });
    assert.equal(refused.status, 400);
    assert.match(String(refused.headers.warning), /cannot be searched/);
  });
});

describe('gcp adapter: rendered images, data not indexed yet', () => {
  let setup: GcpSetup;
  before(async () => {
    setup = await startGcpGateway();
  });
  after(() => setup?.close());

  test('a frame rendered by Google: a PNG of the frame size', async () => {
    const file = syntheticInstance({ seed: 3001, rows: 24, columns: 32, studyUid: `${ROOT}.30`, seriesUid: `${ROOT}.30.1`, sopInstanceUid: `${ROOT}.30.1.1`, frameOfReferenceUid: uidFromSeed(3001, 'f') });
    assert.equal((await stow(setup.dicomweb, [file])).status, 200);
    const res = await send(`${setup.dicomweb}/studies/${ROOT}.30/series/${ROOT}.30.1/instances/${ROOT}.30.1.1/frames/1/rendered?window=2048,4096`, { headers: { accept: 'image/png' } });
    assert.equal(res.status, 200, res.text());
    assert.match(String(res.headers['content-type']), /^image\/png/);
    assert.equal(res.body.readUInt32BE(16), 32);
    assert.equal(res.body.readUInt32BE(20), 24);
    const idat = res.body.indexOf('IDAT');
    assert.ok(idat > 0 && inflateSync(res.body.subarray(idat + 4, idat + 4 + res.body.readUInt32BE(idat - 4))).length >= 24 * 33);
  });

  test('a study Google has not indexed yet is answered from what the gateway stored, with a Warning', async () => {
    setup.fake.setVisibilityDelayMs(60_000);
    assert.equal((await stow(setup.dicomweb, study(31, 2))).status, 200);
    const metadata = await send(`${setup.dicomweb}/studies/${ROOT}.31/metadata`, { headers: JSON_ACCEPT });
    assert.equal(metadata.status, 200, metadata.text());
    assert.equal((metadata.json() as unknown[]).length, 2);
    assert.match(String(metadata.headers.warning), /not confirmed/);
    assert.equal(((await send(`${setup.dicomweb}/studies?PatientID=GCP-31`, { headers: JSON_ACCEPT })).json() as unknown[]).length, 1);
    setup.fake.setVisibilityDelayMs(0);
  });
});
