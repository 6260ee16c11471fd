/**
 * DicomDataset -> DICOM JSON Model (PS3.18 F.2). Data sets are built by hand here (values encoded
 * by the helpers below), plus real files read with dicom-parser as an independent check.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dicomParser from 'dicom-parser';
import { DicomDataset, DicomElement, Tag } from '../../src/dicom/dataset';
import { DicomJsonObject, toDicomJson } from '../../src/dicom/dicom-json';
import { stringifyDicomJson } from '../../src/dicom/dicom-json-stringify';
import {
  getAttribute,
  getItems,
  getNumber,
  getNumbers,
  getPersonName,
  getString,
  getStrings,
  getValues,
} from '../../src/dicom/dicom-json-access';
import { implicitVr } from '../../src/dicom/dictionary';

// ---- building data sets by hand ----------------------------------------------------------------

function dataset(...elements: DicomElement[]): DicomDataset {
  return new Map(elements.map((e): [Tag, DicomElement] => [e.tag, e]));
}

/** A string value padded to even length (PS3.5 6.2: SPACE, or NUL for UI). */
function text(s: string | Buffer, pad = ' '): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'latin1')]) : b;
}

function str(tag: Tag, vr: string, s: string | Buffer): DicomElement {
  return { tag, vr, value: text(s, vr === 'UI' ? '\0' : ' ') };
}

type Writer = (b: Buffer, v: number, offset: number) => void;
function packed(size: number, write: Writer, values: number[]): Buffer {
  const b = Buffer.alloc(size * values.length);
  values.forEach((v, k) => write(b, v, k * size));
  return b;
}
const le = {
  us: (...v: number[]) => packed(2, (b, x, o) => b.writeUInt16LE(x, o), v),
  ss: (...v: number[]) => packed(2, (b, x, o) => b.writeInt16LE(x, o), v),
  ul: (...v: number[]) => packed(4, (b, x, o) => b.writeUInt32LE(x, o), v),
  sl: (...v: number[]) => packed(4, (b, x, o) => b.writeInt32LE(x, o), v),
  fl: (...v: number[]) => packed(4, (b, x, o) => b.writeFloatLE(x, o), v),
  fd: (...v: number[]) => packed(8, (b, x, o) => b.writeDoubleLE(x, o), v),
};
const be = {
  us: (...v: number[]) => packed(2, (b, x, o) => b.writeUInt16BE(x, o), v),
  ss: (...v: number[]) => packed(2, (b, x, o) => b.writeInt16BE(x, o), v),
  ul: (...v: number[]) => packed(4, (b, x, o) => b.writeUInt32BE(x, o), v),
  sl: (...v: number[]) => packed(4, (b, x, o) => b.writeInt32BE(x, o), v),
  fl: (...v: number[]) => packed(4, (b, x, o) => b.writeFloatBE(x, o), v),
  fd: (...v: number[]) => packed(8, (b, x, o) => b.writeDoubleBE(x, o), v),
};
function bigints(values: bigint[], signed: boolean, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, k) => {
    if (signed) littleEndian ? b.writeBigInt64LE(v, k * 8) : b.writeBigInt64BE(v, k * 8);
    else littleEndian ? b.writeBigUInt64LE(v, k * 8) : b.writeBigUInt64BE(v, k * 8);
  });
  return b;
}
function sq(tag: Tag, ...items: DicomDataset[]): DicomElement {
  return { tag, vr: 'SQ', items };
}

const LE = { littleEndian: true };
const BE = { littleEndian: false };

function one(element: DicomElement, options = LE): DicomJsonObject[string] {
  const json = toDicomJson(dataset(element), options);
  const keys = Object.keys(json);
  assert.equal(keys.length, 1);
  return json[keys[0]];
}

// ---- tests --------------------------------------------------------------------------------------

