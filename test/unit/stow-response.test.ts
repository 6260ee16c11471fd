import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stowResponseBody, stowStatus, StowOutcome } from '../../src/dicomweb/stow/stow-response';

const stored = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', sopClassUid: '1.2.840.10008.5.1.4.1.1.2' };
const urls = { study: (s: string) => `http://gw/dicomweb/studies/${s}`, instance: (i: typeof stored) => `http://gw/dicomweb/studies/${i.studyInstanceUid}/series/${i.seriesInstanceUid}/instances/${i.sopInstanceUid}` };

test('status codes follow PS3.18 Table 10.5.3-1', () => {
  const s = (o: Partial<StowOutcome>) => stowStatus({ stored: [], failed: [], notes: [], ...o });
  assert.equal(s({ stored: [stored] }), 200);
  assert.equal(s({ stored: [stored], failed: [{ part: 2, reason: 'cannot-understand', message: '' }] }), 202);
  assert.equal(s({ stored: [stored], framingError: 'cut' }), 202);
  assert.equal(s({ failed: [{ part: 1, reason: 'study-mismatch', message: '' }] }), 409);
  assert.equal(s({ failed: [{ part: 1, reason: 'duplicate-conflict', message: '' }] }), 409);
  assert.equal(s({ failed: [{ part: 1, reason: 'cannot-understand', message: '' }, { part: 2, reason: 'study-mismatch', message: '' }] }), 400);
  assert.equal(s({ failed: [{ part: 1, reason: 'out-of-resources', message: '' }] }), 413);
  assert.equal(s({ framingError: 'no part' }), 400);
  assert.equal(s({ stored: [stored], limitExceeded: 'too big' }), 413);
});

test('the body lists stored and failed instances with their reasons', () => {
  const body = stowResponseBody(
    { stored: [stored], failed: [{ part: 2, reason: 'unsupported-transfer-syntax', message: 'x', sopClassUid: '1.2', sopInstanceUid: '1.2.9' }, { part: 3, reason: 'cannot-understand', message: 'y' }], notes: [] },
    urls,
  );
  assert.deepEqual(body['00081190'], { vr: 'UR', Value: ['http://gw/dicomweb/studies/1.2.3'] });
  const failed = body['00081198'].Value as any[];
  assert.equal(failed.length, 2);
  assert.deepEqual(failed[0]['00081197'], { vr: 'US', Value: [0xc122] });
  assert.deepEqual(failed[0]['00081155'], { vr: 'UI', Value: ['1.2.9'] });
  assert.deepEqual(failed[1]['00081155'], { vr: 'UI' });
  assert.deepEqual(failed[1]['00081197'], { vr: 'US', Value: [0xc000] });
  const referenced = body['00081199'].Value as any[];
  assert.equal(referenced[0]['00081190'].Value[0], 'http://gw/dicomweb/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5');
});

test('no study Retrieve URL when the stored instances span several studies and none was targeted', () => {
  const other = { ...stored, studyInstanceUid: '1.2.4', sopInstanceUid: '1.2.4.1' };
  const body = stowResponseBody({ stored: [stored, other], failed: [], notes: [] }, urls);
  assert.equal(body['00081190'], undefined);
  assert.equal((body['00081199'].Value as unknown[]).length, 2);
});
