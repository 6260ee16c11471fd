/**
 * The QIDO-RS answer (PS3.18 10.6.3.3): which attributes each result carries, per level and path,
 * in ascending tag order (F.2.2), with the Retrieve URL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomJsonObject } from '../../src/dicom/dicom-json';
import { qidoResponseBody } from '../../src/dicomweb/qido/qido-response';
import { parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { QidoLevel, QidoMatch } from '../../src/stores/qido-query';
import { deepFreeze } from '../../src/stores/local/parsed-json-cache';

const BASE = 'https://pacs.example/dicomweb';

const study = (): DicomJsonObject => ({
  '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
  '00080020': { vr: 'DA', Value: ['20240101'] },
  '00080050': { vr: 'SH', Value: ['ACC1'] },
  '00080056': { vr: 'CS', Value: ['ONLINE'] },
  '00080061': { vr: 'CS', Value: ['CT', 'MR'] },
  '00081030': { vr: 'LO', Value: ['Chest'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Hans' }] },
  '00100020': { vr: 'LO', Value: ['P1'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00201206': { vr: 'IS', Value: [2] },
  '00201208': { vr: 'IS', Value: [4] },
});
const series = (): DicomJsonObject => ({
  '00080056': { vr: 'CS', Value: ['ONLINE'] },
  '00080060': { vr: 'CS', Value: ['CT'] },
  '0008103E': { vr: 'LO', Value: ['Axial'] },
  '00180015': { vr: 'CS', Value: ['CHEST'] },
  '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
  '00200011': { vr: 'IS', Value: [1] },
  '00201209': { vr: 'IS', Value: [2] },
});
const instance = (): DicomJsonObject => ({
  '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
  '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY'] },
  '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
  '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] },
  '00080056': { vr: 'CS', Value: ['ONLINE'] },
  '00080060': { vr: 'CS', Value: ['CT'] },
  '00100020': { vr: 'LO', Value: ['P1'] },
  '00200013': { vr: 'IS', Value: [1] },
  '00280010': { vr: 'US', Value: [8] },
  '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
});

function answer(level: QidoLevel, q: string, match: QidoMatch, path = {}, base = BASE): DicomJsonObject[] {
  const { query } = parseQidoRequest(level, path, q, { defaultLimit: 10, maxLimit: 10 });
  const body = qidoResponseBody(query, [match], base).toString('utf8');
  const parsed = JSON.parse(body) as DicomJsonObject[];
  // F.2.2: attributes in ascending tag order, as written.
  for (const r of parsed) assert.deepEqual(Object.keys(r), Object.keys(r).sort(), 'ascending tags');
  assert.equal(body.indexOf('"00080005"'), -1, 'never Specific Character Set');
  return parsed;
}

describe('QIDO-RS answer', () => {
  test('study: Table 10.6.3-3, required ones even without a value, and the Retrieve URL', () => {
    const [r] = answer('study', '', { study: study() });
    assert.deepEqual(Object.keys(r), [
      '00080020', '00080030', '00080050', '00080056', '00080061', '00080090', '00081190',
      '00100010', '00100020', '00100030', '00100040', '0020000D', '00200010', '00201206', '00201208',
    ]);
    assert.deepEqual(r['00080030'], { vr: 'TM' }, 'Study Time is required: present without a value');
    assert.deepEqual(r['00081190'], { vr: 'UR', Value: [`${BASE}/studies/1.2.3`] });
    assert.deepEqual(r['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Müller^Hans' }] });
    assert.equal(r['00080201'], undefined, 'Timezone Offset From UTC only when known');
  });
  test('study: match keys and includefields of the study level are added; lower levels never', () => {
    const [r] = answer('study', 'StudyDescription=Chest&includefield=PatientAge,Modality,SOPClassUID', { study: study() });
    assert.deepEqual(r['00081030'], { vr: 'LO', Value: ['Chest'] });
    assert.deepEqual(r['00101010'], { vr: 'AS' }, 'asked for, unknown: present without a value');
    assert.equal(r['00080060'], undefined);
    assert.equal(r['00080016'], undefined);
  });
  test('all series carry the study attributes; series of a study only those asked for', () => {
    const [all] = answer('series', '', { study: study(), series: series() });
    for (const tag of ['00100020', '00100010', '00080020', '0020000D', '00201206', '00080060', '0020000E', '00201209', '00200011', '0008103E']) {
      assert.ok(all[tag], `all series: ${tag}`);
    }
    assert.deepEqual(all['00081190'], { vr: 'UR', Value: [`${BASE}/studies/1.2.3/series/1.2.3.4`] });
    assert.equal(all['00180015'], undefined);
    const [ofStudy] = answer('series', 'includefield=PatientID,BodyPartExamined', { study: study(), series: series() }, { studyUid: '1.2.3' });
    assert.deepEqual(Object.keys(ofStudy), ['00080060', '0008103E', '00081190', '00100020', '00180015', '0020000E', '00200011', '00201209']);
  });
  test("instances carry the series' attributes unless the path names the series, the study's unless it names the study", () => {
    const match = { study: study(), series: series(), instance: instance() };
    const [all] = answer('instance', '', match);
    for (const tag of ['00100020', '0020000D', '0020000E', '00080060', '00080016', '00080018', '00200013', '00280010']) assert.ok(all[tag], tag);
    assert.deepEqual(all['00081190'], { vr: 'UR', Value: [`${BASE}/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5`] });
    const [ofStudy] = answer('instance', '', match, { studyUid: '1.2.3' });
    assert.ok(ofStudy['0020000E'] && !ofStudy['00100020']);
    const [ofSeries] = answer('instance', '', match, { studyUid: '1.2.3', seriesUid: '1.2.3.4' });
    assert.deepEqual(Object.keys(ofSeries), ['00080016', '00080018', '00080056', '00081190', '00200013', '00280010']);
  });
  test('includefield=all: every attribute held, each from its own level, no bulk data', () => {
    const [r] = answer('instance', 'includefield=all', { study: study(), series: series(), instance: instance() }, { studyUid: '1.2.3' });
    assert.deepEqual(r['00080008'], { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY'] });
    assert.deepEqual(r['00180015'], { vr: 'CS', Value: ['CHEST'] });
    assert.deepEqual(r['00081030'], { vr: 'LO', Value: ['Chest'] });
    assert.equal(r['7FE00010'], undefined);
  });
  test('text written once for frozen attributes follows the request: base URL, plan, other study', () => {
    const frozen = deepFreeze({ study: study() });
    const a = answer('study', '', frozen)[0];
    const b = answer('study', '', frozen, {}, 'http://other:8080/dicomweb')[0];
    assert.deepEqual(b['00081190'], { vr: 'UR', Value: ['http://other:8080/dicomweb/studies/1.2.3'] });
    assert.deepEqual({ ...a, '00081190': b['00081190'] }, b);
    const c = answer('study', 'includefield=StudyDescription', frozen)[0];
    assert.deepEqual(c['00081030'], { vr: 'LO', Value: ['Chest'] });
    const s = deepFreeze(series());
    const one = answer('series', '', { study: deepFreeze(study()), series: s })[0];
    const otherStudy = deepFreeze({ ...study(), '00100020': { vr: 'LO', Value: ['P2'] } });
    const two = answer('series', '', { study: otherStudy, series: s })[0];
    assert.deepEqual([one['00100020'].Value, two['00100020'].Value], [['P1'], ['P2']]);
  });
  test('no results: an empty array', () => {
    const { query } = parseQidoRequest('study', {}, '', { defaultLimit: 10, maxLimit: 10 });
    assert.equal(qidoResponseBody(query, [], BASE).toString(), '[]');
  });
});