describe('DICOM JSON object structure (F.2.2)', () => {
  it('keys are 8 uppercase hex digits in ascending order, without group length, group 0002 and padding', () => {
    const ds = dataset(
      str(0x7fe1001a, 'LO', 'private'),
      { tag: 0x00091010, vr: 'OB', bulk: { offset: 0, length: 10 } },
      str(0x00100020, 'LO', 'ID1'),
      { tag: 0x00100000, vr: 'UL', value: le.ul(20) },
      str(0x00020010, 'UI', '1.2.840.10008.1.2.1'),
      { tag: 0x00020000, vr: 'UL', value: le.ul(100) },
      str(0x0020000d, 'UI', '1.2.3'),
      str(0x0008103e, 'LO', 'series'),
      { tag: 0xfffcfffc, vr: 'OB', value: Buffer.alloc(8) }, // Data Set Trailing Padding
    );
    const uris: string[] = [];
    const json = toDicomJson(ds, { littleEndian: true, bulkDataUri: (p) => (uris.push(p), p) });
    assert.deepEqual(Object.keys(json), ['0008103E', '00091010', '00100020', '0020000D', '7FE1001A']);
    assert.deepEqual(json['0008103E'], { vr: 'LO', Value: ['series'] });
    assert.deepEqual(uris, ['00091010'], 'bulkDataUri is called once per element, also when sorting');
  });

  it('stringifyDicomJson keeps ascending order where JSON.stringify would not', () => {
    // '30060020' is an integer-like property name, which JS objects list first.
    const ds = dataset(str(0x00080060, 'CS', 'RTSTRUCT'), sq(0x30060020, dataset(str(0x30060026, 'LO', 'Body'))));
    const json = toDicomJson(ds, LE);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(json))), ['30060020', '00080060']);
    const text = stringifyDicomJson(json);
    assert.ok(text.indexOf('"00080060"') < text.indexOf('"30060020"'));
    assert.deepEqual(JSON.parse(text), json);
    assert.equal(
      text,
      '{"00080060":{"vr":"CS","Value":["RTSTRUCT"]},"30060020":{"vr":"SQ","Value":[{"30060026":{"vr":"LO","Value":["Body"]}}]}}',
    );
  });
});

