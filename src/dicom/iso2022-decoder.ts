/**
 * Decoding of text values that use ISO/IEC 2022 code extensions (PS3.5 6.1.2.4, 6.1.2.5): escape
 * sequences designate character sets into G0 (invoked in GL, 0x21-0x7E) and G1 (invoked in GR,
 * 0xA0-0xFF, 8-bit mode). G2/G3, locking and single shifts are not used by DICOM (6.1.2.5.1).
 *
 * The single-byte character sets without code extensions (ISO_IR 100, ISO_IR 13, ...) are the same
 * machine with no escape sequences: G0 and G1 fixed by the term.
 */
import {
  ASCII,
  GB2312,
  GraphicSet,
  JIS_X0201_KATAKANA,
  JIS_X0201_ROMAJI,
  JIS_X0208,
  JIS_X0212,
  KS_X1001,
  LATIN_1,
  iso8859Set,
} from './graphic-sets';

export interface CodeElements {
  g0: GraphicSet;
  /** Undefined when nothing is designated into G1 (e.g. 'ISO 2022 IR 6' as value 1). */
  g1: GraphicSet | undefined;
}

/**
 * Which single bytes, while a single-byte set is in G0, end a value or name part. PS3.5 6.1.2.5.3
 * requires the character set of value 1 to be active again before each of them, so the decoder
 * returns to the initial designations there (and before any control character).
 * - 'values': 05/12, the delimiter between values of SH, LO, UC and PN (also when it is the YEN SIGN
 *   of JIS X 0201, PS3.18 F.2.4); it is written out as '\' so that callers split after decoding.
 * - 'pn': as 'values', plus the PN component '^' and component group '=' delimiters.
 * - 'none': single-valued text (ST, LT, UT).
 */
export type Delimiters = 'none' | 'values' | 'pn';

const ESC = 0x1b;

/** Escape sequences of PS3.3 Tables C.12-3 and C.12-4, keyed by the bytes after ESC. */
const g0Designations = new Map<string, GraphicSet>([
  ['(B', ASCII], // ISO-IR 6
  ['(J', JIS_X0201_ROMAJI], // ISO-IR 14
  ['$B', JIS_X0208], // ISO-IR 87
  ['$@', JIS_X0208], // ISO-IR 42 (JIS C 6226-1978), seen in old Japanese data; decoded as its successor
  ['$(B', JIS_X0208],
  ['$(D', JIS_X0212], // ISO-IR 159
]);

const g1Designations = new Map<string, () => GraphicSet | undefined>([
  [')I', () => JIS_X0201_KATAKANA], // ISO-IR 13
  ['$)C', () => KS_X1001], // ISO-IR 149
  ['$)A', () => GB2312], // ISO-IR 58
  ['-A', () => LATIN_1], // ISO-IR 100
  ['-B', () => iso8859Set('101')],
  ['-C', () => iso8859Set('109')],
  ['-D', () => iso8859Set('110')],
  ['-L', () => iso8859Set('144')],
  ['-G', () => iso8859Set('127')],
  ['-F', () => iso8859Set('126')],
  ['-H', () => iso8859Set('138')],
  ['-M', () => iso8859Set('148')],
  ['-b', () => iso8859Set('203')],
  ['-T', () => iso8859Set('166')],
]);

/**
 * Decodes one element value. `initial` is what value 1 of Specific Character Set designates; it is
 * in force at the start of the value and again after each delimiter and control character.
 * `fallbackG1` decodes GR bytes met while nothing is designated into G1: writers that omit the
 * escape sequence before e.g. Korean text are common enough to be worth reading.
 */
export function decodeIso2022(
  bytes: Buffer,
  initial: CodeElements,
  fallbackG1: GraphicSet | undefined,
  delimiters: Delimiters,
): string {
  let g0 = initial.g0;
  let g1 = initial.g1;
  const end = bytes.length;
  let out = '';
  let i = 0;
  while (i < end) {
    const b = bytes[i];
    if (b === ESC) {
      i = applyEscape(bytes, i, (set) => (g0 = set), (set) => (g1 = set));
      continue;
    }
    if (b < 0x21 || b === 0x7f) {
      // SPACE and DEL are the same in every set; C0 controls (CR, LF, FF, TAB, ...) reset.
      if (b < 0x20) {
        g0 = initial.g0;
        g1 = initial.g1;
      }
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let j = i + 1;
    if (b >= 0x80) {
      while (j < end && bytes[j] >= 0x80) j++;
      out += (g1 ?? fallbackG1 ?? LATIN_1).decode(bytes, i, j);
      i = j;
      continue;
    }
    if (g0.multiByte) {
      while (j < end && bytes[j] >= 0x21 && bytes[j] < 0x7f) j++;
      out += g0.decode(bytes, i, j);
      i = j;
      continue;
    }
    if (isDelimiter(b, delimiters)) {
      out += b === 0x5c ? '\\' : String.fromCharCode(b);
      g0 = initial.g0;
      g1 = initial.g1;
      i++;
      continue;
    }
    while (j < end) {
      const c = bytes[j];
      if (c < 0x21 || c >= 0x7f || isDelimiter(c, delimiters)) break;
      j++;
    }
    out += g0.decode(bytes, i, j);
    i = j;
  }
  return out;
}

function isDelimiter(b: number, delimiters: Delimiters): boolean {
  if (delimiters === 'none') return false;
  return b === 0x5c || (delimiters === 'pn' && (b === 0x5e || b === 0x3d));
}

/** Reads the escape sequence at bytes[start] (ESC, intermediate bytes 02/00-02/15, one final byte
 *  03/00-07/14, ISO 2022 13.1) and applies it. Unknown sequences are skipped. Returns the index
 *  after the sequence. */
function applyEscape(
  bytes: Buffer,
  start: number,
  setG0: (set: GraphicSet) => void,
  setG1: (set: GraphicSet) => void,
): number {
  let i = start + 1;
  while (i < bytes.length && bytes[i] >= 0x20 && bytes[i] <= 0x2f) i++;
  if (i >= bytes.length) return bytes.length;
  if (bytes[i] < 0x30 || bytes[i] > 0x7e) return i; // not an escape sequence: drop the lone ESC
  const key = bytes.toString('latin1', start + 1, i + 1);
  const g0 = g0Designations.get(key);
  if (g0) setG0(g0);
  else {
    const g1 = g1Designations.get(key)?.();
    if (g1) setG1(g1);
  }
  return i + 1;
}
