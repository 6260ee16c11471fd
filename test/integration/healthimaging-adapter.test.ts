/**
 * The HealthImaging adapter against the wire-level fake, beyond the store contract: what it asks
 * HealthImaging (only the documented operations, every request signed), what it composes itself,
 * the limits it works within (STOW request size, QIDO page size and includefield count, keys it
 * cannot send), HTJ2K frames, and how HealthImaging's failures reach a client: a bad signature,
 * a wrong region or denied access (502 with AWS's reason), throttling (retried), an outage (503),
 * slowness (504), data not indexed yet (answered from what the gateway stored).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { syntheticInstance, syntheticPixels, uidFromSeed } from '../fixtures/dicom-builder';
import { ojphCodestream } from '../fixtures/codec-samples';
import { listFiles } from '../helpers/store-inspection';
import { makeTempDir } from '../helpers/temp-dir';
import { codestream, encapsulateFrames, imageInstance } from '../fixtures/wado-images';
import { HealthImagingSetup, startHealthImagingGateway } from '../helpers/healthimaging-gateway';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { splitMultipart } from '../helpers/wado-client';

const ROOT = '1.2.826.0.1.3680043.10.7800';
const JSON_ACCEPT = { accept: 'application/dicom+json' };
const HTJ2K_LOSSLESS = '1.2.840.10008.1.2.4.201';

function stow(base: string, files: Buffer[]) {
  const { body, contentType } = multipartBody(files);
  return send(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
}

/** Waits until the gateway sent HealthImaging nothing for a while: the metadata cache refreshes
 *  a study stored through it in the background, which would take a fault armed for the test. */
async function quiet(fake: HealthImagingSetup['fake'], ms = 300): Promise<void> {
  for (let seen = -1; seen !== fake.requests().length; ) {
    seen = fake.requests().length;
    await new Promise((r) => setTimeout(r, ms));
  }
}

function study(n: number, instances = 1, size = 16): Buffer[] {
  const studyUid = `${ROOT}.${n}`;
  return Array.from({ length: instances }, (_, i) =>
    syntheticInstance({ seed: n * 100 + i, rows: size, columns: size, studyUid, seriesUid: `${studyUid}.1`, sopInstanceUid: `${studyUid}.1.${i + 1}`, instanceNumber: i + 1, patientId: `AHI-${n}`, studyDescription: `AHI study ${n}` }),
  );
}

describe('healthimaging adapter: what it asks, what it composes', () => {
  let setup: HealthImagingSetup;
  before(async () => {
    setup = await startHealthImagingGateway();
    assert.equal((await stow(setup.dicomweb, [...study(1, 3), ...study(2)])).status, 200);
  });
  after(() => setup?.close());

  test('only documented operations reach HealthImaging, each signed and accepted; study retrieve and metadata are composed', async () => {
    setup.fake.resetRequests();
    const base = setup.dicomweb;
    assert.equal((await send(`${base}/studies?PatientID=AHI-1`, { headers: JSON_ACCEPT })).status, 200);
    const retrieved = await send(`${base}/studies/${ROOT}.1`, { headers: { accept: 'multipart/related; type="application/dicom"' } });
    assert.equal(retrieved.status, 200);
    assert.equal((await splitMultipart(retrieved)).length, 3);
    const metadata = await send(`${base}/studies/${ROOT}.1/metadata`, { headers: JSON_ACCEPT });
    assert.equal(metadata.status, 200);
    assert.equal((metadata.json() as unknown[]).length, 3);
    const requests = setup.fake.requests();
    assert.ok(requests.length > 0);
    for (const r of requests) assert.ok(r.status < 400, `${r.method} ${r.path} (${r.operation}) answered ${r.status}`);
    const operations = new Set(requests.map((r) => r.operation));
    for (const op of ['SearchDICOMStudies', 'GetDICOMInstance']) assert.ok(operations.has(op), `${op} in ${[...operations].join(', ')}`);
    assert.ok(!requests.some((r) => /UnknownOperation/.test(r.operation)), 'no study retrieve or study metadata asked of HealthImaging');
  });
});

