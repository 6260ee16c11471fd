/**
 * Every kind of bad STOW-RS input gets a clear 4xx with a DICOM-conformant reason, and nothing of
 * it is indexed or left on disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { sampleFiles } from '../helpers/samples';
import { listFiles, readIndex } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { syntheticInstance } from '../fixtures/dicom-builder';


function failureReasons(answer: any): number[] {
  return (answer['00081198']?.Value ?? []).map((item: any) => item['00081197'].Value[0]);
}

function instance(n: number, extra: Record<string, unknown> = {}): Buffer {
  return syntheticInstance({
    studyUid: '1.2.826.0.1.3680043.10.1000.1',
    seriesUid: '1.2.826.0.1.3680043.10.1000.1.1',
    sopInstanceUid: `1.2.826.0.1.3680043.10.1000.1.1.${n}`,
    rows: 32,
    columns: 32,
    seed: n,
    ...extra,
  });
}

describe('STOW-RS bad input', () => {
  let gw: RunningGateway;
  const post = (body: Buffer, contentType: string, path = '/dicomweb/studies', headers: Record<string, string> = {}) =>
    send(`${gw.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const postParts = (parts: Parameters<typeof multipartBody>[0], path?: string) => {
    const { body, contentType } = multipartBody(parts);
    return post(body, contentType, path);
  };

  before(async () => {
    gw = await startInProcessGateway({ MAX_REQUEST_BYTES: String(64 * 1024 * 1024), MAX_INSTANCE_BYTES: String(8 * 1024 * 1024) });
  });
  after(async () => {
    await gw.stop();
  });

  test('a part that is not DICOM fails with 0xC000 and the request with 400', async () => {
    const res = await postParts([Buffer.from('this is not a DICOM file at all')]);
    assert.equal(res.status, 400);
    assert.deepEqual(failureReasons(res.json()), [0xc000]);
    assert.match(String(res.headers.warning), /not a DICOM Part-10 file/);
  });

  test('one good and one bad part: 202, the good one stored, the bad one listed', async () => {
    const res = await postParts([instance(1), Buffer.alloc(200, 7)]);
    assert.equal(res.status, 202);
    const answer = res.json();
    assert.equal(answer['00081199'].Value.length, 1);
    assert.deepEqual(failureReasons(answer), [0xc000]);
  });

  test('a part of another media type is listed as failed, not dropped', async () => {
    const res = await postParts([instance(2), { body: Buffer.from('{}'), contentType: 'application/dicom+json' }]);
    assert.equal(res.status, 202);
    assert.deepEqual(failureReasons(res.json()), [0xc000]);
  });

  test('a part without Content-Type is read as application/dicom', async () => {
    const res = await postParts([{ body: instance(3), contentType: null }]);
    assert.equal(res.status, 200, res.text());
  });

  test('an instance cut anywhere is refused, including inside Pixel Data', async () => {
    const whole = instance(4, { rows: 64, columns: 64 });
    const cuts = [10, 131, 132, 200, 400, Math.floor(whole.length / 2), whole.length - 1000, whole.length - 1];
    for (const cut of cuts) {
      const res = await postParts([whole.subarray(0, cut)]);
      assert.equal(res.status, 400, `cut at ${cut}: ${res.text()}`);
      assert.deepEqual(failureReasons(res.json()), [0xc000], `cut at ${cut}`);
    }
    const uid = '1.2.826.0.1.3680043.10.1000.1.1.4';
    assert.equal(readIndex(gw.dataDir).filter((r) => r.sop_instance_uid === uid).length, 0);
  });

  test('a study UID different from the URL is 409 with 0xA900', async () => {
    const res = await postParts([instance(5)], '/dicomweb/studies/1.2.3.4.5');
    assert.equal(res.status, 409);
    assert.deepEqual(failureReasons(res.json()), [0xa900]);
    assert.equal(res.json()['00081190'].Value[0], `${gw.baseUrl}/dicomweb/studies/1.2.3.4.5`);
  });

  test('the matching study UID in the URL stores', async () => {
    const res = await postParts([instance(6)], '/dicomweb/studies/1.2.826.0.1.3680043.10.1000.1');
    assert.equal(res.status, 200);
  });

  test('a malformed study UID in the URL is 400 and touches nothing', async () => {
    for (const bad of ['abc', '1.02.3', '..%2F..%2Fetc', `1.${'2'.repeat(70)}`]) {
      const res = await postParts([instance(7)], `/dicomweb/studies/${bad}`);
      assert.equal(res.status, 400, bad);
    }
  });

  test('missing SOP Instance UID is 0xA900', async () => {
    const res = await postParts([instance(8, { extraElements: [{ tag: 'SOPInstanceUID', value: '' }] })]);
    assert.equal(res.status, 400, res.text());
    assert.deepEqual(failureReasons(res.json()), [0xa900]);
  });

  test('an unknown transfer syntax is 0xC122', async () => {
    const res = await postParts([instance(9, { transferSyntaxUid: '1.2.3.4.5.6.7' })]);
    assert.equal(res.status, 400, res.text());
    assert.deepEqual(failureReasons(res.json()), [0xc122]);
  });

  test('request media types other than multipart/related of DICOM are 415', async () => {
    const part = instance(10);
    for (const ct of ['text/plain', 'application/octet-stream', 'multipart/related; type="application/dicom+json"; boundary=x', 'multipart/related; boundary=x']) {
      const res = await post(part, ct);
      assert.equal(res.status, 415, ct);
      assert.ok(res.json().message.length > 0);
      assert.match(String(res.headers.warning), /^299 /);
    }
  });

  test('multipart without a boundary is 400; an empty multipart body is 400', async () => {
    assert.equal((await post(instance(11), 'multipart/related; type="application/dicom"')).status, 400);
    assert.equal((await post(Buffer.from('--b--\r\n'), 'multipart/related; type="application/dicom"; boundary=b')).status, 400);
    assert.equal((await post(Buffer.alloc(0), 'multipart/related; type="application/dicom"; boundary=b')).status, 400);
  });

  test('an Accept the server cannot produce is 406', async () => {
    const { body, contentType } = multipartBody([instance(12)]);
    const res = await post(body, contentType, '/dicomweb/studies', { accept: 'application/dicom+xml' });
    assert.equal(res.status, 406);
  });

  test('a declared Content-Length over the limit is 413 before reading', async () => {
    const res = await send(`${gw.baseUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/dicom', 'content-length': String(65 * 1024 * 1024) },
      body: (async function* () {
        yield Buffer.alloc(1024);
      })(),
      contentLength: 65 * 1024 * 1024,
    }).catch((e) => e as Error);
    if (res instanceof Error) assert.match(res.message, /socket hang up|ECONNRESET|EPIPE/);
    else assert.equal(res.status, 413);
  });

  test('an instance over the per-instance limit fails with 0xA700', async () => {
    const big = instance(13, { rows: 2048, columns: 2100 }); // ~8.4 MB of pixels
    const res = await postParts([big, instance(14)]);
    assert.equal(res.status, 202, res.text());
    assert.deepEqual(failureReasons(res.json()), [0xa700]);
  });

  test('a sample with a lying length inside its header is refused', async () => {
    const bytes = Buffer.from(readFileSync(sampleFiles().find((s) => s.name === 'CT_small.dcm')!.path));
    // Patient Name (0010,0010) PN in explicit VR LE: tag, "PN", 2-byte length. Claim 65535 bytes:
    // the value then runs past the end of the file.
    const at = bytes.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e]));
    assert.ok(at > 132);
    bytes.writeUInt16LE(0xffff, at + 6);
    const res = await postParts([bytes]);
    assert.equal(res.status, 400, res.text());
    assert.deepEqual(failureReasons(res.json()), [0xc000]);
  });

  test('nothing refused is left in staging or indexed', async () => {
    assert.deepEqual(listFiles(join(gw.dataDir, 'staging')), []);
    const uids = readIndex(gw.dataDir).map((r) => r.sop_instance_uid).sort();
    assert.deepEqual(uids, ['1.2.826.0.1.3680043.10.1000.1.1.1', '1.2.826.0.1.3680043.10.1000.1.1.14', '1.2.826.0.1.3680043.10.1000.1.1.2', '1.2.826.0.1.3680043.10.1000.1.1.3', '1.2.826.0.1.3680043.10.1000.1.1.6']);
  });
});
