/**
 * Rendered retrieves (PS3.18 10.4.1.1.3): relayed from an upstream that renders (a real Orthanc
 * here), with the parameters checked at the gateway first (window, viewport, quality, one frame,
 * an image type in Accept); a store that cannot render says so with 501.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance } from '../fixtures/dicom-builder';
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

  test('a missing instance is 404; a store that cannot render says so with 501', async () => {
    assert.equal((await get('orthanc', `/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.99/rendered`)).status, 404);
    const local = await get('local', `${PATH}/rendered`);
    assert.equal(local.status, 501, local.text());
    assert.match(String(local.headers.warning), /cannot render images yet/);
  });
});
