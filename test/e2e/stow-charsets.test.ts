/**
 * Names in the character sets of PS3.3 C.12.1.1.2 are decoded to UTF-8 for the index and the
 * stored metadata, including ISO 2022 code extensions (examples of PS3.5 Annexes H, I, J).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { readIndex } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { syntheticInstance } from '../fixtures/dicom-builder';

const ESC = 0x1b;
const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
const bytes = (...parts: (number | number[] | string)[]) =>
  Buffer.from(parts.flatMap((p) => (typeof p === 'string' ? ascii(p) : Array.isArray(p) ? p : [p])));
/** Single-byte sets whose letters are a fixed offset from Unicode (ISO 8859-5 Cyrillic, 8859-7 Greek). */
const shifted = (s: string, from: number, to: number) => Buffer.from([...s].map((c) => (c.charCodeAt(0) >= from ? c.charCodeAt(0) - from + to : c.charCodeAt(0))));

const JIS_ON = [ESC, 0x24, 0x42];
const JIS_OFF = [ESC, 0x28, 0x42];
const KS = [ESC, 0x24, 0x29, 0x43];

const CASES: { name: string; charset: string[]; raw: Buffer; alphabetic: string; ideographic?: string; phonetic?: string }[] = [
  { name: 'ISO_IR 100 (Latin-1)', charset: ['ISO_IR 100'], raw: Buffer.from('Buc^Jérôme', 'latin1'), alphabetic: 'Buc^Jérôme' },
  { name: 'ISO_IR 192 (UTF-8)', charset: ['ISO_IR 192'], raw: Buffer.from('Wang^XiaoDong=王^小東=', 'utf8'), alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' },
  { name: 'ISO_IR 144 (Cyrillic)', charset: ['ISO_IR 144'], raw: shifted('Иванов^Иван', 0x0410, 0xb0), alphabetic: 'Иванов^Иван' },
  { name: 'ISO_IR 126 (Greek)', charset: ['ISO_IR 126'], raw: shifted('Διονυσιος', 0x0391, 0xc1), alphabetic: 'Διονυσιος' },
  {
    name: 'ISO 2022 IR 87 (Japanese, PS3.5 H.3.1)',
    charset: ['', 'ISO 2022 IR 87'],
    raw: bytes('Yamada^Tarou=', JIS_ON, [0x3b, 0x33, 0x45, 0x44], JIS_OFF, '^', JIS_ON, [0x42, 0x40, 0x4f, 0x3a], JIS_OFF, '=', JIS_ON, [0x24, 0x64, 0x24, 0x5e, 0x24, 0x40], JIS_OFF, '^', JIS_ON, [0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26], JIS_OFF),
    alphabetic: 'Yamada^Tarou',
    ideographic: '山田^太郎',
    phonetic: 'やまだ^たろう',
  },
  {
    name: 'ISO 2022 IR 149 (Korean, PS3.5 I.2)',
    charset: ['', 'ISO 2022 IR 149'],
    raw: bytes('Hong^Gildong=', KS, [0xfb, 0xf3], '^', KS, [0xd1, 0xce, 0xd4, 0xd7], '=', KS, [0xc8, 0xab], '^', KS, [0xb1, 0xe6, 0xb5, 0xbf]),
    alphabetic: 'Hong^Gildong',
    ideographic: '洪^吉洞',
    phonetic: '홍^길동',
  },
  { name: 'GB18030 (PS3.5 J.3)', charset: ['GB18030'], raw: bytes('Wang^XiaoDong=', [0xcd, 0xf5], '^', [0xd0, 0xa1, 0xb6, 0xab], '='), alphabetic: 'Wang^XiaoDong', ideographic: '王^小东' },
];

describe('character sets at ingest', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startInProcessGateway();
  });
  after(async () => {
    await gw.stop();
  });

  CASES.forEach((c, i) => {
    test(`${c.name} names reach the index and metadata as UTF-8`, async () => {
      const study = `1.2.826.0.1.3680043.10.6000.${i + 1}`;
      const dicom = syntheticInstance({
        studyUid: study,
        seriesUid: `${study}.1`,
        sopInstanceUid: `${study}.1.1`,
        rows: 8,
        columns: 8,
        seed: i,
        extraElements: [
          { tag: 'SpecificCharacterSet', value: c.charset },
          { tag: 'PatientName', vr: 'PN', value: c.raw },
        ],
      });
      const { body, contentType } = multipartBody([dicom]);
      const res = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body });
      assert.equal(res.status, 200, res.text());
      const [row] = readIndex<{ patient_name: string; patient_name_ideographic: string | null; patient_name_phonetic: string | null; study_json: string }>(
        gw.dataDir,
        `SELECT patient_name, patient_name_ideographic, patient_name_phonetic, study_json FROM studies WHERE study_uid = '${study}'`,
      );
      assert.equal(row.patient_name, c.alphabetic);
      assert.equal(row.patient_name_ideographic, c.ideographic ?? null);
      assert.equal(row.patient_name_phonetic, c.phonetic ?? null);
      const pn = JSON.parse(row.study_json)['00100010'].Value[0];
      assert.equal(pn.Alphabetic, c.alphabetic);
      if (c.ideographic) assert.equal(pn.Ideographic, c.ideographic);
    });
  });
});
