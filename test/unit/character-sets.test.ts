/**
 * Specific Character Set decoding (PS3.3 C.12.1.1.2, PS3.5 6.1 and Annexes H, I, J, K). The byte
 * sequences are written out by hand from the standard's examples (and, for the sets the standard
 * gives no example for, from the ISO 8859 / TIS 620 code charts), never produced by the code under
 * test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeText,
  isCharacterSetVr,
  isKnownCharacterSet,
  parseSpecificCharacterSet,
  resolveCharacterSet,
  decodeTextWith,
} from '../../src/dicom/character-sets';

/** Text parts are ASCII, number arrays raw bytes. */
function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

// Escape sequences of PS3.3 Tables C.12-3 and C.12-4.
const ESC_ASCII = [0x1b, 0x28, 0x42]; // ESC ( B   ISO-IR 6 into G0
const ESC_ROMAJI = [0x1b, 0x28, 0x4a]; // ESC ( J   ISO-IR 14 into G0
const ESC_KATAKANA = [0x1b, 0x29, 0x49]; // ESC ) I   ISO-IR 13 into G1
const ESC_JIS0208 = [0x1b, 0x24, 0x42]; // ESC $ B   ISO-IR 87 into G0
const ESC_JIS0212 = [0x1b, 0x24, 0x28, 0x44]; // ESC $ ( D   ISO-IR 159 into G0
const ESC_KSX1001 = [0x1b, 0x24, 0x29, 0x43]; // ESC $ ) C   ISO-IR 149 into G1
const ESC_GB2312 = [0x1b, 0x24, 0x29, 0x41]; // ESC $ ) A   ISO-IR 58 into G1
const ESC_LATIN1 = [0x1b, 0x2d, 0x41]; // ESC - A   ISO-IR 100 into G1
const ESC_GREEK = [0x1b, 0x2d, 0x46]; // ESC - F   ISO-IR 126 into G1
const ESC_CYRILLIC = [0x1b, 0x2d, 0x4c]; // ESC - L   ISO-IR 144 into G1

describe('default repertoire', () => {
  it('decodes ASCII with no, an empty, or an empty first Specific Character Set', () => {
    const v = bytes('Smith^John');
    assert.equal(decodeText(v, undefined, 'PN'), 'Smith^John');
    assert.equal(decodeText(v, [], 'PN'), 'Smith^John');
    assert.equal(decodeText(v, [''], 'PN'), 'Smith^John');
    assert.equal(decodeText(v, ['ISO 2022 IR 6'], 'LO'), 'Smith^John');
  });

  it('reads undeclared high bytes as ISO 8859-1 rather than failing', () => {
    assert.equal(decodeText(bytes('Buc^J', [0xe9], 'r', [0xf4], 'me'), undefined, 'PN'), 'Buc^Jérôme');
  });
});

