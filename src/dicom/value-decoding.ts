/**
 * Raw element values to the JSON values of the DICOM JSON Model (PS3.18 F.2.3, Table F.2.3-1), for
 * every VR except SQ and the binary VRs (those are handled in dicom-json.ts).
 */
import { CharacterSet, decodeTextWith } from './character-sets';
import { PersonName, parsePersonName } from './person-name';

export type JsonValue = string | number | PersonName | null;

/** How padding is removed from each value (PS3.5 Table 6.2-1). */
type Trim = 'both' | 'end';

/**
 * The "Value" array of one element, or undefined when the element has no value (zero length, or
 * only padding), which F.2.5 writes as an attribute without "Value". Empty values among several
 * become null (F.2.5). Returns undefined as well for VRs this module does not handle.
 */
export function decodeValues(value: Buffer, vr: string, littleEndian: boolean, charset: CharacterSet): JsonValue[] | undefined {
  if (value.length === 0) return undefined;
  switch (vr) {
    // Default repertoire, leading and trailing spaces not significant. UI is padded with NUL, which
    // the trim removes too.
    case 'AE':
    case 'AS':
    case 'CS':
    case 'DA':
    case 'DT':
    case 'TM':
    case 'UI':
      return strings(value.toString('latin1'), 'both');
    // Specific Character Set applies (PS3.5 6.1.2.3). SH and LO may be padded on both sides; UC and
    // PN only with trailing spaces, leading ones are significant.
    case 'SH':
    case 'LO':
      return strings(decodeTextWith(charset, value, vr), 'both');
    case 'UC':
      return strings(decodeTextWith(charset, value, vr), 'end');
    case 'PN':
      return personNames(decodeTextWith(charset, value, vr));
    // Single-valued: a backslash is text here. Leading spaces are significant (Table 6.2-1).
    case 'ST':
    case 'LT':
    case 'UT':
      return single(decodeTextWith(charset, value, vr));
    case 'UR':
      return single(value.toString('latin1'));
    case 'DS':
      return decimals(value.toString('latin1'), DS_PATTERN);
    case 'IS':
      return decimals(value.toString('latin1'), IS_PATTERN);
    case 'AT':
      return attributeTags(value, littleEndian);
    case 'SV':
    case 'UV':
      return bigIntegers(value, vr === 'SV', littleEndian);
    default: {
      const reader = numberReaders[vr];
      return reader ? numbers(value, reader, littleEndian) : undefined;
    }
  }
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c !== 0x20 && c !== 0) break;
    e--;
  }
  return e === s.length ? s : s.slice(0, e);
}

function trimBoth(s: string): string {
  let b = 0;
  while (b < s.length && (s.charCodeAt(b) === 0x20 || s.charCodeAt(b) === 0)) b++;
  return trimEnd(b === 0 ? s : s.slice(b));
}

/** Multi-valued strings: split on '\' after decoding (see decodeTextWith). */
function strings(text: string, trim: Trim): JsonValue[] | undefined {
  const parts = text.split('\\');
  const out: JsonValue[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) {
    const v = trim === 'both' ? trimBoth(parts[k]) : trimEnd(parts[k]);
    out[k] = v === '' ? null : v;
  }
  return out.length === 1 && out[0] === null ? undefined : out;
}

function single(text: string): JsonValue[] | undefined {
  const v = trimEnd(text);
  return v === '' ? undefined : [v];
}

function personNames(text: string): JsonValue[] | undefined {
  const parts = text.split('\\');
  const out: JsonValue[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) out[k] = parsePersonName(trimEnd(parts[k]));
  return out.length === 1 && out[0] === null ? undefined : out;
}

// PS3.5 Table 6.2-1: DS is a fixed or floating point number, IS an optionally signed integer.
const DS_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const IS_PATTERN = /^[+-]?\d+$/;

/**
 * DS and IS as JSON numbers. A value that is not a number in the VR's syntax (or overflows a double)
 * is kept as the JSON string it was, which F.2.3.1 allows for IS and DS "to preserve the original
 * format": it is neither lost nor turned into a wrong number.
 */
