/**
 * What the embedded store indexes for QIDO: canonical keys of dates and times (dicom/match-keys),
 * the match_keys rows of an instance, and migration 2 rebuilding them for an older index.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dateBounds, dateTimeBounds, numberKey, storedTemporalKey, timeBounds, upperCaseSameLength } from '../../src/dicom/match-keys';
import { matchKeyRows } from '../../src/stores/local/match-key-records';
import { backfillSearchKeys } from '../../src/stores/local/search-keys-backfill';
import { allFiles, qidoDataset } from '../fixtures/qido-dataset';
import { openTestStore } from '../helpers/qido-store';

describe('canonical keys (PS3.5 Table 6.2-1)', () => {
  test('DA: real calendar dates only', () => {
    assert.deepEqual(dateBounds('20240229'), { low: '20240229', high: '20240229' });
    for (const bad of ['20230229', '20241301', '20240100', '2024010', '2024-01-01', '']) assert.equal(dateBounds(bad), undefined, bad);
  });
  test('TM: the interval of its precision', () => {
    assert.deepEqual(timeBounds('23'), { low: '230000.000000', high: '235959.999999' });
    assert.deepEqual(timeBounds('2359'), { low: '235900.000000', high: '235959.999999' });
    assert.deepEqual(timeBounds('235960'), { low: '235960.000000', high: '235960.999999' }, 'leap second');
    assert.deepEqual(timeBounds('120000.12'), { low: '120000.120000', high: '120000.129999' });
    for (const bad of ['24', '1260', '120061', '12.5', '120000.1234567', '1', '12:00']) assert.equal(timeBounds(bad), undefined, bad);
  });
  test('DT: partial values, fractions, UTC offsets', () => {
    assert.deepEqual(dateTimeBounds('2024'), { low: '20240101000000.000000', high: '20241231235959.999999' });
    assert.deepEqual(dateTimeBounds('202302'), { low: '20230201000000.000000', high: '20230228235959.999999' });
    assert.deepEqual(dateTimeBounds('20240101235959.5+0100'), { low: '20240101225959.500000', high: '20240101225959.599999' });
    assert.deepEqual(dateTimeBounds('20231231230000-0130'), { low: '20240101003000.000000', high: '20240101003000.999999' }, 'across a year end');
    assert.deepEqual(dateTimeBounds('0050'), { low: '00500101000000.000000', high: '00501231235959.999999' });
    for (const bad of ['202413', '20240230', '2024010124', '20240101+1500', '20240101+0160', '2024.01']) assert.equal(dateTimeBounds(bad), undefined, bad);
  });
  test('stored values: older forms are read, garbage is kept as it is', () => {
    assert.equal(storedTemporalKey('DA', '2024.01.31'), '20240131');
    assert.equal(storedTemporalKey('TM', '07:30:00'), '073000.000000');
    assert.equal(storedTemporalKey('DT', '20240101'), '20240101000000.000000');
    assert.equal(storedTemporalKey('DA', 'unknown'), 'unknown');
  });
  test('numbers and case folding', () => {
    assert.equal(numberKey('007'), '7');
    assert.equal(numberKey(' 1.50 '), '1.5');
    assert.equal(numberKey('abc'), undefined);
    assert.equal(upperCaseSameLength('müller^straße'), 'MÜLLER^STRAßE');
    assert.equal(upperCaseSameLength('山田^やまだ'), '山田^やまだ');
  });
});

describe('match_keys rows', () => {
  test('person names: each group upper-cased, the whole value, and folded words', () => {
    const rows = matchKeyRows({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller-Lüdenscheidt^Hans', Ideographic: '山田^太郎' }] } }, { skip: new Set(), sequences: false });
    assert.deepEqual(rows, [
      { attribute: '00100010', key: 'MÜLLER-LÜDENSCHEIDT^HANS' },
      { attribute: '00100010', key: '山田^太郎' },
      { attribute: '00100010=', key: 'MÜLLER-LÜDENSCHEIDT^HANS=山田^太郎' },
      { attribute: '00100010~', key: 'MULLER' },
      { attribute: '00100010~', key: 'LUDENSCHEIDT' },
      { attribute: '00100010~', key: 'HANS' },
      { attribute: '00100010~', key: '山田' },
      { attribute: '00100010~', key: '太郎' },
    ]);
  });
  test('dates, numbers, every value of a multi-valued attribute, sequence items; no bytes, nothing skipped', () => {
    const rows = matchKeyRows(
      {
        '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL'] },
        '00080020': { vr: 'DA', Value: ['20240101'] },
        '00080030': { vr: 'TM', Value: ['1200'] },
        '00200011': { vr: 'IS', Value: [3] },
        '0020000D': { vr: 'UI', Value: ['1.2.3'] },
        '00400275': { vr: 'SQ', Value: [{ '00400009': { vr: 'SH', Value: ['SPS1'] } }] },
        '00091010': { vr: 'OB', InlineBinary: 'AAAA' },
      },
      { skip: new Set(['0020000D']), sequences: true },
    );
    assert.deepEqual(rows, [
      { attribute: '00080008', key: 'ORIGINAL' },
      { attribute: '00080008', key: 'AXIAL' },
      { attribute: '00080020', key: '20240101' },
      { attribute: '00080030', key: '120000.000000' },
      { attribute: '00200011', key: '3' },
      { attribute: '00400275.00400009', key: 'SPS1' },
    ]);
  });
});

test('migration 2 rebuilds the keys of an index written before them, exactly as ingest writes them', async () => {
  const t = await openTestStore();
  try {
    await t.add(allFiles(qidoDataset()));
    const db = t.store.index.db;
    const snapshot = () => ({
      keys: db.prepare('SELECT level, attribute, key, owner_pk FROM match_keys ORDER BY 1, 2, 3, 4').all(),
      instances: db.prepare('SELECT instance_pk, instance_json FROM instances ORDER BY 1').all(),
    });
    const written = snapshot();
    assert.ok(written.keys.length > 500);
    // As a version-1 index has them: no keys, no instance result attributes.
    db.exec('DELETE FROM match_keys; UPDATE instances SET instance_json = NULL');
    db.transaction(() => backfillSearchKeys(db))();
    assert.deepEqual(snapshot(), written);
  } finally {
    await t.close();
  }
});
