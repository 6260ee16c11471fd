/**
 * QIDO-RS request parsing (PS3.18 8.3.4, 10.6.1): query strings -> QidoQuery, and every bad input
 * refused with an InvalidQuery (400) that says what is wrong.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidQuery } from '../../src/dicomweb/errors';
import { parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { parseQueryString, rawQueryOf } from '../../src/dicomweb/qido/query-parameters';
import { QidoLevel } from '../../src/stores/qido-query';

const LIMITS = { defaultLimit: 100, maxLimit: 1000 };
const parse = (q: string, level: QidoLevel = 'study', path = {}) => parseQidoRequest(level, path, q, LIMITS).query;
const condition = (q: string, level: QidoLevel = 'study') => {
  const { conditions } = parse(q, level);
  assert.equal(conditions.length, 1, `one condition from ${q}`);
  return conditions[0];
};

describe('query string decoding (RFC 3986)', () => {
  test('percent-escapes are UTF-8 bytes, "+" is a plus sign, repeats are kept in order', () => {
    assert.deepEqual(parseQueryString('PatientName=Wang%5E*&PatientName=M%C3%BCller*&x=a+b&flag'), [
      { name: 'PatientName', value: 'Wang^*' },
      { name: 'PatientName', value: 'Müller*' },
      { name: 'x', value: 'a+b' },
      { name: 'flag', value: '' },
    ]);
    assert.equal(rawQueryOf('/dicomweb/studies?a=1&b=2#frag'), 'a=1&b=2');
    assert.equal(rawQueryOf('/dicomweb/studies'), '');
  });
  for (const bad of ['PatientID=%ZZ', 'PatientID=50%', 'PatientID=%E4', 'Patient%XXName=a', 'PatientName=%C3%28']) {
    test(`a bad escape is refused: ${bad}`, () => {
      assert.throws(() => parseQueryString(bad), (e: unknown) => e instanceof InvalidQuery && /percent-encoding/.test((e as Error).message));
    });
  }
});

describe('attribute names', () => {
  test('keyword or tag, any case of hex digits', () => {
    for (const q of ['PatientID=X', '00100020=X', '0010002a=X'.replace('2a', '20')]) {
      assert.equal(condition(q).attribute.tag, 0x00100020);
    }
    assert.equal(condition('0020000d=1.2.3').attribute.tag, 0x0020000d);
  });
  test('a sequence item attribute, by keyword or tag', () => {
    for (const q of ['RequestAttributesSequence.ScheduledProcedureStepID=X', '00400275.00400009=X']) {
      assert.deepEqual(condition(q, 'series').attribute, { tag: 0x00400275, itemTag: 0x00400009 });
    }
  });
  test('the level of each key, relational keys included', () => {
    assert.equal(condition('PatientName=X').level, 'study');
    assert.equal(condition('Modality=CT').level, 'series');
    assert.equal(condition('SOPClassUID=1.2.3').level, 'instance');
    assert.equal(condition('ModalitiesInStudy=CT').level, 'study');
    assert.equal(condition('NumberOfSeriesRelatedInstances=2', 'series').level, 'series');
    assert.equal(condition('InstanceAvailability=ONLINE', 'series').level, 'series');
  });
});

describe('values by VR (PS3.4 C.2.2.2)', () => {
  test('single values; universal when empty or "*"', () => {
    assert.deepEqual(condition('PatientID=ABC').anyOf, [{ kind: 'single', value: 'ABC' }]);
    assert.deepEqual(parse('PatientID=').conditions, []);
    assert.deepEqual(parse('PatientID').conditions, []);
    assert.deepEqual(parse('PatientName=**').conditions, []);
    assert.deepEqual(parse('PatientID=').returnTags, [0x00100020]);
  });
  test("wild cards on text VRs", () => {
    assert.deepEqual(condition('PatientName=Wang%5E*').anyOf, [{ kind: 'wildcard', pattern: 'Wang^*' }]);
    assert.deepEqual(condition('StudyDescription=?T*').anyOf, [{ kind: 'wildcard', pattern: '?T*' }]);
  });
  test('dates, times and date-times become inclusive canonical intervals', () => {
    assert.deepEqual(condition('StudyDate=20240229').anyOf, [{ kind: 'range', low: '20240229', high: '20240229' }]);
    assert.deepEqual(condition('StudyDate=20240101-20241231').anyOf, [{ kind: 'range', low: '20240101', high: '20241231' }]);
    assert.deepEqual(condition('StudyDate=20240101-').anyOf, [{ kind: 'range', low: '20240101', high: undefined }]);
    assert.deepEqual(condition('StudyDate=-20240101').anyOf, [{ kind: 'range', low: undefined, high: '20240101' }]);
    assert.deepEqual(condition('StudyTime=07').anyOf, [{ kind: 'range', low: '070000.000000', high: '075959.999999' }]);
    assert.deepEqual(condition('StudyTime=0700-123000.5').anyOf, [{ kind: 'range', low: '070000.000000', high: '123000.599999' }]);
    assert.deepEqual(condition('AcquisitionDateTime=2024').anyOf, [{ kind: 'range', low: '20240101000000.000000', high: '20241231235959.999999' }]);
    assert.deepEqual(condition('AcquisitionDateTime=202402').anyOf, [{ kind: 'range', low: '20240201000000.000000', high: '20240229235959.999999' }]);
    assert.deepEqual(condition('AcquisitionDateTime=20240101120000-0500-20240102').anyOf, [
      { kind: 'range', low: '20240101170000.000000', high: '20240102235959.999999' },
    ], 'an offset moves the bound to UTC');
    assert.deepEqual(condition('AcquisitionDateTime=20240101-0500').anyOf, [
      { kind: 'range', low: '20240101050000.000000', high: '20240102045959.999999' },
    ]);
  });
  test('UID lists with commas or backslashes; numbers by value', () => {
    assert.deepEqual(condition('StudyInstanceUID=1.2.3,1.2.4%5C1.2.5').anyOf.map((a) => (a as { value: string }).value), ['1.2.3', '1.2.4', '1.2.5']);
    assert.deepEqual(condition('SeriesNumber=007', 'series').anyOf, [{ kind: 'single', value: '7' }]);
    assert.deepEqual(condition('PatientWeight=70.50').anyOf, [{ kind: 'single', value: '70.5' }]);
  });
  test('backslash lists are alternatives', () => {
    assert.equal(condition('multiplevaluematching=true&PatientID=A%5CB%5CC').anyOf.length, 3);
    assert.deepEqual(condition('PatientID=A%5CB').anyOf, [{ kind: 'single', value: 'A\\B' }]);
    assert.equal(condition('ModalitiesInStudy=CT%5CMR').anyOf.length, 2);
    assert.equal(condition('multiplevaluematching=true&StudyDescription=a%5Cb').anyOf.length, 2);
    assert.deepEqual(condition('multiplevaluematching=true&AdditionalPatientHistory=a%5Cb').anyOf, [{ kind: 'single', value: 'a\\b' }], 'LT is one value');
  });
  test('"" is empty value matching only with emptyvaluematching=true', () => {
    assert.deepEqual(condition('emptyvaluematching=true&PatientName=""').anyOf, [{ kind: 'empty' }]);
    assert.deepEqual(condition('PatientName=""').anyOf, [{ kind: 'single', value: '""' }]);
  });
  test('private keys and Timezone Offset From UTC are returned but not matched, and said so', () => {
    const parsed = parseQidoRequest('study', {}, '00231001=X&00230010=ACME&TimezoneOffsetFromUTC=%2B0100&00231002=', LIMITS);
    assert.deepEqual(parsed.query.conditions, []);
    assert.deepEqual(parsed.query.returnTags, [0x00231001, 0x00230010, 0x00080201, 0x00231002]);
    assert.equal(parsed.ignored.length, 3);
    assert.match(parsed.ignored[0], /00231001: matching on private attributes is not supported/);
  });
  test('Specific Character Set is never matched nor returned', () => {
    const q = parse('SpecificCharacterSet=ISO_IR%20100&PatientID=X');
    assert.equal(q.conditions.length, 1);
    assert.deepEqual(q.returnTags, [0x00100020]);
  });
});

describe('includefield, fuzzymatching, limit, offset, path', () => {
  test('includefield: keyword, tag, comma list, repeated, all, sequence path', () => {
    const q = parse('includefield=PatientAge,00081030&includefield=0008103E&includefield=RequestAttributesSequence.RequestedProcedureID');
    assert.deepEqual(q.returnTags, [0x00101010, 0x00081030, 0x0008103e, 0x00400275]);
    assert.equal(q.includeAll, false);
    assert.equal(parse('includefield=all').includeAll, true);
    assert.deepEqual(parse('includefield=00091001').returnTags, [0x00091001], 'a private tag may be asked for');
  });
  test('fuzzymatching true/false; defaults', () => {
    assert.equal(parse('fuzzymatching=true').fuzzy, true);
    assert.equal(parse('fuzzymatching=false').fuzzy, false);
    assert.deepEqual(
      { fuzzy: parse('').fuzzy, limit: parse('').limit, offset: parse('').offset },
      { fuzzy: false, limit: LIMITS.defaultLimit, offset: 0 },
    );
  });
  test('the limit is capped by the server, and it says when it chose', () => {
    const none = parseQidoRequest('study', {}, '', LIMITS);
    assert.deepEqual([none.query.limit, none.serverLimited], [100, true]);
    const big = parseQidoRequest('study', {}, 'limit=5000&offset=20', LIMITS);
    assert.deepEqual([big.query.limit, big.query.offset, big.serverLimited], [1000, 20, true]);
    const asked = parseQidoRequest('study', {}, 'limit=10', LIMITS);
    assert.deepEqual([asked.query.limit, asked.serverLimited], [10, false]);
  });
  test('path UIDs', () => {
    const q = parse('', 'instance', { studyUid: '1.2.3', seriesUid: '1.2.3.4' });
    assert.deepEqual([q.level, q.studyUid, q.seriesUid], ['instance', '1.2.3', '1.2.3.4']);
  });
});

describe('bad input is a 400 with a reason', () => {
  const cases: [string, string, RegExp, QidoLevel?, object?][] = [
    ['unknown keyword', 'PatientNmae=X', /not a known attribute/],
    ['unknown tag', '99980010=X', /dictionary does not know/],
    ['repeated match key', 'StudyInstanceUID=1.2&StudyInstanceUID=1.3', /more than once/],
    ['unparseable date', 'StudyDate=2024-01-01', /not a date/],
    ['partial date', 'StudyDate=2024', /not a date/],
    ['impossible date', 'StudyDate=20230229', /not a date/],
    ['bad range', 'StudyDate=20240101-2024', /not a date/],
    ['two open ends', 'StudyDate=-', /not a date/],
    ['bad time', 'StudyTime=2500', /not a time/],
    ['time with colons', 'StudyTime=12:00', /not a time/],
    ['bad date-time offset', 'AcquisitionDateTime=20240101+2500', /not a date-time/],
    ['bad UID', 'StudyInstanceUID=1.2.abc', /not a valid UID/],
    ['UID with leading zero', 'StudyInstanceUID=1.02', /not a valid UID/],
    ['empty list item', 'StudyInstanceUID=1.2,', /empty value/],
    ['not a number', 'SeriesNumber=one', /not a number/],
    ['bad tag value', 'DataElementsSigned=xyz', /not a tag/],
    ['limit=-1', 'limit=-1', /limit must be a whole number/],
    ['limit=0', 'limit=0', /at least 1/],
    ['limit=1.5', 'limit=1.5', /whole number/],
    ['offset=abc', 'offset=abc', /offset must be a whole number/],
    ['offset empty', 'offset=', /whole number/],
    ['repeated limit', 'limit=1&limit=2', /more than once/],
    ['fuzzymatching=maybe', 'fuzzymatching=maybe', /true or false/],
    ['fuzzymatching=TRUE', 'fuzzymatching=TRUE', /true or false/],
    ['emptyvaluematching=1', 'emptyvaluematching=1', /true or false/],
    ['bad percent escape', 'PatientID=%G1', /percent-encoding/],
    ['includefield unknown', 'includefield=Nope', /includefield "Nope"/],
    ['includefield empty item', 'includefield=PatientID,', /empty includefield/],
    ['nested two levels', 'A.B.C=1', /deeper than one sequence item/],
    ['sequence without item key', 'RequestAttributesSequence=X', /through an attribute of its items/],
    ['item key of a non-sequence', 'PatientID.PatientName=X', /not a sequence/],
    ['instance-level sequence', 'ReferencedImageSequence.ReferencedSOPInstanceUID=1.2', /study and series attributes/],
    ['binary attribute', 'PixelData=abc', /hold bytes/],
    ['Retrieve URL', 'RetrieveURL=http://x', /returned, not matched/],
    ['bad study UID in the path', '', /not a valid Study Instance UID/, 'series', { studyUid: '1.2.x' }],
    ['bad series UID in the path', '', /not a valid Series Instance UID/, 'instance', { studyUid: '1.2', seriesUid: '' }],
  ];
  for (const [name, q, reason, level, path] of cases) {
    test(name, () => {
      assert.throws(
        () => parseQidoRequest(level ?? 'study', path ?? {}, q, LIMITS),
        (e: unknown) => {
          assert.ok(e instanceof InvalidQuery, `${String(e)}`);
          assert.equal(e.status, 400);
          assert.match(e.message, reason);
          return true;
        },
      );
    });
  }
});
