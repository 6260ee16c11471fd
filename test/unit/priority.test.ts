import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomJsonObject } from '../../src/dicom/dicom-json';
import {
  higherPriority,
  instancePriority,
  parsePriority,
  PRIORITY_LEVELS,
  PriorityRule,
  priorityRank,
} from '../../src/dicom/priority';

const cs = (...values: unknown[]) => ({ vr: 'CS', Value: values });
const sh = (...values: unknown[]) => ({ vr: 'SH', Value: values });
const sq = (...items: DicomJsonObject[]) => ({ vr: 'SQ', Value: items });

const REQUESTED_PROCEDURE_PRIORITY = '00401003';
const REPORTING_PRIORITY = '00401009';
const STUDY_PRIORITY_ID = '0032000C';
const UPS_PRIORITY = '00741200';
const GPSPS_PRIORITY = '00404003';
const REQUEST_ATTRIBUTES = '00400275';
const SCHEDULED_STEP = '00400100';

const CT_STROKE: DicomJsonObject = {
  '00080060': cs('CT'),
  '00081010': sh('CT01'),
  '00081030': { vr: 'LO', Value: ['Head STROKE protocol'] },
};

const none = { rules: [] };
const priority = (metadata: DicomJsonObject, options: Parameters<typeof instancePriority>[1] = none) =>
  instancePriority(metadata, options);

test('nothing says anything: ROUTINE, no reasons', () => {
  assert.deepEqual(priority({}), { level: 'ROUTINE', reasons: [] });
  assert.deepEqual(priority(CT_STROKE), { level: 'ROUTINE', reasons: [] });
  // Present but empty, or a null value: nothing to read.
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: { vr: 'SH' } }), { level: 'ROUTINE', reasons: [] });
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh(null) }), { level: 'ROUTINE', reasons: [] });
});

test('Requested Procedure Priority at the top level, any case, trimmed', () => {
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('STAT') }), {
    level: 'STAT',
    reasons: ['RequestedProcedurePriority (0040,1003) STAT'],
  });
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh(' stat ') }), {
    level: 'STAT',
    reasons: ['RequestedProcedurePriority (0040,1003) STAT'],
  });
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('High') }), {
    level: 'HIGH',
    reasons: ['RequestedProcedurePriority (0040,1003) HIGH'],
  });
});

test('a LOW source gives LOW: ROUTINE is the default when nothing is said, not a floor', () => {
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('LOW') }), {
    level: 'LOW',
    reasons: ['RequestedProcedurePriority (0040,1003) LOW'],
  });
});

test('in every item of the Request Attributes Sequence', () => {
  const metadata = {
    [REQUEST_ATTRIBUTES]: sq({ [REQUESTED_PROCEDURE_PRIORITY]: sh('ROUTINE') }, { [REQUESTED_PROCEDURE_PRIORITY]: sh('STAT') }),
  };
  assert.deepEqual(priority(metadata), {
    level: 'STAT',
    reasons: [
      'RequestedProcedurePriority (0040,1003) ROUTINE in Request Attributes Sequence',
      'RequestedProcedurePriority (0040,1003) STAT in Request Attributes Sequence',
    ],
  });
});

test('Study Priority ID (retired) and Reporting Priority, with the order terms MED and MEDIUM as ROUTINE', () => {
  assert.deepEqual(priority({ [STUDY_PRIORITY_ID]: cs('HIGH') }), { level: 'HIGH', reasons: ['StudyPriorityID (0032,000C) HIGH'] });
  assert.deepEqual(priority({ [STUDY_PRIORITY_ID]: cs('MED') }), {
    level: 'ROUTINE',
    reasons: ['StudyPriorityID (0032,000C) MED (= ROUTINE)'],
  });
  assert.deepEqual(priority({ [REPORTING_PRIORITY]: sh('MEDIUM') }), {
    level: 'ROUTINE',
    reasons: ['ReportingPriority (0040,1009) MEDIUM (= ROUTINE)'],
  });
  assert.deepEqual(priority({ [REPORTING_PRIORITY]: sh('STAT') }), { level: 'STAT', reasons: ['ReportingPriority (0040,1009) STAT'] });
});

