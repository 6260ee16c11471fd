/**
 * QIDO-RS in the fake archive core: query parsing and its refusals, C-FIND matching (single value,
 * UID lists, wildcards, DA/TM ranges, person names, AWS's fuzzy word-prefix), includefield,
 * computed attributes, default return attributes per level, order and paging.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { makeTempDir } from '../helpers/temp-dir';
import { DicomArchive } from '../fakes/dicom-archive/dicom-archive';
import { ArchiveInvalidQuery } from '../fakes/dicom-archive/archive-errors';
import { DicomJsonDataset } from '../fakes/dicom-archive/dicom-json';
import { QidoLevel, QidoQueryPolicy, QidoScope, parseQidoQuery, parseQueryString } from '../fakes/dicom-archive/qido-query';
import { qidoOrders, searchInstances } from '../fakes/dicom-archive/qido-search';

const temp = makeTempDir('ahi-qido');
after(() => temp.remove());
const policy: QidoQueryPolicy = { defaultLimit: 100, maxLimit: 100, maxOffset: 1000, maxIncludeFields: 3 };
const study = (s: number) => uidFromSeed(s, 'qido-study');
const series = (s: number, k: number) => uidFromSeed(`${s}.${k}`, 'qido-series');

let archive: DicomArchive;
before(() => {
  archive = new DicomArchive({ storageDir: join(temp.path, 'store') });
  const add = (s: number, k: number, i: number, o: Parameters<typeof syntheticInstance>[0] = {}) =>
    archive.ingest(syntheticInstance({ seed: s * 100 + k * 10 + i, studyUid: study(s), seriesUid: series(s, k), seriesNumber: k, instanceNumber: i, rows: 8, columns: 8, ...o }));
  add(1, 1, 1, { patientName: 'Thomas^Albert', patientId: 'P1', studyDate: '20130509', studyTime: '093000', accessionNumber: 'A-100' });
  add(1, 1, 2, { patientName: 'Thomas^Albert', patientId: 'P1', studyDate: '20130509', studyTime: '093000', accessionNumber: 'A-100' });
  add(1, 2, 1, { patientName: 'Thomas^Albert', patientId: 'P1', studyDate: '20130509', studyTime: '093000', accessionNumber: 'A-100', extraElements: [{ tag: 'Modality', value: 'MR' }] });
  add(2, 1, 1, { patientName: 'Doe^Jane', patientId: 'P2', studyDate: '20140101', studyTime: '160000', accessionNumber: 'B-200' });
  add(3, 1, 1, { patientName: 'van Hom^Anna', patientId: 'P3+4', studyDate: '20200615', studyTime: '235959', accessionNumber: 'C-300' });
});

function search(level: QidoLevel, query: string, scope: Partial<QidoScope> = {}): DicomJsonDataset[] {
  const q = parseQidoQuery(parseQueryString(query), { level, ...scope }, policy);
  return searchInstances(archive.visibleInstances(), q, { order: qidoOrders.numberAscending('00200011'), bulkDataUri: (_i, k) => k });
}
const ids = (results: DicomJsonDataset[], tag = '00100020') => results.map((r) => String(r[tag]?.Value?.[0])).sort();

describe('qido query parsing', () => {
  test('keys by keyword or tag, values percent-decoded with "+" kept', () => {
    const q = parseQidoQuery(parseQueryString('PatientID=P3%2B4&00100010=Doe%5EJane&limit=5&offset=1&fuzzymatching=true'), { level: 'studies' }, policy);
    assert.deepEqual(q.keys.map((k) => [k.tag, k.values]), [['00100020', ['P3+4']], ['00100010', ['Doe^Jane']]]);
    assert.deepEqual([q.limit, q.offset, q.fuzzyMatching], [5, 1, true]);
    assert.deepEqual(ids(search('studies', 'PatientID=P3+4')), ['P3+4']);
  });

  test('refuses unknown and not allowed keys, repeated keys, bad limit/offset, too many includefields', () => {
    const allowOnly: QidoQueryPolicy = { ...policy, allowedKeys: () => new Set(['00100020']) };
    const refuse = (query: string, p = policy) => assert.throws(() => parseQidoQuery(parseQueryString(query), { level: 'studies' }, p), ArchiveInvalidQuery, query);
    refuse('NoSuchKeyword=1');
    refuse('PatientName=x', allowOnly);
    refuse('PatientID=a&PatientID=b');
    refuse('limit=ten');
    refuse('limit=101');
    refuse('limit=0');
    refuse('offset=-1');
    refuse('offset=1001');
    refuse('fuzzymatching=maybe');
    refuse('includefield=00080020,00080030&includefield=StudyID,StudyDescription');
    assert.deepEqual(parseQidoQuery(parseQueryString('StudyInstanceUID=1.2&StudyInstanceUID=3.4,5.6'), { level: 'studies' }, policy).keys[0].values, ['1.2', '3.4', '5.6']);
  });
});

describe('qido matching', () => {
  test('single value, UID list, wildcards', () => {
    assert.deepEqual(ids(search('studies', 'PatientID=P2')), ['P2']);
    assert.deepEqual(ids(search('studies', `StudyInstanceUID=${study(1)},${study(3)}`)), ['P1', 'P3+4']);
    assert.deepEqual(ids(search('studies', 'AccessionNumber=*-?00')), ['P1', 'P2', 'P3+4']);
    assert.deepEqual(ids(search('studies', 'AccessionNumber=B*')), ['P2']);
    assert.deepEqual(ids(search('studies', 'PatientID=')), ['P1', 'P2', 'P3+4'], 'empty value: universal matching');
  });

  test('DA and TM ranges: a-b, a-, -b', () => {
    assert.deepEqual(ids(search('studies', 'StudyDate=20130509-20140101')), ['P1', 'P2']);
    assert.deepEqual(ids(search('studies', 'StudyDate=20140101-')), ['P2', 'P3+4']);
    assert.deepEqual(ids(search('studies', 'StudyDate=-20131231')), ['P1']);
    assert.deepEqual(ids(search('studies', 'StudyTime=0900-1200')), ['P1']);
    assert.deepEqual(ids(search('studies', 'StudyTime=1600')), ['P2']);
  });

  test('person names case-insensitively; fuzzy matching is a word-prefix match', () => {
    assert.deepEqual(ids(search('studies', 'PatientName=thomas%5Ealbert')), ['P1']);
    assert.deepEqual(ids(search('studies', 'PatientName=thomas')), [], 'no fuzzy matching: the whole name');
    assert.deepEqual(ids(search('studies', 'PatientName=THO*')), ['P1']);
    assert.deepEqual(ids(search('studies', 'PatientName=thomas&fuzzymatching=true')), ['P1']);
    assert.deepEqual(ids(search('studies', 'PatientName=Albert&fuzzymatching=true')), ['P1']);
    assert.deepEqual(ids(search('studies', 'PatientName=hom&fuzzymatching=true')), ['P3+4'], '"hom" starts a word of "van Hom^Anna" only');
  });
});

describe('qido results', () => {
  test('study results: default attributes and computed ModalitiesInStudy and counts', () => {
    const [s1] = search('studies', 'PatientID=P1');
    assert.deepEqual(s1['00080061'].Value, ['CT', 'MR']);
    assert.deepEqual(s1['00201206'].Value, [2]);
    assert.deepEqual(s1['00201208'].Value, [3]);
    assert.deepEqual(s1['00080056'].Value, ['ONLINE']);
    assert.ok(s1['0020000D'] && s1['00100010'] && s1['00080020']);
    assert.equal(s1['0008103E'], undefined, 'a series attribute is not a study default');
    assert.equal(s1['00080018'], undefined);
  });

  test('includefield by tag and keyword; unknown names left out; all brings every attribute', () => {
    const [s] = search('studies', 'PatientID=P2&includefield=00081030,PatientSex,NoSuchThing');
    assert.ok(s['00081030'] && s['00100040']);
    const [all] = search('studies', 'PatientID=P2&includefield=all&includefield=00081030');
    assert.ok(all['00180050'] && all['00280010'], 'slice thickness and rows of the representative instance');
    assert.equal(all['7FE00010'], undefined, 'never pixels');
  });

  test('/series carries the study attributes; /studies/{st}/series does not; instances carry their series UID', () => {
    const all = search('series', 'PatientID=P1');
    assert.equal(all.length, 2);
    assert.ok(all[0]['00100020'] && all[0]['00201206'], 'study attributes on /series');
    assert.deepEqual(all.map((r) => r['00201209'].Value?.[0]), [2, 1]);
    const inStudy = search('series', '', { studyInstanceUid: study(1) });
    assert.equal(inStudy[0]['00100020'], undefined);
    assert.ok(inStudy[0]['0020000D'], 'the study UID always says where a result belongs');
    const instances = search('instances', '', { studyInstanceUid: study(1), seriesInstanceUid: series(1, 1) });
    assert.equal(instances.length, 2);
    assert.ok(instances[0]['00080018'] && instances[0]['0020000E'] && instances[0]['00280010']);
    assert.equal(instances[0]['0008103E'], undefined);
  });

  test('order and paging: offset then limit over the ordered results', () => {
    const everything = search('series', '');
    assert.deepEqual(everything.map((r) => r['00200011'].Value?.[0]), [1, 1, 1, 2]);
    const page = search('series', 'offset=3&limit=1');
    assert.deepEqual(page.map((r) => r['0020000E'].Value?.[0]), [series(1, 2)]);
    assert.deepEqual(search('studies', 'offset=10'), []);
  });
});
