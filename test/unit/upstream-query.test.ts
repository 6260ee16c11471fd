/**
 * The QIDO query as an upstream receives it (upstream-query.ts), and the matching done at the
 * gateway on what such an upstream answers (qido-post-filter.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { planUpstreamQuery } from '../../src/stores/dicomweb/upstream-query';
import { splitResult } from '../../src/stores/dicomweb/upstream-results';
import { matchesAll } from '../../src/stores/qido-post-filter';
import { QidoLevel, QidoMatch } from '../../src/stores/qido-query';

const LIMITS = { defaultLimit: 100, maxLimit: 1000 };
const plan = (level: QidoLevel, query: string, percentEncode: boolean) => {
  const parsed = parseQidoRequest(level, {}, query, LIMITS).query;
  return { ...planUpstreamQuery(parsed, { percentEncode }), query: parsed };
};
const pn = (alphabetic: string, ideographic?: string) => ({ vr: 'PN', Value: [ideographic ? { Alphabetic: alphabetic, Ideographic: ideographic } : { Alphabetic: alphabetic }] });

describe('to a standard upstream: every value percent-encoded (RFC 3986)', () => {
  test('names, wildcards, non-ASCII letters and UID lists', () => {
    const { params, atGateway } = plan('study', 'PatientName=Wang%5E*&PatientID=A%26B&StudyInstanceUID=1.2.3,1.2.4', true);
    assert.deepEqual(atGateway, []);
    assert.ok(params.includes('00100010=Wang%5E*'), params.join('&'));
    assert.ok(params.includes('00100020=A%26B'));
    assert.ok(params.includes('0020000D=1.2.3,1.2.4'));
    assert.ok(plan('study', 'PatientName=M%C3%BCller*', true).params.includes('00100010=M%C3%BCller*'));
  });

  test('lists, empty values, dates and times as DICOM ranges', () => {
    const { params } = plan('study', 'multiplevaluematching=true&emptyvaluematching=true&ModalitiesInStudy=CT%5CMR&AccessionNumber=%22%22&StudyDate=20240101&StudyTime=1015', true);
    assert.ok(params.includes('00080061=CT%5CMR'), params.join('&'));
    assert.ok(params.includes('00080050=%22%22'));
    assert.ok(params.includes('multiplevaluematching=true'));
    assert.ok(params.includes('emptyvaluematching=true'));
    assert.ok(params.includes('00080020=20240101'), 'a single date is sent as itself');
    assert.ok(params.includes('00080030=101500-101559'), 'a time is the interval it names');
    assert.ok(plan('study', 'StudyDate=20240101-', true).params.includes('00080020=20240101-'));
  });

  test('includefield, all, and fuzzy matching passed on (with a Warning)', () => {
    const { params, notes } = plan('study', 'includefield=all&includefield=StudyDescription&fuzzymatching=true&PatientName=jose', true);
    assert.ok(params.includes('includefield=all'));
    assert.ok(params.includes('includefield=00081030'));
    assert.ok(params.includes('fuzzymatching=true'));
    assert.ok(notes.some((n) => /fuzzymatching/.test(n)));
  });
});

describe('to an upstream that does not percent-decode (Orthanc)', () => {
  test('values that can travel raw go raw', () => {
    const { params, atGateway } = plan('study', 'PatientName=Wang%5E*&StudyDate=20240101-20240131', false);
    assert.ok(params.includes('00100010=Wang^*'), params.join('&'));
    assert.ok(params.includes('00080020=20240101-20240131'));
    assert.deepEqual(atGateway, []);
  });

  test("what cannot travel raw, and '?', is widened and matched at the gateway", () => {
    const { params, atGateway } = plan('study', 'PatientName=M%C3%BCller*&StudyDescription=Whole%20Body*&PatientID=AB%3F1', false);
    assert.ok(params.includes('00100010=M*ller*'), params.join('&'));
    assert.ok(params.includes('00081030=Whole*Body*'));
    assert.ok(params.includes('00100020=AB*1'), "'?' stands for one byte there, one character here");
    assert.deepEqual(atGateway.map((c) => c.attribute.tag), [0x00100010, 0x00081030, 0x00100020]);
    for (const tag of ['00100010', '00081030', '00100020']) assert.ok(params.includes(`includefield=${tag}`));
  });

  test('lists and empty values are not sent; the attribute is asked for and matched at the gateway', () => {
    const { params, atGateway } = plan('study', 'multiplevaluematching=true&ModalitiesInStudy=CT%5CPT&PatientID=A%5CB', false);
    assert.ok(!params.some((p) => p.startsWith('00080061=') || p.startsWith('00100020=')), params.join('&'));
    assert.ok(params.includes('includefield=00080061'));
    assert.equal(atGateway.length, 2);
    const empty = plan('study', 'emptyvaluematching=true&AccessionNumber=%22%22', false);
    assert.equal(empty.atGateway[0].anyOf[0].kind, 'empty');
  });

  test('a relational key that cannot travel raw is widened, and the answer says so', () => {
    const { params, atGateway, notes } = plan('study', 'SeriesDescription=Kopf%20axial', false);
    assert.ok(params.includes('0008103E=Kopf*axial'));
    assert.deepEqual(atGateway, []);
    assert.ok(notes.some((n) => /0008103E.*matched there as Kopf\*axial/.test(n)), notes.join('; '));
  });
});

describe('matching at the gateway, by the embedded store rules', () => {
  const study = (attrs: Record<string, unknown>): QidoMatch => ({ study: attrs as QidoMatch['study'] });
  const matches = (query: string, attrs: Record<string, unknown>) => {
    const { atGateway } = plan('study', query, false);
    assert.ok(atGateway.length > 0, `${query} is matched at the gateway`);
    return matchesAll(study(attrs), atGateway);
  };

  test('person names: case ignored, each component group on its own, one character per ?', () => {
    assert.equal(matches('PatientName=M%C3%BCller*', { '00100010': pn('Müller^Hans') }), true);
    assert.equal(matches('PatientName=m%C3%BCller*', { '00100010': pn('MÜLLER^HANS') }), true);
    assert.equal(matches('PatientName=M%C3%BCller*', { '00100010': pn('Muller^Hans') }), false, 'accents are not ignored');
    assert.equal(matches('PatientName=M?ller*', { '00100010': pn('Müller^Hans') }), true);
    assert.equal(matches('PatientName=%E5%B1%B1%E7%94%B0*', { '00100010': pn('Yamada^Tarou', '山田^太郎') }), true);
  });

  test('other text exactly, lists as any of them, empty as absent or without a value', () => {
    assert.equal(matches('StudyDescription=Whole%20Body%20Bone', { '00081030': { vr: 'LO', Value: ['Whole Body Bone'] } }), true);
    assert.equal(matches('StudyDescription=Whole%20Body%20Bone', { '00081030': { vr: 'LO', Value: ['whole body bone'] } }), false);
    assert.equal(matches('multiplevaluematching=true&ModalitiesInStudy=CT%5CPT', { '00080061': { vr: 'CS', Value: ['MR', 'PT'] } }), true);
    assert.equal(matches('multiplevaluematching=true&ModalitiesInStudy=CT%5CPT', { '00080061': { vr: 'CS', Value: ['MR'] } }), false);
    assert.equal(matches('emptyvaluematching=true&AccessionNumber=%22%22', { '00080050': { vr: 'SH' } }), true);
    assert.equal(matches('emptyvaluematching=true&AccessionNumber=%22%22', {}), true);
    assert.equal(matches('emptyvaluematching=true&AccessionNumber=%22%22', { '00080050': { vr: 'SH', Value: ['A1'] } }), false);
  });
});

describe("an upstream's results, split into levels", () => {
  test('each attribute to its level; the upstream Retrieve URL and character set dropped; names as the embedded store writes them', () => {
    const match = splitResult(
      {
        '0020000D': { vr: 'UI', Value: ['1.2.3'] },
        '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
        '00080060': { vr: 'CS', Value: ['CT'] },
        '00080080': { vr: 'LO', Value: ['Hospital'] },
        '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] },
        '00081190': { vr: 'UR', Value: ['http://orthanc:8042/dicom-web/studies/1.2.3/series/1.2.3.4'] },
        '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
        '00100010': pn('^^^^'),
        '00080090': { vr: 'PN', Value: [{ Alphabetic: 'House^Gregory^^^' }] },
      },
      'series',
    );
    assert.deepEqual(Object.keys(match.study).sort(), ['00080090', '0020000D', '00100010'].sort());
    assert.deepEqual(Object.keys(match.series!).sort(), ['00080060', '00080080', '0020000E']);
    assert.equal(match.instance, undefined, 'instance attributes are not part of a series result');
    assert.deepEqual(match.study['00100010'], { vr: 'PN' });
    assert.deepEqual(match.study['00080090'].Value, [{ Alphabetic: 'House^Gregory' }]);
  });
});