test('UPS and GP-SPS step priorities: HIGH is STAT, MEDIUM is HIGH, LOW is routine (PS3.3 C.30.2)', () => {
  assert.deepEqual(priority({ [UPS_PRIORITY]: cs('HIGH') }), {
    level: 'STAT',
    reasons: ['ScheduledProcedureStepPriority (0074,1200) HIGH (= STAT)'],
  });
  assert.deepEqual(priority({ [UPS_PRIORITY]: cs('MEDIUM') }), {
    level: 'HIGH',
    reasons: ['ScheduledProcedureStepPriority (0074,1200) MEDIUM (= HIGH)'],
  });
  assert.deepEqual(priority({ [UPS_PRIORITY]: cs('LOW') }), {
    level: 'ROUTINE',
    reasons: ['ScheduledProcedureStepPriority (0074,1200) LOW (= ROUTINE)'],
  });
  // A term of the order scale in a step attribute keeps its order meaning.
  assert.deepEqual(priority({ [UPS_PRIORITY]: cs('STAT') }), {
    level: 'STAT',
    reasons: ['ScheduledProcedureStepPriority (0074,1200) STAT'],
  });
  assert.deepEqual(priority({ [SCHEDULED_STEP]: sq({ [GPSPS_PRIORITY]: cs('high') }) }), {
    level: 'STAT',
    reasons: ['GeneralPurposeScheduledProcedureStepPriority (0040,4003) HIGH (= STAT) in Scheduled Procedure Step Sequence'],
  });
  assert.deepEqual(priority({ [SCHEDULED_STEP]: sq({ [UPS_PRIORITY]: cs('MEDIUM') }) }), {
    level: 'HIGH',
    reasons: ['ScheduledProcedureStepPriority (0074,1200) MEDIUM (= HIGH) in Scheduled Procedure Step Sequence'],
  });
});

test('equivalents: S, EMERGENCY, EM are STAT; ASAP, A, URGENT, UR are HIGH; R is ROUTINE', () => {
  const level = (term: string) => priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh(term) }).level;
  assert.deepEqual(
    ['S', 'EMERGENCY', 'em', 'ASAP', 'a', 'URGENT', 'ur', 'R', 'ROUTINE', 'MEDIUM', 'MED'].map(level),
    ['STAT', 'STAT', 'STAT', 'HIGH', 'HIGH', 'HIGH', 'HIGH', 'ROUTINE', 'ROUTINE', 'ROUTINE', 'ROUTINE'],
  );
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('Emergency') }).reasons, ['RequestedProcedurePriority (0040,1003) EMERGENCY (= STAT)']);
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('asap') }).reasons, ['RequestedProcedurePriority (0040,1003) ASAP (= HIGH)']);
});

test('unknown values are ignored, with a reason; numbers are not priority terms', () => {
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh(' Fast ') }), {
    level: 'ROUTINE',
    reasons: ['RequestedProcedurePriority (0040,1003) "Fast" ignored: not a known priority'],
  });
  assert.deepEqual(priority({ [REQUEST_ATTRIBUTES]: sq({ [REQUESTED_PROCEDURE_PRIORITY]: sh('P1') }), [STUDY_PRIORITY_ID]: cs('LOW') }), {
    level: 'LOW',
    reasons: ['StudyPriorityID (0032,000C) LOW', 'RequestedProcedurePriority (0040,1003) "P1" in Request Attributes Sequence ignored: not a known priority'],
  });
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: { vr: 'SH', Value: [1] } }), { level: 'ROUTINE', reasons: [] });
});

test('only one level deep, and only in the request sequences: other items describe other objects', () => {
  const deeper = {
    [REQUEST_ATTRIBUTES]: sq({ '00081110': sq({ [REQUESTED_PROCEDURE_PRIORITY]: sh('STAT') }) }),
    // Referenced Series Sequence: not where this instance's order is.
    '00081115': sq({ [REQUESTED_PROCEDURE_PRIORITY]: sh('STAT') }),
  };
  assert.deepEqual(priority(deeper), { level: 'ROUTINE', reasons: [] });
});

test('operator rules: a matching rule raises to its priority, with the rule in the reasons', () => {
  const rules: PriorityRule[] = [
    { when: { modality: ['MR'] }, priority: 'HIGH' },
    { when: { modality: ['CT'], attributes: { StudyDescription: /stroke|code/i } }, priority: 'STAT' },
  ];
  assert.deepEqual(priority(CT_STROKE, { rules }), {
    level: 'STAT',
    reasons: ['rule 2 (modality CT, StudyDescription /stroke|code/) STAT'],
  });
  const routineCt = { ...CT_STROKE, '00081030': { vr: 'LO', Value: ['Chest'] } };
  assert.deepEqual(priority(routineCt, { rules }), { level: 'ROUTINE', reasons: [] });
});