describe('string VRs (Table F.2.3-1, PS3.5 Table 6.2-1)', () => {
  it('AE, AS, CS, DA, DT, TM: split on backslash, spaces trimmed on both sides', () => {
    assert.deepEqual(one(str(0x00080054, 'AE', ' STORESCP  ')), { vr: 'AE', Value: ['STORESCP'] });
    assert.deepEqual(one(str(0x00101010, 'AS', '045Y')), { vr: 'AS', Value: ['045Y'] });
    assert.deepEqual(one(str(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL')), { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] });
    assert.deepEqual(one(str(0x00080020, 'DA', '20240131')), { vr: 'DA', Value: ['20240131'] });
    assert.deepEqual(one(str(0x0008002a, 'DT', '20240131120000.5+0100 ')), { vr: 'DT', Value: ['20240131120000.5+0100'] });
    assert.deepEqual(one(str(0x00080030, 'TM', '101010.123\\ 1200')), { vr: 'TM', Value: ['101010.123', '1200'] });
  });

  it('empty values among several are null; an element that is only padding has no Value (F.2.5)', () => {
    assert.deepEqual(one(str(0x00080008, 'CS', 'ORIGINAL\\\\AXIAL\\')), { vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL', null] });
    assert.deepEqual(one(str(0x00080008, 'CS', '\\')), { vr: 'CS', Value: [null, null] });
    assert.deepEqual(one(str(0x00080008, 'CS', '  ')), { vr: 'CS' });
  });

  it('UI: trailing NUL padding removed', () => {
    assert.deepEqual(one(str(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2')), { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] });
    assert.deepEqual(one(str(0x00081150, 'UI', '1.2.3\\1.2.45')), { vr: 'UI', Value: ['1.2.3', '1.2.45'] });
  });

  it('SH, LO: multi-valued, trimmed; UC: multi-valued, leading spaces kept', () => {
    assert.deepEqual(one(str(0x00081010, 'SH', ' CT01 ')), { vr: 'SH', Value: ['CT01'] });
    assert.deepEqual(one(str(0x00101000, 'LO', 'A1\\ B2 ')), { vr: 'LO', Value: ['A1', 'B2'] });
    assert.deepEqual(one(str(0x00189919, 'UC', ' x\\y ')), { vr: 'UC', Value: [' x', 'y'] });
  });

  it('ST, LT, UT: one value, backslash is text, leading spaces kept, trailing removed', () => {
    assert.deepEqual(one(str(0x00081080, 'ST', ' C:\\dir\\file ')), { vr: 'ST', Value: [' C:\\dir\\file'] });
    assert.deepEqual(one(str(0x00104000, 'LT', 'line 1\r\nline 2')), { vr: 'LT', Value: ['line 1\r\nline 2'] });
    assert.deepEqual(one(str(0x00400280, 'UT', 'a\\b')), { vr: 'UT', Value: ['a\\b'] });
  });

  it('UR: one value, trailing spaces removed', () => {
    assert.deepEqual(one(str(0x00081190, 'UR', 'http://x/studies/1.2 ')), { vr: 'UR', Value: ['http://x/studies/1.2'] });
  });
});

describe('DS and IS (F.2.3.1)', () => {
  it('are JSON numbers, spaces trimmed, empty values null', () => {
    assert.deepEqual(one(str(0x00280030, 'DS', ' 0.5\\-2e3 \\\\+7\\.25')), { vr: 'DS', Value: [0.5, -2000, null, 7, 0.25] });
    assert.deepEqual(one(str(0x00200013, 'IS', '  12 ')), { vr: 'IS', Value: [12] });
    assert.deepEqual(one(str(0x00201041, 'DS', '-0.000001')), { vr: 'DS', Value: [-0.000001] });
  });

  it('a value that is not a number in the VR syntax stays the string it was', () => {
    assert.deepEqual(one(str(0x00200013, 'IS', '1.0')), { vr: 'IS', Value: ['1.0'] });
    assert.deepEqual(one(str(0x00280030, 'DS', '0.5\\abc\\Infinity\\0x10')), { vr: 'DS', Value: [0.5, 'abc', 'Infinity', '0x10'] });
    assert.deepEqual(one(str(0x00280030, 'DS', '1e999')), { vr: 'DS', Value: ['1e999'] });
  });
});

describe('PN (F.2.2)', () => {
  it('is an object of the non-empty component groups', () => {
    assert.deepEqual(one(str(0x00100010, 'PN', 'Smith^John')), { vr: 'PN', Value: [{ Alphabetic: 'Smith^John' }] });
    assert.deepEqual(one(str(0x00100010, 'PN', '=Wang^XiaoDong')), { vr: 'PN', Value: [{ Ideographic: 'Wang^XiaoDong' }] });
    assert.deepEqual(one(str(0x00100010, 'PN', 'A^B==a^b')), { vr: 'PN', Value: [{ Alphabetic: 'A^B', Phonetic: 'a^b' }] });
  });

  it('drops trailing empty components; an all-empty value is null', () => {
    assert.deepEqual(one(str(0x00080090, 'PN', 'Smith^John^^^')), { vr: 'PN', Value: [{ Alphabetic: 'Smith^John' }] });
    assert.deepEqual(one(str(0x00080090, 'PN', '^^^^')), { vr: 'PN' });
    assert.deepEqual(one(str(0x00101001, 'PN', 'A^B=^^\\\\^^^^\\=C')), {
      vr: 'PN',
      Value: [{ Alphabetic: 'A^B' }, null, null, { Ideographic: 'C' }],
    });
    // Interior empty components are kept: they carry position.
    assert.deepEqual(one(str(0x00080090, 'PN', '^Bob^^Dr.')), { vr: 'PN', Value: [{ Alphabetic: '^Bob^^Dr.' }] });
  });

  it('decodes the character set before splitting groups (PS3.5 H.3.1)', () => {
    const name = Buffer.from(
      ('59 61 6d 61 64 61 5e 54 61 72 6f 75 3d 1b 24 42 3b 33 45 44 1b 28 42 5e 1b 24 42 42 40 4f 3a 1b 28 42 3d ' +
        '1b 24 42 24 64 24 5e 24 40 1b 28 42 5e 1b 24 42 24 3f 24 6d 24 26 1b 28 42').replace(/ /g, ''),
      'hex',
    );
    const ds = dataset(str(0x00080005, 'CS', '\\ISO 2022 IR 87'), str(0x00100010, 'PN', name));
    const json = toDicomJson(ds, LE);
    assert.deepEqual(json['00080005'], { vr: 'CS', Value: [null, 'ISO 2022 IR 87'] });
    assert.deepEqual(json['00100010'].Value, [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }]);
  });
});

describe('binary numbers', () => {
  it('US, SS, UL, SL, FL, FD little endian', () => {
    assert.deepEqual(one({ tag: 0x00280010, vr: 'US', value: le.us(512) }), { vr: 'US', Value: [512] });
    assert.deepEqual(one({ tag: 0x00280106, vr: 'SS', value: le.ss(-1024, 3071) }), { vr: 'SS', Value: [-1024, 3071] });
    assert.deepEqual(one({ tag: 0x00081163, vr: 'UL', value: le.ul(4294967295) }), { vr: 'UL', Value: [4294967295] });
    assert.deepEqual(one({ tag: 0x00186020, vr: 'SL', value: le.sl(-5, 7) }), { vr: 'SL', Value: [-5, 7] });
    assert.deepEqual(one({ tag: 0x00089459, vr: 'FL', value: le.fl(0.1, -2.5, 3) }), { vr: 'FL', Value: [0.1, -2.5, 3] });
    assert.deepEqual(one({ tag: 0x00189087, vr: 'FD', value: le.fd(0.1, 1e300) }), { vr: 'FD', Value: [0.1, 1e300] });
  });

  it('the same values big endian (Explicit VR Big Endian)', () => {
    assert.deepEqual(one({ tag: 0x00280010, vr: 'US', value: be.us(512, 1) }, BE), { vr: 'US', Value: [512, 1] });
    assert.deepEqual(one({ tag: 0x00280106, vr: 'SS', value: be.ss(-1024) }, BE), { vr: 'SS', Value: [-1024] });
    assert.deepEqual(one({ tag: 0x00081163, vr: 'UL', value: be.ul(4294967295, 258) }, BE), { vr: 'UL', Value: [4294967295, 258] });
    assert.deepEqual(one({ tag: 0x00186020, vr: 'SL', value: be.sl(-5) }, BE), { vr: 'SL', Value: [-5] });
    assert.deepEqual(one({ tag: 0x00089459, vr: 'FL', value: be.fl(0.1, -2.5) }, BE), { vr: 'FL', Value: [0.1, -2.5] });
    assert.deepEqual(one({ tag: 0x00189087, vr: 'FD', value: be.fd(0.1) }, BE), { vr: 'FD', Value: [0.1] });
  });

  it('FL is written as the shortest decimal of the float32; NaN and infinities as null', () => {
    const v = one({ tag: 0x00089459, vr: 'FL', value: le.fl(-77.20406, 1 / 3, NaN, Infinity) });
    assert.deepEqual(v.Value, [-77.20406, 0.33333334, null, null]);
    for (const x of v.Value as number[]) if (x !== null) assert.equal(Math.fround(x), x === -77.20406 ? Math.fround(-77.20406) : Math.fround(1 / 3));
  });

  it('SV and UV: numbers within Number.MAX_SAFE_INTEGER, strings beyond (F.2.3.1)', () => {
    const sv = bigints([-5n, 9007199254740991n, -9223372036854775808n], true, true);
    assert.deepEqual(one({ tag: 0x00720082, vr: 'SV', value: sv }), { vr: 'SV', Value: [-5, 9007199254740991, '-9223372036854775808'] });
    const uv = bigints([1n, 18446744073709551615n], false, false);
    assert.deepEqual(one({ tag: 0x00720083, vr: 'UV', value: uv }, BE), { vr: 'UV', Value: [1, '18446744073709551615'] });
  });

  it('AT as 8 hex digits, either byte order', () => {
    assert.deepEqual(one({ tag: 0x00209165, vr: 'AT', value: le.us(0x0018, 0x9147, 0x7fe0, 0x0010) }), {
      vr: 'AT',
      Value: ['00189147', '7FE00010'],
    });
    assert.deepEqual(one({ tag: 0x00209165, vr: 'AT', value: be.us(0x0028, 0x0010) }, BE), { vr: 'AT', Value: ['00280010'] });
  });

  it('zero-length values of every kind have no Value (F.2.5)', () => {
    for (const vr of ['AE', 'CS', 'DA', 'DS', 'IS', 'LO', 'LT', 'PN', 'SH', 'UI', 'US', 'FD', 'AT', 'SV', 'OB', 'OW', 'UN']) {
      assert.deepEqual(one({ tag: 0x00091010, vr, value: Buffer.alloc(0) }), { vr }, vr);
      assert.deepEqual(one({ tag: 0x00091010, vr }), { vr }, vr);
    }
  });
});

describe('binary VRs (F.2.7) and bulk data (F.2.6)', () => {
  const bytes = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);

  it('OB, UN and the word VRs as InlineBinary, little endian as stored', () => {
    for (const vr of ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']) {
      assert.deepEqual(one({ tag: 0x00091010, vr, value: bytes }), { vr, InlineBinary: 'AQIDBAUGBwg=' }, vr);
    }
  });

  it('word VRs from big endian are swapped to little endian; OB and UN are byte streams', () => {
    const expected: Record<string, number[]> = {
      OB: [1, 2, 3, 4, 5, 6, 7, 8],
      UN: [1, 2, 3, 4, 5, 6, 7, 8],
      OW: [2, 1, 4, 3, 6, 5, 8, 7],
      OF: [4, 3, 2, 1, 8, 7, 6, 5],
      OL: [4, 3, 2, 1, 8, 7, 6, 5],
      OD: [8, 7, 6, 5, 4, 3, 2, 1],
      OV: [8, 7, 6, 5, 4, 3, 2, 1],
    };
    for (const [vr, order] of Object.entries(expected)) {
      const element: DicomElement = { tag: 0x00091010, vr, value: bytes };
      assert.deepEqual(one(element, BE), { vr, InlineBinary: Buffer.from(order).toString('base64') }, vr);
      assert.deepEqual(element.value, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 'the data set is not modified');
    }
  });

  it('values longer than the threshold become BulkDataURI; without bulkDataUri all are inline', () => {
    const big: DicomElement = { tag: 0x00420011, vr: 'OB', value: Buffer.alloc(1025) };
    const small: DicomElement = { tag: 0x00420012, vr: 'OB', value: Buffer.alloc(1024) };
    const uri = (p: string) => `bulk/${p}`;
    assert.deepEqual(toDicomJson(dataset(big, small), { littleEndian: true, bulkDataUri: uri }), {
      '00420011': { vr: 'OB', BulkDataURI: 'bulk/00420011' },
      '00420012': { vr: 'OB', InlineBinary: Buffer.alloc(1024).toString('base64') },
    });
    assert.deepEqual(toDicomJson(dataset(small), { littleEndian: true, bulkDataUri: uri, inlineBinaryThreshold: 16 }), {
      '00420012': { vr: 'OB', BulkDataURI: 'bulk/00420012' },
    });
    assert.equal(toDicomJson(dataset(big), LE)['00420011'].InlineBinary?.length, Math.ceil(1025 / 3) * 4);
  });

  it('bulk and encapsulated values always go by BulkDataURI, whatever their VR', () => {
    const calls: string[] = [];
    const ds = dataset(
      { tag: 0x00404005, vr: 'UT', bulk: { offset: 100, length: 4 } },
      { tag: 0x7fe00010, vr: 'OB', encapsulated: { basicOffsetTable: [], fragments: [{ offset: 500, length: 10 }] } },
    );
    const json = toDicomJson(ds, {
      littleEndian: true,
      bulkDataUri: (p, element) => {
        calls.push(`${p}@${element.bulk?.offset ?? element.encapsulated?.fragments[0].offset}`);
        return `https://gw/bulk/${p}`;
      },
    });
    assert.deepEqual(json, {
      '00404005': { vr: 'UT', BulkDataURI: 'https://gw/bulk/00404005' },
      '7FE00010': { vr: 'OB', BulkDataURI: 'https://gw/bulk/7FE00010' },
    });
    assert.deepEqual(calls, ['00404005@100', '7FE00010@500']);
    // No URI: the attribute is written without a value.
    assert.deepEqual(toDicomJson(ds, { littleEndian: true, bulkDataUri: () => undefined }), {
      '00404005': { vr: 'UT' },
      '7FE00010': { vr: 'OB' },
    });
    assert.deepEqual(toDicomJson(ds, LE), { '00404005': { vr: 'UT' }, '7FE00010': { vr: 'OB' } });
  });

  it('bulk data paths name the items of nested sequences', () => {
    const lut = (): DicomElement => ({ tag: 0x00283006, vr: 'OW', bulk: { offset: 1, length: 4096 } });
    const ds = dataset(
      sq(0x00283010, dataset(lut()), dataset(lut())),
      sq(0x00540016, dataset(sq(0x00540300, dataset(), dataset({ tag: 0x00181074, vr: 'OB', value: Buffer.alloc(2000) })))),
    );
    const paths: string[] = [];
    toDicomJson(ds, { littleEndian: true, bulkDataUri: (p) => (paths.push(p), p) });
    assert.deepEqual(paths, ['00283010/0/00283006', '00283010/1/00283006', '00540016/0/00540300/1/00181074']);
  });

  it('UN keeps its VR; an unknown VR is written as UN', () => {
    assert.deepEqual(one({ tag: 0x00291010, vr: 'UN', value: Buffer.from('abcd') }), { vr: 'UN', InlineBinary: 'YWJjZA==' });
    assert.deepEqual(one({ tag: 0x00291010, vr: '??', value: Buffer.from('abcd') }), { vr: 'UN', InlineBinary: 'YWJjZA==' });
  });
});

describe('sequences', () => {
  it('items are nested objects; empty sequences have no Value; empty items are {}', () => {
    const ds = dataset(
      sq(0x00081115, dataset(str(0x0020000e, 'UI', '1.2.3')), dataset()),
      sq(0x00081140),
      { tag: 0x00091001, vr: 'UN', items: [dataset(str(0x00100010, 'PN', 'X'))] },
    );
    assert.deepEqual(toDicomJson(ds, LE), {
      '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3'] } }, {}] },
      '00081140': { vr: 'SQ' },
      // UN of undefined length read as a sequence (PS3.5 6.2.2) is written as SQ.
      '00091001': { vr: 'SQ', Value: [{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'X' }] } }] },
    });
  });

  it('items inherit the Specific Character Set and may override it (PS3.5 7.5)', () => {
    const latin1 = Buffer.from('Buc^Jérôme', 'latin1');
    const utf8 = Buffer.from('Buc^Jérôme', 'utf8');
    const ds = dataset(
      str(0x00080005, 'CS', 'ISO_IR 100'),
      str(0x00100010, 'PN', latin1),
      sq(
        0x00400275,
        dataset(str(0x00321060, 'LO', latin1)), // inherits Latin-1
        dataset(
          str(0x00080005, 'CS', 'ISO_IR 192'),
          str(0x00321060, 'LO', utf8), // own UTF-8
          sq(0x00400008, dataset(str(0x00080104, 'LO', utf8))), // inherits UTF-8 from its parent item
        ),
      ),
      str(0x00321060, 'LO', latin1),
    );
    const json = toDicomJson(ds, LE);
    const expected = 'Buc^Jérôme';
    assert.deepEqual(getPersonName(json, 0x00100010), { Alphabetic: expected });
    const [first, second] = getItems(json, 0x00400275);
    assert.equal(getString(first, 0x00321060), expected);
    assert.equal(getString(second, 0x00321060), expected);
    assert.equal(getString(getItems(second, 0x00400008)[0], 0x00080104), expected);
    assert.equal(getString(json, 0x00321060), expected, 'the item override does not leak out');
  });

  it('uses the inherited character set of the options when the data set has none', () => {
    const ds = dataset(str(0x00080104, 'LO', Buffer.from('c4e9efedf5f3e9eff2', 'hex')));
    assert.equal(getString(toDicomJson(ds, { littleEndian: true, specificCharacterSet: ['ISO_IR 126'] }), '00080104'), 'Διονυσιος');
    assert.equal(getString(toDicomJson(ds, LE), '00080104'), 'Äéïíõóéïò');
  });

  it('Korean names through two levels of items (ISO 2022 IR 149, PS3.5 I.2)', () => {
    const hong = Buffer.from('486f6e675e47696c646f6e673d1b242943fbf35e1b242943d1ced4d73d1b242943c8ab5e1b242943b1e6b5bf', 'hex');
    const ds = dataset(
      str(0x00080005, 'CS', '\\ISO 2022 IR 149'),
      sq(0x00081111, dataset(sq(0x00081199, dataset(str(0x00100010, 'PN', hong))))),
    );
    const item = getItems(getItems(toDicomJson(ds, LE), 0x00081111)[0], 0x00081199)[0];
    assert.deepEqual(getPersonName(item, 0x00100010), { Alphabetic: 'Hong^Gildong', Ideographic: '洪^吉洞', Phonetic: '홍^길동' });
  });

  it('multi-valued LO in GBK keeps a 0x5C trail byte inside its character', () => {
    // 乗 = GBK 81 5C; value 1 is 乗, value 2 is A.
    const ds = dataset(str(0x00080005, 'CS', 'GBK'), str(0x00101000, 'LO', Buffer.from('815c5c41', 'hex')));
    assert.deepEqual(toDicomJson(ds, LE)['00101000'], { vr: 'LO', Value: ['乗', 'A'] });
  });
});

