/**
 * Duplicates: identical bytes are a success stored once; different bytes under the same SOP
 * Instance UID are refused (0x0111) and never replace what is stored; concurrent uploads of one
 * instance end with one row and one file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { listFiles, readIndex, storeRoot } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { syntheticInstance } from '../fixtures/dicom-builder';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('STOW-RS duplicates', () => {
  let gw: RunningGateway;
  const stow = (parts: Buffer[]) => {
    const { body, contentType } = multipartBody(parts);
    return send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body });
  };
  const make = (sop: string, seed: number) =>
    syntheticInstance({ studyUid: '1.2.826.0.1.3680043.10.2000.1', seriesUid: '1.2.826.0.1.3680043.10.2000.1.1', sopInstanceUid: sop, rows: 64, columns: 64, seed });

  before(async () => {
    gw = await startInProcessGateway();
  });
  after(async () => {
    await gw.stop();
  });

  test('the same bytes twice: both 200, one row, one file', async () => {
    const a = make('1.2.826.0.1.3680043.10.2000.1.1.1', 1);
    assert.equal((await stow([a])).status, 200);
    assert.equal((await stow([a])).status, 200);
    assert.equal(readIndex(gw.dataDir).filter((r) => r.sop_instance_uid === '1.2.826.0.1.3680043.10.2000.1.1.1').length, 1);
  });

  test('different bytes under a stored UID: 409 with 0x0111, the stored file unchanged', async () => {
    const original = make('1.2.826.0.1.3680043.10.2000.1.1.2', 2);
    const other = make('1.2.826.0.1.3680043.10.2000.1.1.2', 3);
    assert.notEqual(sha(original), sha(other));
    assert.equal((await stow([original])).status, 200);
    const res = await stow([other]);
    assert.equal(res.status, 409);
    const failed = res.json()['00081198'].Value[0];
    assert.equal(failed['00081197'].Value[0], 0x0111);
    assert.equal(failed['00081155'].Value[0], '1.2.826.0.1.3680043.10.2000.1.1.2');
    const row = readIndex(gw.dataDir).find((r) => r.sop_instance_uid === '1.2.826.0.1.3680043.10.2000.1.1.2')!;
    assert.equal(sha(readFileSync(join(storeRoot(gw.dataDir), row.file_path))), sha(original));
  });

  test('eight clients sending the same instance at once: one row, one file, all 200', async () => {
    const sop = '1.2.826.0.1.3680043.10.2000.1.1.3';
    const a = make(sop, 4);
    const answers = await Promise.all(Array.from({ length: 8 }, () => stow([a])));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200));
    const rows = readIndex(gw.dataDir).filter((r) => r.sop_instance_uid === sop);
    assert.equal(rows.length, 1);
    const files = listFiles(storeRoot(gw.dataDir)).filter((f) => f.includes(sop));
    assert.equal(files.length, 1);
    assert.equal(sha(readFileSync(files[0])), sha(a));
  });

  test('eight clients sending different bytes under one new UID: exactly one wins', async () => {
    const sop = '1.2.826.0.1.3680043.10.2000.1.1.4';
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => stow([make(sop, 100 + i)])));
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert.equal(readIndex(gw.dataDir).filter((r) => r.sop_instance_uid === sop).length, 1);
  });

  test('a series already in another study is refused with 0xA900', async () => {
    const moved = syntheticInstance({ studyUid: '1.2.826.0.1.3680043.10.2000.9', seriesUid: '1.2.826.0.1.3680043.10.2000.1.1', sopInstanceUid: '1.2.826.0.1.3680043.10.2000.9.1', rows: 8, columns: 8, seed: 9 });
    const res = await stow([moved]);
    assert.equal(res.status, 409, res.text());
    assert.equal(res.json()['00081198'].Value[0]['00081197'].Value[0], 0xa900);
    assert.equal(listFiles(storeRoot(gw.dataDir)).filter((f) => f.includes('1.2.826.0.1.3680043.10.2000.9.1')).length, 0);
  });
});
