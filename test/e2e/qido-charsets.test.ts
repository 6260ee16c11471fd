/**
 * Patient names stored in Latin-1 (ISO_IR 100), UTF-8 (ISO_IR 192) and ISO 2022 IR 87 (Japanese)
 * are found by UTF-8 query values and come back as PN objects in UTF-8 (PS3.18 F.2.2), whatever
 * the Specific Character Set of the stored instance.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http-client';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { allFiles, qidoDataset } from '../fixtures/qido-dataset';
import { stowAll } from '../helpers/qido-load';

const studies = qidoDataset();

describe('QIDO-RS and character sets', () => {
  let gw: RunningGateway;
  const find = async (query: string) => {
    const res = await send(`${gw.baseUrl}/dicomweb/studies?${query}`, { headers: { accept: 'application/dicom+json' } });
    assert.equal(res.status, 200, res.text());
    return res.json() as Record<string, { Value?: any[] }>[];
  };
  const byName = (value: string, fuzzy = false) => find(`${fuzzy ? 'fuzzymatching=true&' : ''}PatientName=${encodeURIComponent(value)}`);

  before(async () => {
    gw = await startInProcessGateway();
    await stowAll(`${gw.baseUrl}/dicomweb`, allFiles(studies));
  });
  after(async () => {
    await gw.stop();
  });

  for (const study of studies.filter((s) => s.charset.join('\\') !== 'ISO_IR 192')) {
    test(`${study.name.alphabetic} (${study.charset.filter(Boolean).join(', ')}): a PN object in UTF-8`, async () => {
      const [found] = await find(`PatientID=${study.patientId}`);
      const expected = Object.fromEntries(Object.entries({ Alphabetic: study.name.alphabetic, Ideographic: study.name.ideographic, Phonetic: study.name.phonetic }).filter(([, v]) => v));
      assert.deepEqual(found['00100010'], { vr: 'PN', Value: [expected] });
    });
  }

  test('Latin-1 names by their UTF-8 spelling, any case; without accents only when fuzzy', async () => {
    assert.deepEqual((await byName('françois*')).map((r) => r['00100020'].Value![0]), ['FRA001']);
    assert.deepEqual((await byName('BUC^JÉRÔME')).map((r) => r['00100020'].Value![0]), ['BUC001']);
    assert.deepEqual(await byName('Francois*'), []);
    assert.deepEqual((await byName('francois lea', true)).map((r) => r['00100020'].Value![0]), ['FRA001']);
  });

  test('Japanese names by any component group, and the whole value', async () => {
    for (const [key, ids] of [
      ['Yamada^Tarou', ['YAM001']],
      ['山田^花子', ['YAM002']],
      ['やまだ*', ['YAM001', 'YAM002']],
      ['山田*', ['YAM001', 'YAM002']],
      ['Yamada^Tarou=山田^太郎=やまだ^たろう', ['YAM001']],
    ] as const) {
      assert.deepEqual((await byName(key)).map((r) => r['00100020'].Value![0]), ids, key);
    }
    assert.deepEqual((await byName('花子', true)).map((r) => r['00100020'].Value![0]), ['YAM002']);
  });

  test('UTF-8 names with ideographic groups', async () => {
    assert.deepEqual((await byName('王^小東')).map((r) => r['00100020'].Value![0]), ['WAN001']);
    const [wang] = await byName('wang^fang');
    assert.deepEqual(wang['00100010'].Value, [{ Alphabetic: 'Wang^Fang', Ideographic: '王^芳' }]);
  });
});
