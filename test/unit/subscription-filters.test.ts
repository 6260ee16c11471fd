import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DicomJsonObject } from '../../src/dicom/dicom-json';
import { BadRequest } from '../../src/dicomweb/errors';
import { EventsDatabase } from '../../src/events/events-database';
import { StudyEvent, StudyFacts } from '../../src/events/study-event';
import { compileFilters, filtersMatch, parseFilters, SubscriptionFilters } from '../../src/events/subscriptions/subscription-filters';
import { SubscriptionStore } from '../../src/events/subscriptions/subscription-store';
import { NotFound } from '../../src/stores/store-errors';
import { makeTempDir } from '../helpers/temp-dir';

function event(overrides: Partial<StudyEvent> = {}): StudyEvent {
  return {
    id: 'evt_1',
    type: 'stable',
    time: '2025-01-01T00:00:00.000Z',
    store: 'local',
    studyInstanceUid: '1.2.3',
    seriesInstanceUids: ['1.2.3.1'],
    modalities: ['CT', 'SR'],
    sopClassUids: ['1.2.840.10008.5.1.4.1.1.2'],
    bodyParts: ['HEAD'],
    stations: ['CT01'],
    priority: 'ROUTINE',
    series: 1,
    instances: 3,
    ...overrides,
  };
}

const SAMPLE: DicomJsonObject = {
  '00080060': { vr: 'CS', Value: ['CT'] },
  '00081030': { vr: 'LO', Value: ['Head STROKE protocol'] },
  '00080080': { vr: 'LO', Value: ['General Hospital'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] },
};

/** Validates like the API does, then matches. */
function matches(filters: unknown, facts: StudyFacts = { event: event(), sample: SAMPLE }): boolean {
  return filtersMatch(compileFilters(parseFilters(filters)), facts);
}

function rejects(filters: unknown, ...reasons: RegExp[]): void {
  assert.throws(
    () => parseFilters(filters),
    (e: unknown) => {
      assert.ok(e instanceof BadRequest, `expected BadRequest, got ${String(e)}`);
      for (const reason of reasons) assert.match(e.message, reason);
      return true;
    },
  );
}

describe('subscription filters: matching', () => {
  test('no filter matches every event, with or without a sample', () => {
    assert.equal(matches({}), true);
    assert.equal(matches({}, { event: event() }), true);
  });

  test('stores: the event store is one of them (exact)', () => {
    assert.equal(matches({ stores: ['archive', 'local'] }), true);
    assert.equal(matches({ stores: ['archive'] }), false);
    assert.equal(matches({ stores: ['LOCAL'] }), false);
  });

  test('modalities: any overlap with the study modalities, case-insensitive', () => {
    assert.equal(matches({ modalities: ['MR', 'SR'] }), true);
    assert.equal(matches({ modalities: ['ct'] }), true);
    assert.equal(matches({ modalities: ['MR'] }), false);
    assert.equal(matches({ modalities: ['CT'] }, { event: event({ modalities: [] }) }), false);
  });

  test('bodyParts and stations: any overlap, case-insensitive and trimmed', () => {
    assert.equal(matches({ bodyParts: ['head'] }), true);
    assert.equal(matches({ bodyParts: ['CHEST'] }), false);
    assert.equal(matches({ stations: [' ct01 '] }), true);
    assert.equal(matches({ stations: ['MR01'] }), false);
    assert.equal(matches({ bodyParts: ['HEAD'] }, { event: event({ bodyParts: [] }) }), false);
  });

  test('sopClasses: any of the study SOP classes', () => {
    assert.equal(matches({ sopClasses: ['1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.2'] }), true);
    assert.equal(matches({ sopClasses: ['1.2.840.10008.5.1.4.1.1.4'] }), false);
  });

  test('priorities: the event priority, case-insensitive either side', () => {
    assert.equal(matches({ priorities: ['stat', 'routine'] }), true);
    assert.equal(matches({ priorities: ['STAT'] }), false);
    assert.equal(matches({ priorities: ['STAT'] }, { event: event({ priority: 'stat' }) }), true);
    assert.deepEqual(parseFilters({ priorities: ['stat', 'STAT', 'High'] }).priorities, ['STAT', 'HIGH']);
  });

  test('attributes: by keyword or tag, case-insensitive regex on the sample values', () => {
    assert.equal(matches({ attributes: { StudyDescription: 'stroke' } }), true);
    assert.equal(matches({ attributes: { '00081030': '^head .*protocol$' } }), true);
    assert.equal(matches({ attributes: { StudyDescription: '^stroke' } }), false);
    assert.equal(matches({ attributes: { PatientName: '^doe\\^' } }), true, 'person names by their Alphabetic group');
    assert.equal(matches({ attributes: { BodyPartExamined: '.*' } }), false, 'an attribute the sample lacks never matches');
    // every attribute must match
    assert.equal(matches({ attributes: { StudyDescription: 'stroke', InstitutionName: 'general' } }), true);
    assert.equal(matches({ attributes: { StudyDescription: 'stroke', InstitutionName: 'other' } }), false);
  });

  test('attributes: without a sample, the filter does not hold', () => {
    assert.equal(matches({ attributes: { StudyDescription: '.*' } }, { event: event() }), false);
  });

  test('every present filter must hold', () => {
    assert.equal(matches({ modalities: ['CT'], stores: ['local'], priorities: ['ROUTINE'], attributes: { StudyDescription: 'stroke' } }), true);
    assert.equal(matches({ modalities: ['CT'], stores: ['local'], priorities: ['STAT'] }), false);
    assert.equal(matches({ modalities: ['CT'], bodyParts: ['CHEST'] }), false);
  });

  test('compiled filters give the same answer every time', () => {
    const compiled = compileFilters(parseFilters({ attributes: { StudyDescription: 'stroke' } }));
    for (let i = 0; i < 3; i++) assert.equal(filtersMatch(compiled, { event: event(), sample: SAMPLE }), true);
  });
});