test('a rule gives at least its priority: a LOW rule does not lower what the instance says', () => {
  const rules: PriorityRule[] = [{ when: { station: ['ct01'] }, priority: 'LOW' }];
  assert.deepEqual(priority({ ...CT_STROKE, [REQUESTED_PROCEDURE_PRIORITY]: sh('HIGH') }, { rules }), {
    level: 'HIGH',
    reasons: ['RequestedProcedurePriority (0040,1003) HIGH', 'rule 1 (station ct01) LOW'],
  });
});

test('rules on the calling client', () => {
  const rules: PriorityRule[] = [{ when: { callingClient: ['er-scanner'] }, priority: 'STAT' }];
  assert.equal(priority(CT_STROKE, { rules, callingClient: 'er-scanner' }).level, 'STAT');
  assert.deepEqual(priority(CT_STROKE, { rules, callingClient: 'ward-scanner' }), { level: 'ROUTINE', reasons: [] });
  assert.deepEqual(priority(CT_STROKE, { rules }), { level: 'ROUTINE', reasons: [] });
});

test('a client request counts like any other source', () => {
  assert.deepEqual(priority(CT_STROKE, { rules: [], requested: 'STAT' }), { level: 'STAT', reasons: ['requested by the client STAT'] });
  assert.deepEqual(priority({}, { rules: [], requested: 'LOW' }), { level: 'LOW', reasons: ['requested by the client LOW'] });
  // It cannot lower what the instance says.
  assert.deepEqual(priority({ [REQUESTED_PROCEDURE_PRIORITY]: sh('STAT') }, { rules: [], requested: 'LOW' }), {
    level: 'STAT',
    reasons: ['RequestedProcedurePriority (0040,1003) STAT', 'requested by the client LOW'],
  });
});

test('the highest of every source wins; reasons list them all in order', () => {
  const metadata = {
    ...CT_STROKE,
    [STUDY_PRIORITY_ID]: cs('LOW'),
    [REQUESTED_PROCEDURE_PRIORITY]: sh('ROUTINE'),
    [REQUEST_ATTRIBUTES]: sq({ [REQUESTED_PROCEDURE_PRIORITY]: sh('HIGH') }),
  };
  const rules: PriorityRule[] = [{ when: { modality: ['ct'] }, priority: 'HIGH' }];
  assert.deepEqual(priority(metadata, { rules, requested: 'ROUTINE' }), {
    level: 'HIGH',
    reasons: [
      'RequestedProcedurePriority (0040,1003) ROUTINE',
      'StudyPriorityID (0032,000C) LOW',
      'RequestedProcedurePriority (0040,1003) HIGH in Request Attributes Sequence',
      'rule 1 (modality ct) HIGH',
      'requested by the client ROUTINE',
    ],
  });
  const withUps = { ...metadata, [UPS_PRIORITY]: cs('HIGH') };
  assert.equal(priority(withUps, { rules, requested: 'ROUTINE' }).level, 'STAT');
});

test('parsePriority: the four levels in any case and the STAT equivalents, nothing else', () => {
  const parsed = ['STAT', 'stat', ' High ', 'routine', 'Low', 'S', 'emergency', 'EM'].map(parsePriority);
  assert.deepEqual(parsed, ['STAT', 'STAT', 'HIGH', 'ROUTINE', 'LOW', 'STAT', 'STAT', 'STAT']);
  for (const refused of ['', ' ', 'ASAP', 'URGENT', 'MEDIUM', 'MED', 'R', 'STATT', 'HIGH LOW']) {
    assert.equal(parsePriority(refused), undefined, refused);
  }
});

test('priorityRank orders STAT first, and higherPriority picks the more urgent', () => {
  assert.deepEqual(PRIORITY_LEVELS.map(priorityRank), [0, 1, 2, 3]);
  assert.deepEqual(['STAT', 'HIGH', 'ROUTINE', 'LOW'].map((l) => priorityRank(l as 'STAT')), [0, 1, 2, 3]);
  assert.equal(higherPriority('LOW', 'HIGH'), 'HIGH');
  assert.equal(higherPriority('STAT', 'ROUTINE'), 'STAT');
  assert.equal(higherPriority('ROUTINE', 'LOW'), 'ROUTINE');
  assert.equal(higherPriority('HIGH', 'HIGH'), 'HIGH');
});
