import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EDGE_DEFAULTS, EdgeDestinationConfig, InstanceConditions } from '../../src/config/edge-config';
import { DicomJsonObject } from '../../src/dicom/dicom-json';
import { attributeKey, describeConditions, matchesConditions } from '../../src/dicom/instance-conditions';
import { destinationsFor } from '../../src/forwarding/routing';

const CT: DicomJsonObject = {
  '00080060': { vr: 'CS', Value: ['CT'] },
  '00080080': { vr: 'LO', Value: ['General Hospital'] },
  '00081010': { vr: 'SH', Value: ['CT01'] },
  '00081030': { vr: 'LO', Value: ['Head STROKE protocol'] },
  '00081060': { vr: 'PN', Value: [{ Alphabetic: 'House^Gregory' }, { Alphabetic: 'Cuddy^Lisa', Ideographic: 'カディ' }] },
  '00200011': { vr: 'IS', Value: [3] },
  '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3'] } }] },
};
const MR: DicomJsonObject = { '00080060': { vr: 'CS', Value: ['MR'] } };

const match = (conditions: InstanceConditions, client?: string, metadata = CT) => matchesConditions(metadata, conditions, client);

test('empty conditions hold for every instance', () => {
  assert.equal(match({}), true);
  assert.equal(match({}, undefined, {}), true);
});

test('modality and station: one of the listed values, any case; absent attribute never matches', () => {
  assert.equal(match({ modality: ['MR', 'ct'] }), true);
  assert.equal(match({ modality: ['MR'] }), false);
  assert.equal(match({ station: ['ct01'] }), true);
  assert.equal(match({ station: ['CT02'] }), false);
  assert.equal(match({ station: ['CT01'] }, undefined, MR), false);
  assert.equal(match({ modality: [] }), false);
});

test('callingClient: exact, and unknown client never matches a client condition', () => {
  assert.equal(match({ callingClient: ['ct-scanner-1', 'ct-scanner-2'] }, 'ct-scanner-2'), true);
  assert.equal(match({ callingClient: ['ct-scanner-1'] }, 'CT-SCANNER-1'), false);
  assert.equal(match({ callingClient: ['ct-scanner-1'] }), false);
});

test('attributes by keyword or tag; strings as they are, numbers as strings, PN by their Alphabetic form', () => {
  assert.equal(match({ attributes: { StudyDescription: /stroke|code/i } }), true);
  assert.equal(match({ attributes: { StudyDescription: /stroke|code/ } }), false, 'the pattern decides case');
  assert.equal(match({ attributes: { '00080080': /^General/i } }), true);
  assert.equal(match({ attributes: { '00080080': /^Hospital/i } }), false);
  assert.equal(match({ attributes: { '0008103e': /./ } }), false, 'absent (lower-case tag resolved)');
  assert.equal(match({ attributes: { SeriesNumber: /^3$/ } }), true);
  // Any value of a multi-valued attribute; PN as "Family^Given".
  assert.equal(match({ attributes: { NameOfPhysiciansReadingStudy: /^cuddy\^lisa$/i } }), true);
  assert.equal(match({ attributes: { NameOfPhysiciansReadingStudy: /カディ/ } }), false);
  // A sequence has no text value; an unknown name cannot be met.
  assert.equal(match({ attributes: { ReferencedSeriesSequence: /./ } }), false);
  assert.equal(match({ attributes: { NoSuchKeyword: /./ } }), false);
});

test('PN with no Alphabetic group is matched in its PS3.5 form', () => {
  const metadata = { '00100010': { vr: 'PN', Value: [{ Ideographic: '山田^太郎' }] } };
  assert.equal(matchesConditions(metadata, { attributes: { PatientName: /^=山田\^太郎$/ } }), true);
});

test('every condition must hold', () => {
  const conditions: InstanceConditions = {
    modality: ['CT'],
    station: ['CT01'],
    callingClient: ['ct-scanner-1'],
    attributes: { StudyDescription: /stroke/i, InstitutionName: /general/i },
  };
  assert.equal(match(conditions, 'ct-scanner-1'), true);
  assert.equal(match(conditions, 'other'), false);
  assert.equal(match({ ...conditions, attributes: { StudyDescription: /stroke/i, InstitutionName: /county/i } }, 'ct-scanner-1'), false);
});

test('a pattern with the g flag gives the same answer every time', () => {
  const conditions = { attributes: { StudyDescription: /stroke/gi } };
  assert.deepEqual([match(conditions), match(conditions), match(conditions)], [true, true, true]);
});

test('attributeKey and describeConditions', () => {
  assert.equal(attributeKey('StudyDescription'), '00081030');
  assert.equal(attributeKey('0008103e'), '0008103E');
  assert.equal(attributeKey('studydescription'), undefined);
  assert.equal(attributeKey('0008103'), undefined);
  assert.equal(
    describeConditions({ modality: ['CT', 'MR'], station: ['CT01'], callingClient: ['a'], attributes: { StudyDescription: /stroke|code/i } }),
    'modality CT,MR, station CT01, callingClient a, StudyDescription /stroke|code/',
  );
  assert.equal(describeConditions({}), 'any instance');
});

function destination(store: string, routes?: InstanceConditions[]): EdgeDestinationConfig {
  return {
    store,
    ...(routes ? { routes } : {}),
    retention: { mode: 'keep' },
    batchSize: EDGE_DEFAULTS.batchSize,
    maxAttempts: EDGE_DEFAULTS.maxAttempts,
    backoff: { ...EDGE_DEFAULTS.backoff },
    statConcurrency: EDGE_DEFAULTS.statConcurrency,
    routineConcurrency: EDGE_DEFAULTS.routineConcurrency,
  };
}

test('destinationsFor: no routes takes everything, routes take an instance matching any of them, order kept', () => {
  const all = destination('archive');
  const ctOrStroke = destination('neuro-ai', [{ modality: ['MR'] }, { attributes: { StudyDescription: /stroke/i } }]);
  const fromScanner = destination('cloud', [{ callingClient: ['ct-scanner-1'] }]);
  const mrOnly = destination('mr-archive', [{ modality: ['MR'] }]);
  const destinations = [all, ctOrStroke, fromScanner, mrOnly];
  assert.deepEqual(destinationsFor(CT, 'ct-scanner-1', destinations).map((d) => d.store), ['archive', 'neuro-ai', 'cloud']);
  assert.deepEqual(destinationsFor(CT, undefined, destinations).map((d) => d.store), ['archive', 'neuro-ai']);
  assert.deepEqual(destinationsFor(MR, 'ct-scanner-1', destinations).map((d) => d.store), ['archive', 'neuro-ai', 'cloud', 'mr-archive']);
  assert.deepEqual(destinationsFor({}, undefined, destinations).map((d) => d.store), ['archive']);
  assert.equal(destinationsFor(CT, undefined, destinations)[0], all, 'the configured objects themselves');
});

test('destinationsFor: an empty routes list takes nothing; no destinations, nothing', () => {
  assert.deepEqual(destinationsFor(CT, 'x', [destination('none', [])]), []);
  assert.deepEqual(destinationsFor(CT, 'x', []), []);
});