describe('dicom-json-access', () => {
  const json = toDicomJson(
    dataset(
      str(0x00080060, 'CS', 'MR'),
      str(0x00080061, 'CS', 'CT\\\\MR'),
      str(0x00100010, 'PN', 'Yamada^Tarou=YAMADA'),
      str(0x00200013, 'IS', '7'),
      str(0x00280030, 'DS', '0.5\\x\\0.25'),
      { tag: 0x00280010, vr: 'US', value: le.us(256) },
      sq(0x00081115, dataset(str(0x0020000e, 'UI', '1.2'))),
    ),
    LE,
  );

  it('reads strings, numbers, person names and items by tag number or key', () => {
    assert.equal(getString(json, 0x00080060), 'MR');
    assert.equal(getString(json, '00080060'), 'MR');
    assert.deepEqual(getStrings(json, 0x00080061), ['CT', '', 'MR']);
    assert.equal(getString(json, 0x00100010), 'Yamada^Tarou=YAMADA');
    assert.deepEqual(getPersonName(json, 0x00100010), { Alphabetic: 'Yamada^Tarou', Ideographic: 'YAMADA' });
    assert.equal(getNumber(json, 0x00200013), 7);
    assert.equal(getString(json, 0x00200013), '7');
    assert.equal(getNumber(json, 0x00280010), 256);
    assert.deepEqual(getNumbers(json, 0x00280030), [0.5, 0.25]);
    assert.deepEqual(getStrings(getItems(json, 0x00081115)[0], 0x0020000e), ['1.2']);
    assert.equal(getAttribute(json, 0x00080060)?.vr, 'CS');
  });

  it('answers undefined or [] for what is not there', () => {
    assert.equal(getString(json, 0x00100020), undefined);
    assert.deepEqual(getStrings(json, 0x00100020), []);
    assert.equal(getNumber(json, 0x00080060), undefined);
    assert.equal(getPersonName(json, 0x00080060), undefined);
    assert.deepEqual(getItems(json, 0x00080060), []);
    assert.equal(getValues(json, 0x00100020), undefined);
  });
});