describe('healthimaging adapter: credentials and access', () => {
  test('a wrong secret, a wrong region and a denied identity are refused by HealthImaging: 502 with its reason', async () => {
    const fake = await startHealthImagingGateway();
    const cases: { name: string; setup: () => Promise<HealthImagingSetup>; reason: RegExp }[] = [
      { name: 'wrong secret', setup: () => startHealthImagingGateway({ credentials: fake.fake.credentials }, { credentials: { ...fake.fake.credentials, secretAccessKey: 'not-the-secret' } }), reason: /InvalidSignatureException/ },
      { name: 'wrong region', setup: () => startHealthImagingGateway({}, { region: 'eu-west-2' }), reason: /InvalidSignatureException.*region/ },
      { name: 'denied identity', setup: () => startHealthImagingGateway({ deniedCredentials: fake.fake.deniedCredentials }, { credentials: fake.fake.deniedCredentials }), reason: /AccessDeniedException.*not authorized to perform: medical-imaging:SearchDICOMStudies/ },
    ];
    await fake.close();
    for (const c of cases) {
      const setup = await c.setup();
      try {
        const res = await send(`${setup.dicomweb}/studies`, { headers: JSON_ACCEPT });
        assert.equal(res.status, 502, `${c.name}: ${res.text()}`);
        assert.match(String(res.headers.warning), c.reason, c.name);
        const stored = await stow(setup.dicomweb, study(3));
        assert.ok(stored.status >= 400 && stored.status !== 500, `${c.name}: STOW ${stored.status}`);
      } finally {
        await setup.close();
      }
    }
  });
});

describe('healthimaging adapter: throttling, outages, slowness', () => {
  let setup: HealthImagingSetup;
  before(async () => {
    setup = await startHealthImagingGateway({}, { storeLines: ['timeouts: { connectMs: 1000, firstByteMs: 1500, idleMs: 1500 }', 'circuitBreaker: { failureThreshold: 50, openMs: 1000 }'] });
    assert.equal((await stow(setup.dicomweb, study(10))).status, 200);
  });
  after(() => setup?.close());

  test('throttled requests (429 ThrottlingException) are retried with backoff, searches and STOW alike', async () => {
    setup.fake.throttleNext(2, 'dicomweb');
    assert.equal((await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT })).status, 200);
    setup.fake.throttleNext(2, 'dicomweb');
    const stored = await stow(setup.dicomweb, study(11));
    assert.equal(stored.status, 200, stored.text());
    assert.ok(setup.fake.instances().some((i) => i.studyInstanceUid === `${ROOT}.11`));
  });

  test('throttled beyond the retries: 503 with Retry-After, and the next request works', async () => {
    await quiet(setup.fake);
    setup.fake.throttleNext(3, 'dicomweb'); // every one of the 3 tries
    const res = await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT });
    assert.equal(res.status, 503, res.text());
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.match(String(res.headers.warning), /ThrottlingException/);
    assert.equal((await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT })).status, 200);
  });

  test('HealthImaging down: 503 at once; back up: answers again', async () => {
    setup.fake.setDown(true);
    try {
      const t0 = Date.now();
      const res = await send(`${setup.dicomweb}/studies`, { headers: JSON_ACCEPT });
      assert.ok([502, 503].includes(res.status), `${res.status}: ${res.text()}`);
      assert.ok(Date.now() - t0 < 5_000);
    } finally {
      setup.fake.setDown(false);
    }
    assert.equal((await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT })).status, 200);
  });

  test('an internal error is a 502 with the reason; too slow is a 504', async () => {
    await quiet(setup.fake);
    setup.fake.failNext(1, 500, 'dicomweb');
    const failed = await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT });
    assert.equal(failed.status, 502, failed.text());
    assert.match(String(failed.headers.warning), /InternalServerException|500/);
    setup.fake.setLatencyMs(6_000);
    try {
      const slow = await send(`${setup.dicomweb}/studies?PatientID=AHI-10`, { headers: JSON_ACCEPT });
      assert.equal(slow.status, 504, slow.text());
    } finally {
      setup.fake.setLatencyMs(0);
    }
  });
});

