/**
 * Rendered retrieves and thumbnails (PS3.18 10.4.1.1.3, 10.7): relayed from an upstream that
 * renders (a real Orthanc here), made by the gateway for the embedded store and for what the
 * upstream cannot render (JPEG 2000 in Orthanc), with the parameters checked at the gateway first
 * (window, viewport, quality, one frame, an image type in Accept). The gateway's renderings are
 * checked against Orthanc's of the same frame and window (pixel statistics) and against the
 * PS3.3 C.11.2.1.2 window applied to OpenJPEG's decode (pixel by pixel).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { decodeWithOpenJpeg } from '../fixtures/codec-samples';
import { pydicomFrames } from '../helpers/pydicom-judge';
import { meanAndDeviation, readPng } from '../helpers/png-reader';
import { sampleFiles } from '../helpers/samples';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

const STUDY = '1.2.826.0.1.3680043.10.7813.1';
const SERIES = `${STUDY}.1`;
const SOP = `${SERIES}.1`;
const PATH = `/studies/${STUDY}/series/${SERIES}/instances/${SOP}`;

/** Width and height of a PNG (IHDR) or a JPEG (its first SOF marker). */
function imageSize(body: Buffer): { width: number; height: number } | undefined {
  if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
  if (body[0] !== 0xff || body[1] !== 0xd8) return undefined;
  for (let at = 2; at + 9 < body.length; ) {
    if (body[at] !== 0xff) return undefined;
    const marker = body[at + 1];
    const length = body.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: body.readUInt16BE(at + 5), width: body.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return undefined;
}

describe('rendered retrieves', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  let gw: RunningGateway;
  const dir = makeTempDir('rendered');
  const file = syntheticInstance({ seed: 7813, rows: 48, columns: 64, frames: 2, studyUid: STUDY, seriesUid: SERIES, sopInstanceUid: SOP });

  before(async () => {
    orthanc = await startOrthanc();
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(config, ['defaultStore: local', 'stores:', '  - { name: local, kind: local }', '  - name: orthanc', '    kind: dicomweb', `    url: ${orthanc.dicomwebUrl}`, '    percentEncodeQuery: false', ''].join('\n'));
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
    for (const store of ['local', 'orthanc']) {
      const { body, contentType } = multipartBody([file]);
      const res = await send(`${gw.baseUrl}/stores/${store}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
      assert.equal(res.status, 200, res.text());
    }
  });
  after(async () => {
    await gw?.stop();
    await orthanc?.stop();
    dir.remove();
  });

  const get = (store: string, path: string, accept?: string) => send(`${gw.baseUrl}/stores/${store}/dicomweb${path}`, { headers: accept ? { accept } : {} });

  test('an instance and a frame rendered by the upstream: JPEG by default, PNG when asked, the image size of the frame', async () => {
    const jpeg = await get('orthanc', `${PATH}/rendered`);
    assert.equal(jpeg.status, 200, jpeg.text());
    assert.match(String(jpeg.headers['content-type']), /^image\/jpeg/);
    assert.deepEqual(imageSize(jpeg.body), { width: 64, height: 48 });
    const png = await get('orthanc', `${PATH}/frames/2/rendered?window=2048,4096,linear`, 'image/png');
    assert.equal(png.status, 200, png.text());
    assert.match(String(png.headers['content-type']), /^image\/png/);
    assert.deepEqual(imageSize(png.body), { width: 64, height: 48 });
  });

  test('bad parameters are 400 with the reason, before the upstream is asked', async () => {
    for (const query of ['window=abc,10', 'window=40,0', 'window=40,400,cubic', 'viewport=0,10', 'viewport=1,2,3', 'quality=0', 'quality=101', 'quality=9&quality=8']) {
      const res = await get('orthanc', `${PATH}/rendered?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text()}`);
      assert.match(String(res.headers.warning), /^299 /);
    }
    assert.equal((await get('orthanc', `${PATH}/frames/1,2/rendered`)).status, 400, 'one frame only');
    assert.equal((await get('orthanc', `${PATH}/frames/0/rendered`)).status, 400);
    assert.equal((await get('orthanc', `${PATH}/rendered`, 'application/dicom')).status, 406);
  });

  test('a missing instance is 404, from the upstream and from the embedded store', async () => {
    assert.equal((await get('orthanc', `/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.99/rendered`)).status, 404);
    assert.equal((await get('local', `/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.99/rendered`)).status, 404);
  });

  test('the embedded store renders: JPEG by default, PNG when asked, the viewport fitted with the aspect kept', async () => {
    const jpeg = await get('local', `${PATH}/rendered`);
    assert.equal(jpeg.status, 200, jpeg.text());
    assert.match(String(jpeg.headers['content-type']), /^image\/jpeg/);
    assert.deepEqual(imageSize(jpeg.body), { width: 64, height: 48 });
    const png = await get('local', `${PATH}/frames/2/rendered?viewport=32,32`, 'image/png');
    assert.equal(png.status, 200, png.text());
    assert.deepEqual(imageSize(png.body), { width: 32, height: 24 }, 'fitted inside 32 x 32, aspect 4:3 kept');
    const region = await get('local', `${PATH}/frames/1/rendered?viewport=16,16,0,0,32,32`, 'image/png');
    assert.deepEqual(imageSize(region.body), { width: 16, height: 16 }, 'a 32 x 32 source region shown at 16 x 16');
    assert.equal((await get('local', `${PATH}/rendered`, 'image/gif')).status, 406, 'GIF is not made here');
  });

  test('the same frame and window rendered by the gateway and by Orthanc agree (pixel statistics)', async () => {
    const query = 'window=2048,4096,linear';
    const ours = readPng((await get('local', `${PATH}/frames/2/rendered?${query}`, 'image/png')).body);
    const orthancPng = await get('orthanc', `${PATH}/frames/2/rendered?${query}`, 'image/png');
    assert.equal(orthancPng.status, 200, orthancPng.text());
    const theirs = readPng(orthancPng.body);
    assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height]);
    const a = meanAndDeviation(ours.gray);
    const b = meanAndDeviation(theirs.gray);
    assert.ok(Math.abs(a.mean - b.mean) < 3, `mean ${a.mean.toFixed(1)} here, ${b.mean.toFixed(1)} by Orthanc`);
    assert.ok(Math.abs(a.deviation - b.deviation) < 3, `deviation ${a.deviation.toFixed(1)} here, ${b.deviation.toFixed(1)} by Orthanc`);
    let far = 0;
    for (let i = 0; i < ours.gray.length; i++) if (Math.abs(ours.gray[i] - theirs.gray[i]) > 2) far++;
    assert.ok(far / ours.gray.length < 0.01, `${far} of ${ours.gray.length} pixels differ by more than 2`);
  });

  test('JPEG 2000, which Orthanc cannot render, is rendered by the gateway: the window of PS3.3 C.11.2.1.2 on OpenJPEG\'s decode', async () => {
    const sample = sampleFiles().find((f) => f.name === 'JPEG2000.dcm')!.path;
    const { body, contentType } = multipartBody([readFileSync(sample)]);
    for (const store of ['local', 'orthanc']) {
      const res = await send(`${gw.baseUrl}/stores/${store}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
      assert.equal(res.status, 200, res.text());
    }
    const path = '/studies/1.3.6.1.4.1.5962.1.2.8.20040826185059.5457/series/1.3.6.1.4.1.5962.1.3.8.1.20040826185059.5457/instances/1.3.6.1.4.1.5962.1.1.8.1.3.20040826185059.5457';
    const pixels = decodeWithOpenJpeg(dir.path, 'render-ref', pydicomFrames(sample)[0]);
    const [center, width] = [100, 200];
    for (const store of ['local', 'orthanc']) {
      const res = await get(store, `${path}/rendered?window=${center},${width},linear`, 'image/png');
      assert.equal(res.status, 200, `${store}: ${res.text().slice(0, 300)}`);
      const image = readPng(res.body);
      assert.deepEqual([image.width, image.height], [256, 1024]);
      let worst = 0;
      for (let i = 0; i < image.gray.length; i++) {
        const x = pixels.readInt16LE(i * 2);
        const low = center - 0.5 - (width - 1) / 2;
        const high = center - 0.5 + (width - 1) / 2;
        const expected = x <= low ? 0 : x > high ? 255 : ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
        worst = Math.max(worst, Math.abs(image.gray[i] - expected));
      }
      assert.ok(worst <= 0.5, `${store}: a pixel is ${worst} away from the PS3.3 window`);
    }
  });

  test('thumbnails of a study, series, instance and frame: fitted to 128 x 128 unless a viewport is given', async () => {
    for (const path of [`/studies/${STUDY}/thumbnail`, `/studies/${STUDY}/series/${SERIES}/thumbnail`, `${PATH}/thumbnail`, `${PATH}/frames/2/thumbnail`]) {
      for (const store of ['local', 'orthanc']) {
        const res = await get(store, path);
        assert.equal(res.status, 200, `${store} ${path}: ${res.text().slice(0, 200)}`);
        assert.match(String(res.headers['content-type']), /^image\/jpeg/);
        assert.deepEqual(imageSize(res.body), { width: 128, height: 96 }, `${store} ${path}`);
      }
    }
    const small = await get('local', `${PATH}/thumbnail?viewport=40,40`, 'image/png');
    assert.deepEqual(imageSize(small.body), { width: 40, height: 30 });
    assert.equal((await get('local', `/studies/${STUDY}.77/thumbnail`)).status, 404);
    assert.equal((await get('local', `${PATH}/frames/3/thumbnail`)).status, 404, 'past the last frame');
  });
});
