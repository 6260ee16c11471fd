/**
 * The graphic character sets that DICOM designates into the code elements G0 and G1
 * (PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5), each as a decoder from bytes to a JS string.
 *
 * The multi-byte sets are decoded with Node's WHATWG TextDecoder (full ICU), after turning the
 * ISO 2022 bytes into the EUC form those decoders read: a 94x94 set invoked in GR (G1, 8-bit mode)
 * already is its EUC form; one invoked in GL (G0) gets the high bit set on both bytes.
 */
import { TextDecoder } from 'node:util';

export interface GraphicSet {
  readonly name: string;
  /** Two bytes per character (the 94x94 sets); such a set in G0 uses the bytes 05/12, 05/14 and
   *  03/13 inside characters, so they are not delimiters while it is invoked. */
  readonly multiByte: boolean;
  /** Decodes bytes[start, end), all of which belong to this set's half of the code table
   *  (GL 0x21-0x7E for G0 sets, GR 0x80-0xFF for G1 sets). */
  decode(bytes: Buffer, start: number, end: number): string;
}

/** ISO-IR 6 (ASCII), the default G0 set. */
export const ASCII: GraphicSet = {
  name: 'ISO-IR 6',
  multiByte: false,
  decode: (bytes, start, end) => bytes.toString('latin1', start, end),
};

/** ISO-IR 14, JIS X 0201 Romaji (G0 of ISO_IR 13): ASCII but for YEN SIGN at 05/12 and OVERLINE at
 *  07/14. A 05/12 that delimits values never reaches this decoder (PS3.5 6.1.2.3, PS3.18 F.2.4). */
export const JIS_X0201_ROMAJI: GraphicSet = {
  name: 'ISO-IR 14',
  multiByte: false,
  decode(bytes, start, end) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      s += b === 0x5c ? '\u00a5' : b === 0x7e ? '\u203e' : String.fromCharCode(b);
    }
    return s;
  },
};

/** A single-byte set for GR from a 256-entry table (only 0x80-0xFF are used). */
function tableSet(name: string, table: readonly string[]): GraphicSet {
  return {
    name,
    multiByte: false,
    decode(bytes, start, end) {
      let s = '';
      for (let i = start; i < end; i++) s += table[bytes[i]];
      return s;
    },
  };
}

/** The upper half of an ISO 8859 part. 0x80-0x9F are the C1 controls, as in ISO 8859 itself; the
 *  WHATWG decoders for 'iso-8859-9' and 'tis-620' are really windows-1254 and windows-874, which put
 *  printable characters there, so only 0xA0-0xFF are taken from them. */
function iso8859Upper(name: string, whatwgLabel: string): GraphicSet {
  const decoder = new TextDecoder(whatwgLabel);
  const table: string[] = [];
  for (let b = 0; b < 0xa0; b++) table.push(String.fromCharCode(b));
  const upper = decoder.decode(Uint8Array.from({ length: 0x60 }, (_, i) => 0xa0 + i));
  for (const ch of upper) table.push(ch);
  if (table.length !== 256) throw new Error(`unexpected decoding table for ${whatwgLabel}`);
  return tableSet(name, table);
}

/** ISO-IR 100, ISO 8859-1: byte value = code point, so Node's latin1 is exact. */
export const LATIN_1: GraphicSet = { name: 'ISO-IR 100', multiByte: false, decode: ASCII.decode };

/** The 96-character G1 sets of Table C.12-2/C.12-3, keyed by ISO-IR number. Built on first use. */
const iso8859Labels: Record<string, [string, string]> = {
  '101': ['ISO-IR 101', 'iso-8859-2'], // Latin alphabet No. 2
  '109': ['ISO-IR 109', 'iso-8859-3'], // Latin alphabet No. 3
  '110': ['ISO-IR 110', 'iso-8859-4'], // Latin alphabet No. 4
  '144': ['ISO-IR 144', 'iso-8859-5'], // Cyrillic
  '127': ['ISO-IR 127', 'iso-8859-6'], // Arabic
  '126': ['ISO-IR 126', 'iso-8859-7'], // Greek
  '138': ['ISO-IR 138', 'iso-8859-8'], // Hebrew
  '148': ['ISO-IR 148', 'iso-8859-9'], // Latin alphabet No. 5
  '203': ['ISO-IR 203', 'iso-8859-15'], // Latin alphabet No. 9
  '166': ['ISO-IR 166', 'windows-874'], // TIS 620-2533 (Thai)
};
const iso8859Cache = new Map<string, GraphicSet>();

export function iso8859Set(irNumber: string): GraphicSet | undefined {
  if (irNumber === '100') return LATIN_1;
  let set = iso8859Cache.get(irNumber);
  if (!set) {
    const labels = iso8859Labels[irNumber];
    if (!labels) return undefined;
    set = iso8859Upper(labels[0], labels[1]);
    iso8859Cache.set(irNumber, set);
  }
  return set;
}

/** ISO-IR 13, JIS X 0201 Katakana in G1: 0xA1-0xDF are the half-width katakana U+FF61-U+FF9F. */
export const JIS_X0201_KATAKANA: GraphicSet = {
  name: 'ISO-IR 13',
  multiByte: false,
  decode(bytes, start, end) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      s += b >= 0xa1 && b <= 0xdf ? String.fromCharCode(0xff61 + b - 0xa1) : b < 0xa0 ? String.fromCharCode(b) : '\ufffd';
    }
    return s;
  },
};

let eucJp: TextDecoder | undefined;
let eucKr: TextDecoder | undefined;
let gb18030: TextDecoder | undefined;

/** ISO-IR 87, JIS X 0208 in G0 (ESC $ B): set the high bit on both bytes, which is EUC-JP. */
export const JIS_X0208: GraphicSet = {
  name: 'ISO-IR 87',
  multiByte: true,
  decode(bytes, start, end) {
    const euc = Buffer.allocUnsafe(end - start);
    for (let i = start; i < end; i++) euc[i - start] = bytes[i] | 0x80;
    return (eucJp ??= new TextDecoder('euc-jp')).decode(euc);
  },
};

/** ISO-IR 159, JIS X 0212 in G0 (ESC $ ( D): EUC-JP code set 3 is 0x8F followed by both bytes with
 *  the high bit set. */
export const JIS_X0212: GraphicSet = {
  name: 'ISO-IR 159',
  multiByte: true,
  decode(bytes, start, end) {
    const n = end - start;
    const euc = Buffer.allocUnsafe(Math.ceil(n / 2) * 3);
    let o = 0;
    for (let i = start; i < end; i += 2) {
      euc[o++] = 0x8f;
      euc[o++] = bytes[i] | 0x80;
      if (i + 1 < end) euc[o++] = bytes[i + 1] | 0x80;
    }
    return (eucJp ??= new TextDecoder('euc-jp')).decode(euc.subarray(0, o));
  },
};

/** ISO-IR 149, KS X 1001 in G1 (ESC $ ) C): GR bytes are EUC-KR. */
export const KS_X1001: GraphicSet = {
  name: 'ISO-IR 149',
  multiByte: true,
  decode: (bytes, start, end) => (eucKr ??= new TextDecoder('euc-kr')).decode(bytes.subarray(start, end)),
};

/** ISO-IR 58, GB 2312 in G1 (ESC $ ) A): GR bytes are EUC-CN, a subset of GB18030. */
export const GB2312: GraphicSet = {
  name: 'ISO-IR 58',
  multiByte: true,
  decode: (bytes, start, end) => (gb18030 ??= new TextDecoder('gb18030')).decode(bytes.subarray(start, end)),
};