describe('single-byte character sets without code extensions (Table C.12-2)', () => {
  const cases: [term: string, data: Buffer, expected: string][] = [
    // French and German, Latin alphabet No. 1 (pydicom chrFren, chrGerm)
    ['ISO_IR 100', hex('42 75 63 5e 4a e9 72 f4 6d 65'), 'Buc^Jérôme'],
    ['ISO_IR 100', hex('c4 6e 65 61 73 5e 52 fc 64 69 67 65 72'), 'Äneas^Rüdiger'],
    // Latin alphabet No. 2 (ISO 8859-2): Ł=A3 Ż=AF ó=F3 ł=B3 ć=E6
    ['ISO_IR 101', hex('a3 75 6b 61 73 7a 5e af f3 b3 e6'), 'Łukasz^Żółć'],
    // Latin alphabet No. 3 (ISO 8859-3): Ħ=A1 ġ=F5 Ġ=D5 ż=BF è=E8
    ['ISO_IR 109', hex('a1 61 f5 61 72 5e d5 75 bf e8'), 'Ħaġar^Ġużè'],
    // Latin alphabet No. 4 (ISO 8859-4): Ķ=D3 ē=BA ņ=F1 š=B9 Ū=DE
    ['ISO_IR 110', hex('d3 ba 6e 69 f1 b9 5e de 6e 61'), 'Ķēniņš^Ūna'],
    // Cyrillic (ISO 8859-5), pydicom chrRuss (mixes Latin c, e, y, p in on purpose)
    ['ISO_IR 144', hex('bb ee da 63 65 dc d1 79 70 d3'), 'Люкceмбypг'],
    // Arabic (ISO 8859-6), pydicom chrArab
    ['ISO_IR 127', hex('e2 c8 c7 e6 ea 5e e4 e6 d2 c7 d1'), 'قباني^لنزار'],
    // Greek (ISO 8859-7), pydicom chrGreek
    ['ISO_IR 126', hex('c4 e9 ef ed f5 f3 e9 ef f2'), 'Διονυσιος'],
    // Hebrew (ISO 8859-8), pydicom chrHbrw
    ['ISO_IR 138', hex('f9 f8 e5 ef 5e e3 e1 e5 f8 e4'), 'שרון^דבורה'],
    // Latin alphabet No. 5 (ISO 8859-9): Ğ=D0 ş=FE I, ı=FD
    ['ISO_IR 148', hex('d0 fc 6c fe 65 6e 5e 49 fe fd 6b'), 'Ğülşen^Işık'],
    // Latin alphabet No. 9 (ISO 8859-15): Œ=BC €=A4
    ['ISO_IR 203', hex('bc 75 76 72 65 5e a4'), 'Œuvre^€'],
    // Thai (TIS 620-2533)
    ['ISO_IR 166', hex('ca c1 aa d2 c2 5e e3 a8 b4 d5'), 'สมชาย^ใจดี'],
  ];
  for (const [term, data, expected] of cases) {
    it(`${term}: ${expected}`, () => {
      assert.equal(decodeText(data, [term], 'PN'), expected);
      assert.equal(decodeText(data, [term], 'LO'), expected);
    });
  }

  it('keeps 0x80-0x9F as the C1 controls of ISO 8859, not the windows-125x characters', () => {
    // WHATWG 'iso-8859-1' is windows-1252 (0x80 = €); 'iso-8859-9' is windows-1254; 'tis-620' is
    // windows-874 (0x80 = €).
    assert.equal(decodeText(hex('80 9f'), ['ISO_IR 100'], 'LT'), '\u0080\u009f');
    assert.equal(decodeText(hex('80'), ['ISO_IR 148'], 'LT'), '\u0080');
    assert.equal(decodeText(hex('80'), ['ISO_IR 166'], 'LT'), '\u0080');
    assert.equal(decodeText(hex('80'), [''], 'LT'), '\u0080');
  });

  it('ISO_IR 13: JIS X 0201 katakana in GR and romaji in GL', () => {
    // PS3.5 H.3.2 first group: ﾔﾏﾀﾞ^ﾀﾛｳ
    assert.equal(decodeText(hex('d4 cf c0 de 5e c0 db b3'), ['ISO_IR 13'], 'PN'), 'ﾔﾏﾀﾞ^ﾀﾛｳ');
    // Romaji: 07/14 is OVERLINE; 05/12 is the YEN SIGN in text...
    assert.equal(decodeText(bytes('100\\ ~'), ['ISO_IR 13'], 'LT'), '100¥ ‾');
    // ...but still the value delimiter in multi-valued VRs (PS3.5 6.1.2.3, PS3.18 F.2.4).
    assert.equal(decodeText(bytes('A\\B'), ['ISO_IR 13'], 'LO').split('\\').length, 2);
    assert.deepEqual(decodeText(hex('b1 5c b2'), ['ISO_IR 13'], 'SH').split('\\'), ['ｱ', 'ｲ']);
  });
});