// ---- real files, read by dicom-parser -----------------------------------------------------------

const SAMPLES = '/work/shared/dicom-samples';

/** dicom-parser's view of a file as our DicomDataset: values are views into the file bytes (in the
 *  file's byte order), Pixel Data is a bulk reference. */
function fromDicomParser(ds: dicomParser.DataSet): DicomDataset {
  const out: DicomDataset = new Map();
  for (const [key, e] of Object.entries(ds.elements)) {
    const tag = parseInt(key.slice(1), 16) >>> 0;
    if (tag >>> 16 === 0xfffe) continue;
    const element: DicomElement = { tag, vr: e.vr ?? implicitVr(tag) };
    if (e.items) element.items = e.items.map((item) => fromDicomParser(item.dataSet as dicomParser.DataSet));
    else if (e.fragments) {
      element.encapsulated = { basicOffsetTable: e.basicOffsetTable ?? [], fragments: e.fragments.map((f) => ({ offset: f.position, length: f.length })) };
    } else if (tag === 0x7fe00010) element.bulk = { offset: e.dataOffset, length: e.length };
    else element.value = Buffer.from(ds.byteArray.buffer, ds.byteArray.byteOffset + e.dataOffset, e.length);
    out.set(tag, element);
  }
  return out;
}

function loadSample(name: string): { json: DicomJsonObject; uris: string[] } {
  const bytes = fs.readFileSync(path.join(SAMPLES, name));
  const vrCallback = ((t: string) => implicitVr(parseInt(t.slice(1), 16) >>> 0)) as (tag: string) => void;
  const hasMeta = bytes.toString('latin1', 128, 132) === 'DICM';
  const parsed = dicomParser.parseDicom(bytes, hasMeta ? { vrCallback } : { vrCallback, TransferSyntaxUID: '1.2.840.10008.1.2' });
  const ts = hasMeta ? parsed.string('x00020010') : '1.2.840.10008.1.2';
  const uris: string[] = [];
  const json = toDicomJson(fromDicomParser(parsed), {
    littleEndian: ts !== '1.2.840.10008.1.2.2',
    bulkDataUri: (p) => {
      uris.push(p);
      return `bulk/${p}`;
    },
  });
  return { json, uris };
}