describe('healthimaging adapter: limits of the service', () => {
  let setup: HealthImagingSetup;
  const LIMIT = 120_000;
  before(async () => {
    setup = await startHealthImagingGateway(
      { maxStowBytes: LIMIT, qidoMaxLimit: 3, qidoMaxIncludeFields: 3 },
      { storeLines: [`maxStowRequestBytes: ${LIMIT}`, 'qidoLimits: { maxLimit: 3, maxIncludeFields: 3 }'] },
    );
  });
  after(() => setup?.close());

  test('a STOW larger than one HealthImaging request is split, each request within the limit', async () => {
    const files = study(20, 8, 128); // 8 instances of about 33 KB
    setup.fake.resetRequests();
    const res = await stow(setup.dicomweb, files);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json()['00081199'].Value.length, 8);
    const stows = setup.fake.requests().filter((r) => r.operation === 'StoreDICOM');
    assert.ok(stows.length >= 3, `${stows.length} STOW requests`);
    for (const r of stows) assert.ok(r.bytesIn <= LIMIT, `${r.bytesIn} bytes`);
    assert.equal(setup.fake.instances().filter((i) => i.studyInstanceUid === `${ROOT}.20`).length, 8);
  });

  test('an instance too large for one request, without an import job: refused with 0xA700 and the reason', async () => {
    const [big] = study(21, 1, 300);
    const res = await stow(setup.dicomweb, [big]);
    assert.ok(res.status >= 400 && res.status < 500, res.text());
    assert.deepEqual(res.json()['00081198'].Value[0]['00081197'].Value, [0xa700]);
    assert.match(String(res.headers.warning), /larger than HealthImaging store .ahi. takes in one STOW request/);
  });

  test('pages larger than HealthImaging returns are asked in several requests', async () => {
    assert.equal((await stow(setup.dicomweb, [22, 23, 24, 25, 26, 27, 28].flatMap((n) => study(n)))).status, 200);
    setup.fake.resetRequests();
    const res = await send(`${setup.dicomweb}/studies?limit=7&includefield=StudyDescription`, { headers: JSON_ACCEPT });
    assert.equal(res.status, 200, res.text());
    assert.equal((res.json() as unknown[]).length, 7);
    const searches = setup.fake.requests().filter((r) => r.operation === 'SearchDICOMStudies');
    assert.ok(searches.length >= 3, `${searches.length} searches`);
    for (const r of searches) assert.match(r.path, /[?&]limit=[1-3](&|$)/, r.path);
    const next = await send(`${setup.dicomweb}/studies?limit=4&offset=5`, { headers: JSON_ACCEPT });
    assert.equal(next.status, 200, next.text());
  });

  test('more includefield values than HealthImaging takes become includefield=all', async () => {
    setup.fake.resetRequests();
    const res = await send(`${setup.dicomweb}/studies?PatientID=AHI-22&includefield=StudyDescription&includefield=PatientSex&includefield=00100030&includefield=00200010`, { headers: JSON_ACCEPT });
    assert.equal(res.status, 200, res.text());
    const [result] = res.json() as Record<string, { Value?: unknown[] }>[];
    assert.deepEqual(result['00100040'].Value, ['F']);
    const [search] = setup.fake.requests().filter((r) => r.operation === 'SearchDICOMStudies');
    assert.match(search.path, /includefield=all/);
  });

  test('keys HealthImaging does not match on: matched at the gateway when results carry them, else 400 with the reason', async () => {
    const head = syntheticInstance({ seed: 2901, rows: 16, columns: 16, studyUid: `${ROOT}.29`, seriesUid: `${ROOT}.29.1`, sopInstanceUid: `${ROOT}.29.1.1`, patientId: 'AHI-29', extraElements: [{ tag: 'BodyPartExamined', value: 'HEAD' }] });
    const chest = syntheticInstance({ seed: 2902, rows: 16, columns: 16, studyUid: `${ROOT}.29`, seriesUid: `${ROOT}.29.2`, sopInstanceUid: `${ROOT}.29.2.1`, patientId: 'AHI-29', seriesNumber: 2, extraElements: [{ tag: 'BodyPartExamined', value: 'CHEST' }] });
    assert.equal((await stow(setup.dicomweb, [head, chest])).status, 200);
    setup.fake.resetRequests();
    const series = await send(`${setup.dicomweb}/studies/${ROOT}.29/series?BodyPartExamined=HEAD`, { headers: JSON_ACCEPT });
    assert.equal(series.status, 200, series.text());
    assert.deepEqual((series.json() as Record<string, { Value: string[] }>[]).map((s) => s['0020000E'].Value[0]), [`${ROOT}.29.1`]);
    for (const r of setup.fake.requests()) assert.ok(!/00180015=/.test(r.path), `the key was not sent: ${r.path}`);
    const refused = await send(`${setup.dicomweb}/studies?BodyPartExamined=HEAD`, { headers: JSON_ACCEPT });
    assert.equal(refused.status, 400);
    assert.match(String(refused.headers.warning), /Body Part Examined|BodyPartExamined|00180015/);
    assert.match(String(refused.headers.warning), /cannot be searched/);
  });
});

