/**
 * WADO-RS of every third-party sample, judged by independent readers: each instance comes back
 * (default and transfer-syntax=*) as a Part-10 file that pydicom and dcmdump read, that holds the
 * uploaded data set and pixels, and in which dciodvfy finds no error the upload did not have;
 * metadata, every BulkDataURI and every frame resolve to the right bytes.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleFiles } from '../helpers/samples';
import { readIndex } from '../helpers/store-inspection';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { pydicomCompare, pydicomFrames, pydicomPixels, pydicomValue } from '../helpers/pydicom-judge';
import { get, getParts, local, stow } from '../helpers/wado-client';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

function dciodvfyErrors(path: string): Set<string> {
  const run = spawnSync('dciodvfy', [path], { encoding: 'utf8' });
  return new Set(`${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.startsWith('Error')));
}

/** What a viewer gets when it asks with no transfer-syntax (PS3.18 8.7.3): native as Explicit VR
 *  Little Endian, lossy JPEG (only lossy pixels exist) as stored. */
const DEFAULT_SYNTAX: Record<string, string> = {
  'JPEG2000.dcm': '1.2.840.10008.1.2.4.91',
  'JPGExtended.dcm': '1.2.840.10008.1.2.4.51',
};
/** With transfer-syntax=*: as stored, except the syntaxes PS3.18 8.7.3 bans from web services. */
const STAR_SYNTAX: Record<string, string> = {
  ...DEFAULT_SYNTAX,
  'MR_small_RLE.dcm': '1.2.840.10008.1.2.5',
  'SC_rgb_rle_2frame.dcm': '1.2.840.10008.1.2.5',
  'image_dfl.dcm': '1.2.840.10008.1.2.1.99',
};

describe('WADO-RS of the third-party samples', () => {
  let gw: RunningGateway;
  let tmp: { path: string; remove(): void };
  beforeEach(async () => {
    gw = await startInProcessGateway();
    tmp = makeTempDir('wado-samples');
  });
  afterEach(async () => {
    await gw.stop();
    tmp.remove();
  });

  for (const sample of sampleFiles()) {
    test(`${sample.name}: instance, series, study, metadata, bulk data and frames`, async () => {
      const input = readFileSync(sample.path);
      const [retrieveUrl] = await stow(gw.baseUrl, [input]);
      const instanceUrl = local(retrieveUrl, gw.baseUrl);
      // dciodvfy cannot read deflated data sets: judge the upload by its inflated twin.
      let reference = sample.path;
      if (sample.name === 'image_dfl.dcm') {
        reference = join(tmp.path, 'inflated.dcm');
        execFileSync('dcmconv', ['+te', sample.path, reference]);
      }
      const referenceErrors = dciodvfyErrors(reference);

      for (const [label, accept, expected] of [
        ['default', undefined, DEFAULT_SYNTAX[sample.name] ?? EXPLICIT_LE],
        ['transfer-syntax=*', 'multipart/related; type="application/dicom"; transfer-syntax=*', STAR_SYNTAX[sample.name] ?? EXPLICIT_LE],
      ] as const) {
        const { answer, parts } = await getParts(instanceUrl, accept);
        assert.match(String(answer.headers['content-type']), /^multipart\/related; type="application\/dicom"; boundary=/);
        assert.equal(parts.length, 1);
        assert.equal(parts[0].contentType, `application/dicom; transfer-syntax=${expected}`, label);
        const out = join(tmp.path, `${label === 'default' ? 'default' : 'star'}.dcm`);
        writeFileSync(out, parts[0].body);
        execFileSync('dcmdump', ['-q', out], { stdio: 'pipe' });
        const judged = pydicomCompare(sample.path, out);
        assert.ok(judged.ok, `${label}: ${judged.problems.join('; ')}`);
        assert.equal(judged.transferSyntax, expected);
        if (expected !== '1.2.840.10008.1.2.1.99') {
          const added = [...dciodvfyErrors(out)].filter((e) => !referenceErrors.has(e));
          assert.deepEqual(added, [], `${label}: dciodvfy errors the upload did not have`);
        } else assert.ok(parts[0].body.equals(input), 'deflated, as stored: the stored bytes');
        // A Part-10 file even for rtstruct.dcm, stored as a bare data set (PS3.10 7.1).
        assert.equal(parts[0].body.toString('latin1', 128, 132), 'DICM', `${label}: preamble and DICM`);
      }

      // Series and study: the same instance, the same bytes as the instance retrieve.
      const single = (await getParts(instanceUrl)).parts[0].body;
      const seriesUrl = instanceUrl.replace(/\/instances\/[^/]+$/, '');
      const studyUrl = seriesUrl.replace(/\/series\/[^/]+$/, '');
      for (const url of [seriesUrl, studyUrl]) {
        const { parts } = await getParts(url);
        assert.equal(parts.length, 1);
        assert.ok(parts[0].body.equals(single), `${url}: same bytes as the instance retrieve`);
      }

      // Metadata: the stored DICOM JSON, BulkDataURIs absolute, at every level.
      const stored = JSON.parse(readIndex(gw.dataDir)[0].metadata_json);
      const expectedJson = JSON.parse(JSON.stringify(stored).replaceAll('"BulkDataURI":"bulkdata/', `"BulkDataURI":"${retrieveUrl}/bulkdata/`));
      for (const url of [`${instanceUrl}/metadata`, `${seriesUrl}/metadata`, `${studyUrl}/metadata`]) {
        const md = await get(url);
        assert.equal(md.status, 200);
        assert.equal(md.headers['content-type'], 'application/dicom+json');
        assert.deepEqual(md.json(), [expectedJson]);
      }

      // Every BulkDataURI: the exact value bytes (little endian); Pixel Data as stored with
      // transfer-syntax=* (a compressed one frame by frame), and decoded by default.
      const uris: string[] = [];
      JSON.stringify(stored, (k, v) => (k === 'BulkDataURI' && uris.push(v), v));
      const frames = uris.includes('bulkdata/7FE00010') ? pydicomFrames(sample.path) : [];
      const compressed = STAR_SYNTAX[sample.name] !== undefined && STAR_SYNTAX[sample.name] !== '1.2.840.10008.1.2.1.99';
      for (const uri of uris) {
        const url = `${instanceUrl}/${uri}`;
        const path = uri.slice('bulkdata/'.length);
        if (path !== '7FE00010') {
          const { answer, parts } = await getParts(url);
          assert.match(String(answer.headers['content-type']), /^multipart\/related; type="application\/octet-stream"/);
          assert.equal(parts.length, 1);
          assert.ok(parts[0].body.equals(pydicomValue(sample.path, path)), `${uri}: value bytes`);
          continue;
        }
        const asStored = await getParts(url, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
        assert.deepEqual(asStored.parts.map((p) => p.body), compressed ? frames : [Buffer.concat(frames)], `${uri} as stored`);
        if (sample.name.includes('_RLE') || sample.name.includes('rle')) {
          const decoded = await getParts(url);
          assert.deepEqual(decoded.parts.map((p) => p.body), pydicomPixels(sample.path), `${uri} decoded`);
          assert.equal(decoded.parts[0].contentType, `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`);
        }
      }

      // Frames: each one byte-exact, in the order asked.
      if (frames.length > 0) {
        const list = frames.map((_, i) => i + 1).reverse();
        const { parts } = await getParts(`${instanceUrl}/frames/${list.join(',')}`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
        assert.deepEqual(parts.map((p) => p.body), list.map((n) => frames[n - 1]));
      }
    });
  }
});