describe('real files (dicom-parser as the reader)', { skip: !fs.existsSync(SAMPLES) && 'samples not present' }, () => {
  it('CT_small.dcm: values of several VRs', () => {
    const { json, uris } = loadSample('CT_small.dcm');
    assert.deepEqual(getStrings(json, 0x00080005), ['ISO_IR 100']);
    assert.deepEqual(getPersonName(json, 0x00100010), { Alphabetic: 'CompressedSamples^CT1' });
    assert.equal(getString(json, 0x00080060), 'CT');
    assert.equal(getNumber(json, 0x00280010), 128);
    assert.deepEqual(getNumbers(json, 0x00280030), [0.661468, 0.661468]);
    assert.equal(getNumber(json, 0x00281052), -1024);
    assert.deepEqual(json['7FE00010'], { vr: 'OW', BulkDataURI: 'bulk/7FE00010' });
    // A private OB of 2 KB goes by bulk data URI too (over the 1024-byte default threshold).
    assert.deepEqual(uris, ['00431029', '7FE00010']);
    assert.equal(json['00431029'].vr, 'OB');
    assert.ok(Object.keys(json).every((k) => /^[0-9A-F]{8}$/.test(k) && !k.startsWith('0002') && !k.endsWith('0000')));
  });

  it('MR_small: big endian, implicit and explicit little endian give the same JSON', () => {
    const explicit = loadSample('MR_small.dcm').json;
    const bigEndian = loadSample('MR_small_bigendian.dcm').json;
    const implicit = loadSample('MR_small_implicit.dcm').json;
    assert.deepEqual(bigEndian, explicit);
    // Implicit VR leaves 'US or SS' attributes to the dictionary, which says US; the values agree.
    for (const [key, attr] of Object.entries(explicit)) {
      if (attr.vr === 'SS') assert.deepEqual(implicit[key].Value, attr.Value, key);
      else assert.deepEqual(implicit[key], attr, key);
    }
    assert.equal(getNumber(explicit, 0x00280010), 64);
  });

  it('rtstruct.dcm: nested sequences and integer-like keys', () => {
    const { json } = loadSample('rtstruct.dcm');
    const rois = getItems(json, 0x30060020);
    assert.ok(rois.length > 0);
    assert.equal(typeof getString(rois[0], 0x30060026), 'string');
    const contours = getItems(getItems(json, 0x30060039)[0], 0x30060040);
    const data = getNumbers(contours[0], 0x30060050);
    assert.equal(data.length % 3, 0);
    const text = stringifyDicomJson(json);
    assert.deepEqual(JSON.parse(text), json);
    // In the text (JSON.parse would reorder again), 3006 attributes come after 0008 ones.
    assert.ok(text.startsWith('{"00080005":'));
    assert.ok(text.indexOf('"00080005"') < text.indexOf('"30060020"'));
  });

  it('test-SR.dcm: deep sequences', () => {
    const { json } = loadSample('test-SR.dcm');
    const depth = (obj: DicomJsonObject): number => Math.max(0, ...getItems(obj, 0x0040a730).map((item) => 1 + depth(item)));
    assert.ok(depth(json) >= 3, `content tree depth ${depth(json)}`);
    assert.deepEqual(JSON.parse(stringifyDicomJson(json)), json);
  });

  it('JPEG2000.dcm: encapsulated Pixel Data goes by BulkDataURI', () => {
    const { json, uris } = loadSample('JPEG2000.dcm');
    assert.deepEqual(json['7FE00010'], { vr: 'OB', BulkDataURI: 'bulk/7FE00010' });
    assert.ok(uris.includes('7FE00010'));
  });
});
