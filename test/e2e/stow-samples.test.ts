/**
 * Every third-party sample stores through STOW-RS and lands on disk byte-identical, readable by
 * dcmtk's dcmdump (an independent implementation).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { sampleFiles } from '../helpers/samples';
import { readIndex, storeRoot } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

describe('STOW-RS of the third-party samples', () => {
  // Several samples are the same MR instance (same SOP Instance UID) in other transfer syntaxes;
  // one store refuses a second, different encoding (0x0111), so each sample gets a fresh store.
  let gw: RunningGateway;
  beforeEach(async () => {
    gw = await startInProcessGateway();
  });
  afterEach(async () => {
    await gw.stop();
  });

  for (const sample of sampleFiles()) {
    test(`${sample.name} stores and comes back byte-identical from disk`, async () => {
      const bytes = readFileSync(sample.path);
      const { body, contentType } = multipartBody([bytes]);
      const res = await send(`${gw.baseUrl}/dicomweb/studies`, {
        method: 'POST',
        headers: { 'content-type': contentType, accept: 'application/dicom+json' },
        body,
      });
      assert.equal(res.status, 200, res.text());
      assert.equal(res.headers['content-type'], 'application/dicom+json');
      if (sample.name === 'rtstruct.dcm') {
        // A bare data set (no preamble, no File Meta Information): stored as sent, and said so.
        assert.match(String(res.headers.warning), /without File Meta Information/);
      } else assert.equal(res.headers.warning, undefined);
      const answer = res.json();
      const ref = answer['00081199'].Value[0];
      const sopUid = ref['00081155'].Value[0];
      assert.match(ref['00081190'].Value[0], new RegExp(`^${gw.baseUrl}/dicomweb/studies/[0-9.]+/series/[0-9.]+/instances/${sopUid.replace(/\./g, '\\.')}$`));
      const rows = readIndex(gw.dataDir).filter((r) => r.sop_instance_uid === sopUid);
      assert.equal(rows.length, 1);
      const stored = readFileSync(join(storeRoot(gw.dataDir), rows[0].file_path));
      assert.ok(stored.equals(bytes), 'stored file differs from the upload');
      execFileSync('dcmdump', ['-q', join(storeRoot(gw.dataDir), rows[0].file_path)], { stdio: 'pipe' });
      const metadata = JSON.parse(rows[0].metadata_json);
      assert.equal(metadata['00080018'].Value[0], sopUid);
    });
  }

  test('bare application/dicom stores; the same bytes again are already stored; another encoding of the same instance is refused', async () => {
    const post = (name: string) =>
      send(`${gw.baseUrl}/dicomweb/studies`, {
        method: 'POST',
        headers: { 'content-type': 'application/dicom' },
        body: readFileSync(sampleFiles().find((s) => s.name === name)!.path),
      });
    assert.equal((await post('MR_small.dcm')).status, 200);
    assert.equal((await post('MR_small.dcm')).status, 200);
    const other = await post('MR_small_implicit.dcm');
    assert.equal(other.status, 409);
    assert.equal(other.json()['00081198'].Value[0]['00081197'].Value[0], 0x0111);
    assert.equal(readIndex(gw.dataDir).length, 1);
  });
});
