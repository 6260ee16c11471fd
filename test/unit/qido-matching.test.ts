/**
 * The matching rules of PS3.4 C.2.2.2 as the embedded store applies them, one test per rule, on
 * the QIDO fixture archive (test/fixtures/qido-dataset.ts): the request is parsed and the answer
 * built by the gateway's own code, the index is a real SQLite file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allFiles, qidoDataset, QIDO_ROOT, SR_DOCUMENT } from '../fixtures/qido-dataset';
import { openTestStore, SearchAnswer, TestStore, value } from '../helpers/qido-store';
import { InvalidQuery } from '../../src/dicomweb/errors';
import { parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { searchSql } from '../../src/stores/local/qido-sql';

const studies = qidoDataset();
const uid = (n: number) => `${QIDO_ROOT}.${n}`;
const patientIds = (a: SearchAnswer) => a.results.map((r) => value(r, '00100020'));
const uids = (a: SearchAnswer, tag: string) => a.results.map((r) => value(r, tag));

describe('QIDO matching on the embedded store', () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore();
    await t.add(allFiles(studies));
  });
  after(async () => {
    await t.close();
  });

  const find = (query: string) => t.search('study', query).then(patientIds);

  describe('single value matching (C.2.2.2.1)', () => {
    test('by keyword and by tag', async () => {
      assert.deepEqual(await find('PatientID=MUL001'), ['MUL001']);
      assert.deepEqual(await find('00100020=MUL001'), ['MUL001']);
      assert.deepEqual(await find('AccessionNumber=ACC0003'), ['BUC001']);
    });
    test('is case-sensitive except for person names', async () => {
      assert.deepEqual(await find('PatientID=mul001'), []);
      assert.deepEqual(await find('PatientName=smith^john'), ['SMI001', 'SMI002']);
      assert.deepEqual(await find('PatientName=SMITH^JOHN'), ['SMI001', 'SMI002']);
    });
    test('person names ignore trailing empty components but not accents', async () => {
      assert.deepEqual(await find('PatientName=Smith^John^^'), ['SMI001', 'SMI002']);
      assert.deepEqual(await find('PatientName=M%C3%BCller^Hans'), ['MUL001']);
      assert.deepEqual(await find('PatientName=Muller^Hans'), []);
    });
    test('numbers match by value', async () => {
      const series = await t.search('series', 'SeriesNumber=02');
      assert.equal(series.results.length, studies.filter((s) => s.series.length >= 2).length);
      assert.deepEqual(await find('NumberOfStudyRelatedSeries=3'), ['WAN002']);
    });
    test('several conditions must all hold', async () => {
      assert.deepEqual(await find('PatientName=SMITH*&StudyDate=20240101'), ['SMI001', 'SMI003']);
      assert.deepEqual(await find('PatientID=SMI001&StudyDate=20240102'), []);
    });
  });

  describe('universal matching (C.2.2.2.3)', () => {
    test('an empty value matches everything and returns the attribute', async () => {
      const all = await t.search('study', 'StudyDescription=&PatientID=');
      assert.equal(all.results.length, studies.length);
      assert.ok(all.results.every((r) => r['00081030'] !== undefined));
    });
    test("'*' alone is universal, also for an attribute without a value", async () => {
      assert.equal((await find('AccessionNumber=*')).length, studies.length);
    });
  });

  describe('wild card matching (C.2.2.2.4)', () => {
    test("'*' any run of characters, '?' exactly one", async () => {
      assert.deepEqual(await find('PatientID=SMI*'), ['SMI001', 'SMI002', 'SMI003']);
      assert.deepEqual(await find('PatientID=SMI00?'), ['SMI001', 'SMI002', 'SMI003']);
      assert.deepEqual(await find('PatientID=?MI001'), ['SMI001']);
      assert.deepEqual(await find('PatientID=*2'), ['MUL002', 'WAN002', 'YAM002', 'SMI002']);
      assert.deepEqual(await find('PatientID=W*N0?1'), ['WAN001']);
      assert.deepEqual(await find('PatientID=SMI0?'), []);
    });
    test('person names: case-insensitive prefixes, also percent-encoded', async () => {
      assert.deepEqual(await find('PatientName=SMITH*'), ['SMI001', 'SMI002', 'SMI003']);
      assert.deepEqual(await find('PatientName=Smith%5EJ*'), ['SMI001', 'SMI002']);
      assert.deepEqual(await find('PatientName=m%C3%BCller*'), ['MUL001']);
      assert.deepEqual(await find('PatientName=*son%5E*'), ['SMI003']);
      assert.deepEqual(await find("PatientName=O'Brien*"), ['OBR001']);
    });
    test('"?" is one character, not one byte', async () => {
      assert.deepEqual(await find('PatientName=M?ller*'), ['MUL001']);
      assert.deepEqual(await find('PatientName=%E7%8E%8B%5E?'), ['WAN002']); // 王^? : 王^芳, not 王^小東
    });
    test('wild cards are literal text for UIDs and dates', async () => {
      assert.throws(() => parseQidoRequest('study', {}, 'StudyInstanceUID=1.2.*', { defaultLimit: 10, maxLimit: 10 }), InvalidQuery);
      assert.throws(() => parseQidoRequest('study', {}, 'StudyDate=2024*', { defaultLimit: 10, maxLimit: 10 }), InvalidQuery);
    });
  });

  describe('person name component groups (PS3.5 6.2.1)', () => {
    test('a key without "=" matches any group: alphabetic, ideographic or phonetic', async () => {
      assert.deepEqual(await find('PatientName=yamada*'), ['YAM001', 'YAM002']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('山田*')}`), ['YAM001', 'YAM002']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('山田^太郎')}`), ['YAM001']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('やまだ^はなこ')}`), ['YAM002']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('王*')}`), ['WAN001', 'WAN002']);
    });
    test('a key with "=" matches the whole value', async () => {
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('Yamada^Tarou=山田^太郎=やまだ^たろう')}`), ['YAM001']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('*=山田^花子*')}`), ['YAM002']);
      assert.deepEqual(await find(`PatientName=${encodeURIComponent('Wang^Fang=王^芳')}`), ['WAN002']);
    });
  });

  describe('fuzzy matching (fuzzymatching=true)', () => {
    const fuzzy = (name: string) => find(`fuzzymatching=true&PatientName=${encodeURIComponent(name)}`);
    test('ignores case and accents', async () => {
      assert.deepEqual(await fuzzy('muller'), ['MUL001']);
      assert.deepEqual(await fuzzy('JEROME'), ['BUC001']);
      assert.deepEqual(await fuzzy('jose garcia'), ['GAR001']);
      assert.deepEqual(await fuzzy('sean'), ['OBR001']);
    });
    test('every word begins a name component, in any order', async () => {
      assert.deepEqual(await fuzzy('hans'), ['MUL001']);
      assert.deepEqual(await fuzzy('john smith'), ['SMI001', 'SMI002']);
      assert.deepEqual(await fuzzy('smi'), ['SMI001', 'SMI002', 'SMI003']);
      assert.deepEqual(await fuzzy('Smith^Anna'), ['SMI003']);
      assert.deepEqual(await fuzzy('anna jones'), []);
    });
    test('works on ideographic and phonetic groups', async () => {
      assert.deepEqual(await fuzzy('太郎'), ['YAM001']);
      assert.deepEqual(await fuzzy('はなこ'), ['YAM002']);
    });
    test('fuzzymatching=false is literal matching', async () => {
      assert.deepEqual(await find('fuzzymatching=false&PatientName=muller'), []);
    });
    test('applies to every PN attribute', async () => {
      assert.deepEqual(await find('fuzzymatching=true&ReferringPhysicianName=gregory'), ['SMI001']);
    });
  });

  describe('range matching (C.2.2.2.5)', () => {
    test('dates: closed, open on either side, a single date, across a year end and a leap day', async () => {
      assert.deepEqual(await find('StudyDate=20240101'), ['MUL002', 'SMI001', 'SMI003', 'GAR001']);
      assert.deepEqual(await find('StudyDate=20231231-20240101'), ['MUL001', 'MUL002', 'SMI001', 'SMI003', 'GAR001']);
      assert.deepEqual(await find('StudyDate=20240229-'), ['BUC001', 'WAN001', 'WAN002', 'YAM001', 'YAM002']);
      assert.deepEqual(await find('StudyDate=-19991231'), ['FRA001']);
      assert.deepEqual(await find('StudyDate=20240228-20240301'), ['BUC001']);
      assert.deepEqual(await find('StudyDate=20240301-20240229'), []);
    });
    test('times: a value stands for its whole precision, bounds are inclusive', async () => {
      assert.deepEqual(await find('StudyTime=2359'), ['MUL001', 'YAM002', 'SMI003']);
      assert.deepEqual(await find('StudyTime=235959.999999'), ['MUL001']);
      assert.deepEqual(await find('StudyTime=-0700'), ['MUL002', 'SMI002', 'GAR001']);
      assert.deepEqual(await find('StudyTime=1015'), ['WAN001', 'WAN002']);
      assert.deepEqual(await find('StudyDate=20240101&StudyTime=1200-1300'), ['SMI001']);
    });
    test('date-times: partial values, ranges, UTC offsets taken into account (C.2.2.2.5.3)', async () => {
      const instances = (q: string) => t.search('instance', q).then((a) => [...new Set(uids(a, '00100020'))]);
      assert.deepEqual(await instances('AcquisitionDateTime=2023'), ['MUL001', 'OBR001']);
      assert.deepEqual(await instances('AcquisitionDateTime=20231231-20240101'), ['MUL001', 'MUL002', 'SMI001', 'SMI003', 'GAR001']);
      // MUL001 was acquired at 23:59:59.999999 in UTC+1: 22:59:59.999999 UTC.
      assert.deepEqual(await instances('AcquisitionDateTime=20231231235959.999999%2B0100'), ['MUL001']);
      assert.deepEqual(await instances('AcquisitionDateTime=20231231225959.999999'), ['MUL001']);
      assert.deepEqual(await instances('AcquisitionDateTime=20231231230000-'), ['MUL002', 'BUC001', 'WAN001', 'WAN002', 'YAM001', 'YAM002', 'SMI001', 'SMI003', 'GAR001']);
      // From midnight in UTC-5 (05:00 UTC) to noon.
      assert.deepEqual(await instances('AcquisitionDateTime=20240101000000-0500-20240101120000'), ['SMI001', 'GAR001']);
      assert.deepEqual(await instances('AcquisitionDateTime=202404-'), ['YAM001', 'YAM002']);
      assert.deepEqual(await find('AcquisitionDateTime=-1999'), ['FRA001']);
    });
  });

  describe('list of UID matching (C.2.2.2.2)', () => {
    test('comma- or backslash-separated', async () => {
      assert.deepEqual(await find(`StudyInstanceUID=${uid(1)},${uid(3)}`), ['MUL001', 'BUC001']);
      assert.deepEqual(await find(`StudyInstanceUID=${uid(3)}%5C${uid(1)}`), ['MUL001', 'BUC001']);
      assert.deepEqual(await find(`StudyInstanceUID=1.2.3`), []);
    });
  });

  describe('Modalities in Study', () => {
    test('matches any modality of the study, several values listed with a backslash', async () => {
      assert.deepEqual(await find('ModalitiesInStudy=PT'), ['BUC001', 'WAN002']);
      assert.deepEqual(await find('ModalitiesInStudy=SR'), ['MUL002', 'SMI003']);
      assert.deepEqual(await find('ModalitiesInStudy=CT%5CPT'), ['MUL001', 'BUC001', 'WAN002', 'YAM001', 'SMI003', 'GAR001']);
      assert.deepEqual(await find('ModalitiesInStudy=C*'), ['MUL001', 'BUC001', 'FRA001', 'WAN002', 'YAM001', 'SMI003', 'GAR001']);
    });
    test('is computed from the series, each modality once, in order', async () => {
      const [wang] = (await t.search('study', 'PatientID=WAN002')).results;
      assert.deepEqual(wang['00080061'], { vr: 'CS', Value: ['CT', 'MR', 'PT'] });
      const [muller] = (await t.search('study', 'PatientID=MUL001')).results;
      assert.deepEqual(muller['00080061'], { vr: 'CS', Value: ['CT'] });
    });
  });

  describe('relational and sequence matching', () => {
    test('a series or instance key on a study search finds studies that have one', async () => {
      assert.deepEqual(await find('Modality=PT'), ['BUC001', 'WAN002']);
      assert.deepEqual(await find('SeriesDescription=SR*'), ['MUL002', 'SMI003']);
      assert.deepEqual(await find(`SOPClassUID=${SR_DOCUMENT}`), ['MUL002', 'SMI003']);
    });
    test('an attribute in the items of a sequence (C.2.2.2.6)', async () => {
      assert.deepEqual(await find('RequestAttributesSequence.ScheduledProcedureStepID=SPS-6-2'), ['WAN002']);
      assert.deepEqual(await find('00400275.00401001=RP-14'), ['GAR001']);
      const series = await t.search('series', 'RequestAttributesSequence.ScheduledProcedureStepID=SPS-6-*');
      assert.deepEqual(uids(series, '0020000E'), [`${uid(6)}.1`, `${uid(6)}.2`, `${uid(6)}.3`]);
    });
  });

  describe('empty and multiple value matching (C.2.2.2.7, C.2.2.2.8)', () => {
    test('"" matches an absent or empty value only with emptyvaluematching=true', async () => {
      assert.deepEqual(await find('emptyvaluematching=true&StudyDate=""'), ['DOE001']);
      assert.deepEqual(await find('emptyvaluematching=true&ReferringPhysicianName=""').then((r) => r.length), studies.length - 2);
      assert.deepEqual(await find('PatientName=""'), []);
    });
    test('a backslash lists values only with multiplevaluematching=true', async () => {
      assert.deepEqual(await find('multiplevaluematching=true&PatientID=MUL001%5CBUC001'), ['MUL001', 'BUC001']);
      assert.deepEqual(await find('PatientID=MUL001%5CBUC001'), []);
      assert.deepEqual(await find('multiplevaluematching=true&StudyDate=19991231%5C20240229'), ['BUC001', 'FRA001'].sort(byFixtureOrder));
    });
  });

  test('Instance Availability is ONLINE for everything the store holds', async () => {
    assert.equal((await find('InstanceAvailability=ONLINE')).length, studies.length);
    assert.deepEqual(await find('InstanceAvailability=OFFLINE'), []);
  });

  describe('levels and paths', () => {
    test('series of a study, in series number order', async () => {
      const a = await t.search('series', '', { studyUid: uid(6) });
      assert.deepEqual(uids(a, '0020000E'), [`${uid(6)}.1`, `${uid(6)}.2`, `${uid(6)}.3`]);
      assert.deepEqual(uids(a, '00080060'), ['CT', 'MR', 'PT']);
    });
    test('all series, with a series key', async () => {
      const a = await t.search('series', 'Modality=MR');
      assert.deepEqual(uids(a, '00100020'), ['MUL002', 'WAN001', 'WAN002', 'YAM002']);
    });
    test('instances of a series, of a study, and all instances', async () => {
      const ofSeries = await t.search('instance', '', { studyUid: uid(2), seriesUid: `${uid(2)}.2` });
      assert.deepEqual(uids(ofSeries, '00080018'), [`${uid(2)}.2.1`, `${uid(2)}.2.2`]);
      const ofStudy = await t.search('instance', 'InstanceNumber=2', { studyUid: uid(6) });
      assert.deepEqual(uids(ofStudy, '00080018'), [`${uid(6)}.1.2`, `${uid(6)}.2.2`, `${uid(6)}.3.2`]);
      const all = await t.search('instance', `SOPClassUID=${SR_DOCUMENT}`);
      assert.equal(all.results.length, 4);
      assert.deepEqual(await t.search('instance', '', { studyUid: uid(2), seriesUid: `${uid(3)}.1` }).then((r) => r.results), []);
    });
  });

  test('instance measurements and narrative text are not indexed: such keys are ignored, and said so', async () => {
    const a = await t.search('instance', 'SliceThickness=7', { studyUid: uid(1) });
    assert.equal(a.results.length, 4);
    assert.deepEqual(a.ignored, ['SliceThickness: this store does not match instance attributes of VR DS; the key was ignored']);
    const b = await t.search('instance', 'ImageType=DERIVED', { studyUid: uid(1) });
    assert.deepEqual([b.results.length, b.ignored], [0, []]);
  });

  describe('limit and offset (PS3.18 8.3.4.4)', () => {
    test('pages are disjoint, in a stable order, and say whether more follow', async () => {
      const pages = [];
      for (let offset = 0; offset < studies.length; offset += 5) pages.push(await t.search('study', `limit=5&offset=${offset}`));
      assert.deepEqual(pages.map((p) => p.more), [true, true, false]);
      assert.deepEqual(pages.flatMap(patientIds), studies.map((s) => s.patientId));
      assert.deepEqual((await t.search('study', 'offset=100')).results, []);
    });
    test('no limit: the server default; above the maximum: the maximum', async () => {
      const limits = { defaultLimit: 3, maxLimit: 5 };
      const none = await t.search('study', '', {}, limits);
      assert.equal(none.results.length, 3);
      assert.equal(none.more && none.serverLimited, true);
      const tooMany = await t.search('study', 'limit=50', {}, limits);
      assert.equal(tooMany.results.length, 5);
      assert.equal(tooMany.serverLimited, true);
      const asked = await t.search('study', 'limit=2', {}, limits);
      assert.equal(asked.more && !asked.serverLimited, true);
    });
  });

  test('every condition is answered from an index (no table scans)', () => {
    const queries: [Parameters<typeof parseQidoRequest>[0], string, object?][] = [
      ['study', 'PatientID=MUL001'],
      ['study', 'PatientName=SMITH*'],
      ['study', 'PatientName=sm?th*'],
      ['study', 'fuzzymatching=true&PatientName=john%20smith'],
      ['study', 'StudyDate=20240101-20241231&limit=100'],
      ['study', 'StudyTime=-0700'],
      ['study', 'AccessionNumber=ACC0001'],
      ['study', `StudyInstanceUID=${uid(1)},${uid(2)}`],
      ['study', 'ModalitiesInStudy=CT%5CMR'],
      ['study', 'Modality=PT'],
      ['study', `SOPClassUID=${SR_DOCUMENT}`],
      ['study', 'RequestAttributesSequence.RequestedProcedureID=RP-6'],
      ['series', '', { studyUid: uid(6) }],
      ['series', 'Modality=MR&PatientName=W*'],
      ['instance', '', { studyUid: uid(2), seriesUid: `${uid(2)}.2` }],
      ['instance', 'InstanceNumber=2', { studyUid: uid(6) }],
      ['instance', 'ContentDate=20240101'],
    ];
    for (const [level, q, path] of queries) {
      const { query } = parseQidoRequest(level, path ?? {}, q, { defaultLimit: 100, maxLimit: 1000 });
      const built = searchSql(query, false)!;
      const plan = t.store.index.db.prepare(`EXPLAIN QUERY PLAN ${built.sql}`).all(...built.params) as { detail: string }[];
      // Scanning a subquery's own result (an INTERSECT of index ranges) is fine; a table is not.
      const scans = plan.filter((p) => /^SCAN (?!\(subquery-\d+\))/.test(p.detail));
      assert.deepEqual(scans, [], `${level} ${q}:\n${plan.map((p) => p.detail).join('\n')}`);
    }
  });
});

function byFixtureOrder(a: string, b: string): number {
  const order = qidoDataset().map((s) => s.patientId);
  return order.indexOf(a) - order.indexOf(b);
}