describe('healthimaging adapter: HTJ2K frames, data not indexed yet', () => {
  let setup: HealthImagingSetup;
  const frames = [codestream('j2k', 600, 'htj2k-1'), codestream('j2k', 640, 'htj2k-2')];
  const { fragments, offsetTable } = encapsulateFrames(frames.map((f) => [f]));
  const htj2k = imageInstance({ seed: 3001, rows: 32, columns: 32, frames: 2, transferSyntaxUid: HTJ2K_LOSSLESS, pixelData: { fragments, offsetTable }, studyUid: `${ROOT}.30`, seriesUid: `${ROOT}.30.1` });
  let path = '';
  before(async () => {
    setup = await startHealthImagingGateway();
    const res = await stow(setup.dicomweb, [htj2k]);
    assert.equal(res.status, 200, res.text());
    path = new URL(res.json()['00081199'].Value[0]['00081190'].Value[0]).pathname;
  });
  after(() => setup?.close());

  test('HTJ2K frames pass through as image/jphc to a client that accepts them, in the order asked', async () => {
    const url = `${setup.gateway.baseUrl}${path}/frames/2,1`;
    const res = await send(url, { headers: { accept: 'multipart/related; type="image/jphc"' } });
    assert.equal(res.status, 200, res.text());
    assert.match(String(res.headers['content-type']), /^multipart\/related; *type="image\/jphc"/);
    const parts = await splitMultipart(res);
    assert.equal(parts.length, 2);
    assert.match(String(parts[0].contentType), new RegExp(`^image/jphc; *transfer-syntax=${HTJ2K_LOSSLESS.replace(/\./g, '\\.')}$`));
    assert.ok(parts[0].body.equals(frames[1]) && parts[1].body.equals(frames[0]));
    const single = await send(`${setup.gateway.baseUrl}${path}/frames/1`, { headers: { accept: 'image/jphc' } });
    assert.equal(single.status, 200, single.text());
    assert.match(String(single.headers['content-type']), /^image\/jphc/);
    assert.ok(single.body.equals(frames[0]));
  });

  test('frames asked uncompressed: HealthImaging cannot, so the gateway decodes its HTJ2K (here a broken stand-in: 406 with the reason)', async () => {
    const res = await send(`${setup.gateway.baseUrl}${path}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } });
    assert.equal(res.status, 406, res.text());
    assert.match(String(res.headers.warning), /cannot be converted from HTJ2K/);
  });

  test('a real HTJ2K frame (by OpenJPH\'s ojph_compress) is decoded by the gateway to the original pixels, the instance too', async () => {
    const dir = makeTempDir('ahi-htj2k');
    try {
      const pixels = syntheticPixels(32 * 32, 3002);
      const real = ojphCodestream(dir.path, 'frame', pixels, 32, 32, 16, 12);
      const instance = imageInstance({ seed: 3002, rows: 32, columns: 32, frames: 1, transferSyntaxUid: HTJ2K_LOSSLESS, pixelData: { fragments: [real.length % 2 ? Buffer.concat([real, Buffer.alloc(1)]) : real] }, studyUid: `${ROOT}.32`, seriesUid: `${ROOT}.32.1` });
      const stored = await stow(setup.dicomweb, [instance]);
      assert.equal(stored.status, 200, stored.text());
      const url = `${setup.gateway.baseUrl}${new URL(stored.json()['00081199'].Value[0]['00081190'].Value[0]).pathname}`;
      const res = await send(`${url}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } });
      assert.equal(res.status, 200, res.text());
      const [part] = await splitMultipart(res);
      assert.match(String(part.contentType), /^application\/octet-stream; *transfer-syntax=1\.2\.840\.10008\.1\.2\.1$/);
      assert.ok(part.body.equals(pixels), 'the decoded frame is the original');
      const whole = await send(url, { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1' } });
      assert.equal(whole.status, 200, whole.text());
      const [file] = await splitMultipart(whole);
      assert.ok(file.body.includes(pixels), 'the instance decoded holds the original pixels');
      assert.deepEqual(listFiles(join(setup.gateway.dataDir, 'staging')), [], 'the spooled copy is gone');
    } finally {
      dir.remove();
    }
  });

  test('a study HealthImaging has not indexed yet is answered from what the gateway stored, with a Warning', async () => {
    setup.fake.setVisibilityDelayMs(60_000);
    const files = study(31, 2);
    assert.equal((await stow(setup.dicomweb, files)).status, 200);
    const direct = await send(`${setup.fake.dicomwebEndpoint}/datastore/${setup.fake.datastoreId}/studies?StudyInstanceUID=${ROOT}.31`, { headers: JSON_ACCEPT });
    assert.equal(direct.status, 403, 'the fake refuses an unsigned request');
    const metadata = await send(`${setup.dicomweb}/studies/${ROOT}.31/metadata`, { headers: JSON_ACCEPT });
    assert.equal(metadata.status, 200, metadata.text());
    assert.equal((metadata.json() as unknown[]).length, 2);
    assert.match(String(metadata.headers.warning), /not confirmed/);
    const search = await send(`${setup.dicomweb}/studies?PatientID=AHI-31`, { headers: JSON_ACCEPT });
    assert.equal((search.json() as unknown[]).length, 1);
    assert.ok(setup.fake.instances().filter((i) => i.studyInstanceUid === `${ROOT}.31`).every((i) => !i.visible));
    setup.fake.setVisibilityDelayMs(0);
  });
});