describe('single-byte character sets with code extensions (Table C.12-3)', () => {
  it('switches G1 with ESC - F and returns to value 1 at each line, value and name part', () => {
    // Value 1 ISO 2022 IR 100 puts Latin-1 in G1; ESC - F designates Greek. 0xE9 is é in Latin-1
    // and ι in Greek.
    const cs = ['ISO 2022 IR 100', 'ISO 2022 IR 126'];
    assert.equal(decodeText(bytes([0xe9], ESC_GREEK, [0xe9]), cs, 'LT'), 'éι');
    // PS3.5 6.1.2.5.3: value 1 is active again after CR LF, FF, TAB...
    assert.equal(decodeText(bytes(ESC_GREEK, [0xe9], '\r\n', [0xe9], '\t', ESC_GREEK, [0xe9], '\f', [0xe9]), cs, 'LT'), 'ι\r\né\tι\fé');
    // ...after the value delimiter...
    assert.equal(decodeText(bytes(ESC_GREEK, [0xe9], '\\', [0xe9]), cs, 'LO'), 'ι\\é');
    // ...and after PN component and group delimiters.
    assert.equal(decodeText(bytes(ESC_GREEK, [0xe9], '^', [0xe9], '=', ESC_GREEK, [0xe9], '=', [0xe9]), cs, 'PN'), 'ι^é=ι=é');
  });

  it('ISO 2022 IR 6 with Latin-1 and Cyrillic designated by escape sequences', () => {
    const cs = ['ISO 2022 IR 6', 'ISO 2022 IR 100', 'ISO 2022 IR 144'];
    assert.equal(decodeText(bytes('Buc^J', ESC_LATIN1, [0xe9], 'r', [0xf4], 'me=', ESC_CYRILLIC, [0xb1, 0xe3, 0xda]), cs, 'PN'), 'Buc^Jérôme=Бук');
  });

  it('ISO 2022 IR 13 with ISO 2022 IR 87: PS3.5 H.3.2', () => {
    const data = bytes(
      [0xd4, 0xcf, 0xc0, 0xde], '^', [0xc0, 0xdb, 0xb3], '=',
      ESC_JIS0208, [0x3b, 0x33, 0x45, 0x44], ESC_ROMAJI, '^', ESC_JIS0208, [0x42, 0x40, 0x4f, 0x3a], ESC_ROMAJI, '=',
      ESC_JIS0208, [0x24, 0x64, 0x24, 0x5e, 0x24, 0x40], ESC_ROMAJI, '^', ESC_JIS0208, [0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26], ESC_ROMAJI,
    );
    assert.equal(decodeText(data, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'PN'), 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('ISO 2022 IR 13 designated explicitly (ESC ) I, ESC ( J)', () => {
    assert.equal(decodeText(bytes(ESC_KATAKANA, [0xb1], ESC_ROMAJI, '~', ESC_ASCII, '~'), ['', 'ISO 2022 IR 13'], 'LT'), 'ｱ‾~');
  });
});

describe('multi-byte character sets with code extensions (Table C.12-4)', () => {
  it('ISO 2022 IR 87: PS3.5 H.3.1, exact bytes', () => {
    const data = hex(`
      59 61 6d 61 64 61 5e 54 61 72 6f 75 3d
      1b 24 42 3b 33 45 44 1b 28 42 5e 1b 24 42 42 40 4f 3a 1b 28 42 3d
      1b 24 42 24 64 24 5e 24 40 1b 28 42 5e 1b 24 42 24 3f 24 6d 24 26 1b 28 42`);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 87'], 'PN'), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('ISO 2022 IR 87: bytes 05/12, 05/14 and 03/13 inside kanji are not delimiters', () => {
    // 倍 = JIS 0x475C, 五 = 0x385E, 表 = 0x493D; the real delimiters follow ESC ( B.
    const data = bytes(ESC_JIS0208, [0x47, 0x5c], ESC_ASCII, '\\', ESC_JIS0208, [0x38, 0x5e], ESC_ASCII, '^', ESC_JIS0208, [0x49, 0x3d], ESC_ASCII);
    const text = decodeText(data, ['', 'ISO 2022 IR 87'], 'PN');
    assert.equal(text, '倍\\五^表');
    assert.deepEqual(text.split('\\'), ['倍', '五^表']);
    assert.equal(decodeText(bytes(ESC_JIS0208, [0x47, 0x5c, 0x49, 0x3d], ESC_ASCII), ['', 'ISO 2022 IR 87'], 'LO'), '倍表');
  });

  it('ISO 2022 IR 159: JIS X 0212 supplementary kanji', () => {
    // 丂 = JIS X 0212 0x3021 and 丄 = 0x3022 (neither is in JIS X 0208).
    const data = bytes('A', ESC_JIS0212, [0x30, 0x21, 0x30, 0x22], ESC_ASCII, '^', ESC_JIS0208, [0x3b, 0x33], ESC_ASCII);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'PN'), 'A丂丄^山');
  });

  it('ISO 2022 IR 149: PS3.5 I.2, Korean', () => {
    const data = hex(`
      48 6f 6e 67 5e 47 69 6c 64 6f 6e 67 3d
      1b 24 29 43 fb f3 5e 1b 24 29 43 d1 ce d4 d7 3d
      1b 24 29 43 c8 ab 5e 1b 24 29 43 b1 e6 b5 bf`);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 149'], 'PN'), 'Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('ISO 2022 IR 149: multi-line text, re-designated after each line', () => {
    // 한 = C7 D1, 국 = B1 B9, 어 = BE EE in KS X 1001 (EUC-KR form)
    const data = bytes('1.', ESC_KSX1001, [0xc7, 0xd1, 0xb1, 0xb9], '\r\n', '2.', ESC_KSX1001, [0xc7, 0xd1, 0xb1, 0xb9, 0xbe, 0xee]);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 149'], 'LT'), '1.한국\r\n2.한국어');
  });

  it('ISO 2022 IR 149 without the escape sequence (common writer error) still reads as Korean', () => {
    assert.equal(decodeText(hex('c8 ab 5e b1 e6 b5 bf'), ['', 'ISO 2022 IR 149'], 'PN'), '홍^길동');
  });

  it('ISO 2022 IR 58: PS3.5 Annex K, Chinese GB 2312 in G1', () => {
    const data = hex(`
      5a 68 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d
      1b 24 29 41 d5 c5 5e 1b 24 29 41 d0 a1 b6 ab 3d 20`);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 58'], 'PN'), 'Zhang^XiaoDong=张^小东= ');
  });

  it('ISO 2022 IR 58: multi-line text', () => {
    // 第一行 = B5 DA D2 BB D0 D0, 第二行 = B5 DA B6 FE D0 D0
    const data = bytes('1.', ESC_GB2312, [0xb5, 0xda, 0xd2, 0xbb, 0xd0, 0xd0], '\r\n2.', ESC_GB2312, [0xb5, 0xda, 0xb6, 0xfe, 0xd0, 0xd0]);
    assert.equal(decodeText(data, ['', 'ISO 2022 IR 58'], 'LT'), '1.第一行\r\n2.第二行');
  });

  it('skips unknown escape sequences', () => {
    assert.equal(decodeText(bytes('A', [0x1b, 0x24, 0x29, 0x5a], 'B'), ['', 'ISO 2022 IR 87'], 'LO'), 'AB');
  });
});

describe('multi-byte character sets without code extensions (Table C.12-5)', () => {
  it('ISO_IR 192 (UTF-8): PS3.5 Annex J', () => {
    const data = hex('57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d e7 8e 8b 5e e5 b0 8f e6 9d b1 3d');
    assert.equal(decodeText(data, ['ISO_IR 192'], 'PN'), 'Wang^XiaoDong=王^小東=');
  });

  it('GB18030: PS3.5 Annex J, and a four-byte sequence outside GBK', () => {
    const data = hex('57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d cd f5 5e d0 a1 b6 ab 3d');
    assert.equal(decodeText(data, ['GB18030'], 'PN'), 'Wang^XiaoDong=王^小东=');
    // U+20000 𠀀 = 95 32 82 36 in GB18030
    assert.equal(decodeText(hex('95 32 82 36'), ['GB18030'], 'LO'), '\u{20000}');
  });

  it('GB18030: multi-line text', () => {
    // 第一行文字。 = B5DA D2BB D0D0 CEC4 D7D6 A1A3
    const line = [0xb5, 0xda, 0xd2, 0xbb, 0xd0, 0xd0, 0xce, 0xc4, 0xd7, 0xd6, 0xa1, 0xa3];
    assert.equal(decodeText(bytes('1.', line, '\r\n'), ['GB18030'], 'LT'), '1.第一行文字。\r\n');
  });

  it('GBK and GB18030: a 0x5C trail byte is part of the character, not a delimiter', () => {
    // 乗 = GBK 81 5C. The value is 乗\A: only the single-byte 05/12 separates values.
    const data = hex('81 5c 5c 41');
    for (const term of ['GBK', 'GB18030']) {
      const text = decodeText(data, [term], 'LO');
      assert.deepEqual(text.split('\\'), ['乗', 'A']);
    }
    // A naive split of the bytes first would break the character.
    assert.notDeepEqual(
      data.toString('latin1').split('\\').map((v) => decodeText(Buffer.from(v, 'latin1'), ['GBK'], 'LO')),
      ['乗', 'A'],
    );
  });
});

describe('VRs and terms', () => {
  it('applies the character set only to SH, LO, ST, LT, UC, UT and PN', () => {
    const utf8 = Buffer.from('é', 'utf8');
    for (const vr of ['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']) {
      assert.equal(isCharacterSetVr(vr), true);
      assert.equal(decodeText(utf8, ['ISO_IR 192'], vr), 'é');
    }
    for (const vr of ['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'TM', 'UI', 'UR']) {
      assert.equal(isCharacterSetVr(vr), false);
      assert.equal(decodeText(utf8, ['ISO_IR 192'], vr), 'Ã©');
    }
  });

  it('knows every Defined Term of C.12.1.1.2 and reports the rest', () => {
    const terms = [
      '', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127', 'ISO_IR 126',
      'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 203', 'ISO_IR 13', 'ISO_IR 166', 'ISO 2022 IR 6', 'ISO 2022 IR 100',
      'ISO 2022 IR 101', 'ISO 2022 IR 109', 'ISO 2022 IR 110', 'ISO 2022 IR 144', 'ISO 2022 IR 127',
      'ISO 2022 IR 126', 'ISO 2022 IR 138', 'ISO 2022 IR 148', 'ISO 2022 IR 203', 'ISO 2022 IR 13',
      'ISO 2022 IR 166', 'ISO 2022 IR 87', 'ISO 2022 IR 159', 'ISO 2022 IR 149', 'ISO 2022 IR 58',
      'ISO_IR 192', 'GB18030', 'GBK',
    ];
    for (const t of terms) assert.equal(isKnownCharacterSet(t), true, t);
    for (const t of ['ISO_IR 999', 'UTF-8', 'ISO-IR 100', 'latin1']) assert.equal(isKnownCharacterSet(t), false, t);
  });

  it('decodes an unknown term as ISO 8859-1, and obvious misspellings as meant', () => {
    assert.equal(decodeText(hex('e9'), ['WHATEVER'], 'LO'), 'é');
    assert.equal(decodeText(hex('c4 e9'), ['ISO-IR 126'], 'LO'), 'Δι');
    assert.equal(decodeText(Buffer.from('王', 'utf8'), ['UTF-8'], 'LO'), '王');
  });

  it('parses the raw value of (0008,0005), keeping an empty value 1', () => {
    assert.deepEqual(parseSpecificCharacterSet(bytes('\\ISO 2022 IR 87 ')), ['', 'ISO 2022 IR 87']);
    assert.deepEqual(parseSpecificCharacterSet(bytes('ISO_IR 100')), ['ISO_IR 100']);
  });

  it('resolves a character set once and reuses it', () => {
    const cs = resolveCharacterSet(['', 'ISO 2022 IR 149']);
    assert.equal(resolveCharacterSet(['', 'ISO 2022 IR 149']), cs);
    assert.equal(decodeTextWith(cs, bytes(ESC_KSX1001, [0xc8, 0xab]), 'PN'), '홍');
  });
});