function decimals(text: string, pattern: RegExp): JsonValue[] | undefined {
  const parts = text.split('\\');
  const out: JsonValue[] = new Array(parts.length);
  for (let k = 0; k < parts.length; k++) {
    const v = trimBoth(parts[k]);
    if (v === '') {
      out[k] = null;
      continue;
    }
    const n = pattern.test(v) ? Number(v) : NaN;
    out[k] = Number.isFinite(n) ? n + 0 : v; // + 0: '-0' is 0, as JSON would read it back
  }
  return out.length === 1 && out[0] === null ? undefined : out;
}

type NumberReader = [size: number, read: (b: Buffer, offset: number, le: boolean) => number];

/** Fixed-size binary numbers in the data set's byte order (PS3.5 7.3). */
const numberReaders: Record<string, NumberReader> = {
  US: [2, (b, o, le) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o))],
  SS: [2, (b, o, le) => (le ? b.readInt16LE(o) : b.readInt16BE(o))],
  UL: [4, (b, o, le) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o))],
  SL: [4, (b, o, le) => (le ? b.readInt32LE(o) : b.readInt32BE(o))],
  FL: [4, (b, o, le) => shortestFloat32(le ? b.readFloatLE(o) : b.readFloatBE(o))],
  FD: [8, (b, o, le) => (le ? b.readDoubleLE(o) : b.readDoubleBE(o))],
};

/** The shortest decimal that reads back as the same float32, so that 0.1f is written 0.1 rather
 *  than 0.10000000149011612 (both denote the same FL value). */
function shortestFloat32(f: number): number {
  if (!Number.isFinite(f) || f === 0 || Number.isInteger(f)) return f;
  for (let p = 6; p < 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return Number(f.toPrecision(9));
}

/** NaN and infinities have no JSON number form: they are written as null. -0 becomes 0, as JSON
 *  would read it back. */
function numbers(value: Buffer, [size, read]: NumberReader, le: boolean): JsonValue[] | undefined {
  const n = Math.floor(value.length / size);
  if (n === 0) return undefined;
  const out: JsonValue[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const v = read(value, k * size, le);
    out[k] = Number.isFinite(v) ? v + 0 : null;
  }
  return out;
}

/** SV and UV: JSON numbers while exactly representable, decimal strings beyond
 *  Number.MAX_SAFE_INTEGER (F.2.3.1). */
function bigIntegers(value: Buffer, signed: boolean, le: boolean): JsonValue[] | undefined {
  const n = Math.floor(value.length / 8);
  if (n === 0) return undefined;
  const out: JsonValue[] = new Array(n);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  for (let k = 0; k < n; k++) {
    const o = k * 8;
    const v = signed ? (le ? value.readBigInt64LE(o) : value.readBigInt64BE(o)) : le ? value.readBigUInt64LE(o) : value.readBigUInt64BE(o);
    out[k] = v <= max && v >= -max ? Number(v) : v.toString();
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/** Eight uppercase hex digits, as tags are written in the DICOM JSON Model (F.2.2). */
export function hex8(tag: number): string {
  return HEX[tag >>> 24] + HEX[(tag >>> 16) & 0xff] + HEX[(tag >>> 8) & 0xff] + HEX[tag & 0xff];
}

/** AT: pairs of 16-bit group and element numbers, written as 'GGGGEEEE' (Table F.2.3-1). */
function attributeTags(value: Buffer, le: boolean): JsonValue[] | undefined {
  const n = Math.floor(value.length / 4);
  if (n === 0) return undefined;
  const out: JsonValue[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const group = le ? value.readUInt16LE(k * 4) : value.readUInt16BE(k * 4);
    const element = le ? value.readUInt16LE(k * 4 + 2) : value.readUInt16BE(k * 4 + 2);
    out[k] = hex8(((group << 16) | element) >>> 0);
  }
  return out;
}