describe('healthimaging adapter: duplicates when HealthImaging keeps a transcoded copy', () => {
  let setup: HealthImagingSetup;
  before(async () => {
    setup = await startHealthImagingGateway({ reencodeOnStore: true });
  });
  after(() => setup?.close());

  test('the same instance again is already stored although the bytes differ; other pixels or attributes are a conflict', async () => {
    const [original] = study(40, 1, 32);
    assert.equal((await stow(setup.dicomweb, [original])).status, 200);
    const held = setup.fake.instances().find((i) => i.sopInstanceUid === `${ROOT}.40.1.1`)!;
    assert.notEqual(held.sha256, createHash('sha256').update(original).digest('hex'), 'the fake keeps other bytes');
    const again = await stow(setup.dicomweb, [original]);
    assert.equal(again.status, 200, again.text());
    const base = { rows: 32, columns: 32, studyUid: `${ROOT}.40`, seriesUid: `${ROOT}.40.1`, sopInstanceUid: `${ROOT}.40.1.1`, instanceNumber: 1, patientId: 'AHI-40', studyDescription: 'AHI study 40', accessionNumber: 'ACC4000', frameOfReferenceUid: uidFromSeed(4000, 'frame-of-reference') };
    const otherPixels = syntheticInstance({ ...base, seed: 999 });
    const pixels = await stow(setup.dicomweb, [otherPixels]);
    assert.equal(pixels.status, 409, pixels.text());
    assert.deepEqual(pixels.json()['00081198'].Value[0]['00081197'].Value, [0x0111]);
    assert.match(String(pixels.headers.warning), /frame 1 differs/);
    const otherName = syntheticInstance({ ...base, seed: 4000, patientName: 'Other^Patient' });
    const named = await stow(setup.dicomweb, [otherName]);
    assert.equal(named.status, 409, named.text());
    assert.match(String(named.headers.warning), /attribute 00100010 differs/);
    const kept = setup.fake.instances().find((i) => i.sopInstanceUid === `${ROOT}.40.1.1`)!;
    assert.equal(kept.sha256, held.sha256, 'HealthImaging still holds the first copy');
  });
});