describe('subscription filters: validation', () => {
  test('normalises: values trimmed, duplicates removed', () => {
    assert.deepEqual(parseFilters({ modalities: [' CT', 'CT', 'MR'] }), { modalities: ['CT', 'MR'] });
  });

  test('unknown filter keys are refused (a typo must not match everything)', () => {
    rejects({ modality: ['CT'] }, /unknown filter "modality"/);
  });

  test('not an object', () => {
    rejects([], /filters: expected an object/);
    rejects('CT', /filters: expected an object/);
    rejects(null, /filters: expected an object/);
  });

  test('lists: arrays of non-empty strings, not empty', () => {
    rejects({ modalities: 'CT' }, /filters\.modalities: expected an array/);
    rejects({ modalities: [] }, /filters\.modalities: must not be empty/);
    rejects({ stations: [''] }, /filters\.stations: every value must be a non-empty string/);
    rejects({ stores: [3] }, /filters\.stores: every value/);
    rejects({ sopClasses: new Array(101).fill('1.2') }, /at most 100/);
  });

  test('priorities: only STAT, HIGH, ROUTINE, LOW', () => {
    rejects({ priorities: ['URGENT'] }, /unknown priority "URGENT"/);
  });

  test('attributes: unknown keyword, invalid regex, empty or non-string pattern', () => {
    rejects({ attributes: { NoSuchKeyword: 'x' } }, /filters\.attributes\.NoSuchKeyword: not a DICOM keyword/);
    rejects({ attributes: { StudyDescription: '(unclosed' } }, /filters\.attributes\.StudyDescription: invalid regular expression/);
    rejects({ attributes: { StudyDescription: '' } }, /expected a regular expression/);
    rejects({ attributes: { StudyDescription: 5 } }, /expected a regular expression/);
    rejects({ attributes: {} }, /must not be empty/);
    rejects({ attributes: ['x'] }, /expected an object/);
    rejects({ attributes: { StudyDescription: 'x'.repeat(1025) } }, /expected a regular expression of 1 to 1024/);
  });

  test('every problem is reported at once', () => {
    rejects({ modality: ['CT'], priorities: ['NOW'], attributes: { Bogus: 'x' } }, /modality/, /NOW/, /Bogus/);
  });

  test('a valid tag with no dictionary entry is accepted', () => {
    assert.deepEqual(parseFilters({ attributes: { '00091010': 'x' } }), { attributes: { '00091010': 'x' } });
  });
});

describe('SubscriptionStore', () => {
  const dir = makeTempDir('subscriptions');
  const db = new EventsDatabase(join(dir.path, 'events.sqlite'));
  const store = new SubscriptionStore(db);
  after(() => {
    db.close();
    dir.remove();
  });

  const create = (filters: SubscriptionFilters = {}, events: ('stable' | 'updated' | 'forwarded' | 'results-received')[] = ['stable']) =>
    store.create({ url: 'https://ai.example.com/hook', events, filters }).subscription;

  test('matching: active subscriptions that want the event type and whose filters hold', () => {
    const all = create();
    const ct = create({ modalities: ['CT'] });
    const mr = create({ modalities: ['MR'] });
    const updated = create({}, ['updated']);
    const paused = create();
    store.update(paused.id, { status: 'paused' });
    const stroke = create({ attributes: { StudyDescription: 'stroke' } });

    const ids = (facts: StudyFacts) => store.matching(facts).map((s) => s.id);
    assert.deepEqual(ids({ event: event(), sample: SAMPLE }), [all.id, ct.id, stroke.id]);
    assert.deepEqual(ids({ event: event() }), [all.id, ct.id]);
    assert.deepEqual(ids({ event: event({ type: 'updated', modalities: ['MR'] }) }), [updated.id]);
    assert.deepEqual(ids({ event: event({ modalities: ['MR'] }) }), [all.id, mr.id]);

    store.update(paused.id, { status: 'active' });
    assert.ok(ids({ event: event() }).includes(paused.id));
  });

  test('create validates filters and events; update replaces filters as a whole', () => {
    assert.throws(() => store.create({ url: 'https://ai.example.com/', events: ['stable'], filters: { attributes: { StudyDescription: '[' } } }), BadRequest);
    assert.throws(() => store.create({ url: 'https://ai.example.com/', events: [] }), BadRequest);
    assert.throws(() => store.create({ url: 'https://ai.example.com/', events: ['nope' as 'stable'] }), BadRequest);
    assert.throws(() => store.create({ url: 'ftp://ai.example.com/', events: ['stable'] }), BadRequest);
    const s = create({ modalities: ['CT'], stores: ['local'] });
    assert.deepEqual(store.update(s.id, { filters: { bodyParts: ['HEAD'] } }).filters, { bodyParts: ['HEAD'] });
    assert.throws(() => store.update(s.id, { filters: { bogus: [] } as SubscriptionFilters }), BadRequest);
    assert.throws(() => store.update('sub_AAAAAAAAAAAAAAAAAAAAAA', { status: 'paused' }), NotFound);
  });

  test('secrets: Standard Webhooks format, never in get/list, rotation keeps the previous one during the overlap', () => {
    const { subscription, secret } = store.create({ url: 'https://ai.example.com/hook', events: ['stable'] });
    assert.match(subscription.id, /^sub_[A-Za-z0-9_-]{22}$/);
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    assert.ok(key.length >= 24 && key.length <= 64);
    assert.ok(!JSON.stringify(store.get(subscription.id)).includes(secret.slice(6)));
    assert.ok(!JSON.stringify(store.list()).includes(secret.slice(6)));
    assert.deepEqual(store.signingSecrets(subscription.id), [secret]);

    const t0 = Date.now();
    const rotated = store.rotateSecret(subscription.id, 60, t0).secret;
    assert.notEqual(rotated, secret);
    assert.deepEqual(store.signingSecrets(subscription.id, t0 + 59_999), [rotated, secret]);
    assert.deepEqual(store.signingSecrets(subscription.id, t0 + 60_000), [rotated]);

    const again = store.rotateSecret(subscription.id, 0, t0).secret;
    assert.deepEqual(store.signingSecrets(subscription.id, t0), [again]);
    assert.throws(() => store.rotateSecret(subscription.id, -1), BadRequest);
    assert.throws(() => store.rotateSecret(subscription.id, 7 * 24 * 3600 + 1), BadRequest);
    assert.throws(() => store.rotateSecret('sub_AAAAAAAAAAAAAAAAAAAAAA', 10), NotFound);
    assert.deepEqual(store.signingSecrets('sub_AAAAAAAAAAAAAAAAAAAAAA'), []);
  });

  test('delete', () => {
    const s = create();
    assert.equal(store.delete(s.id), true);
    assert.equal(store.get(s.id), undefined);
    assert.equal(store.delete(s.id), false);
  });
});
