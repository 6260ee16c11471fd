/**
 * Specific Character Set (0008,0005): from the bytes of a text value to a JS string.
 *
 * Covers every Defined Term of PS3.3 C.12.1.1.2 (Tables C.12-2 to C.12-5). Value 1 is the
 * repertoire in force at the start of each value (empty = the default repertoire, ISO-IR 6); values
 * 2..n are the sets that ISO 2022 escape sequences may switch to (PS3.5 6.1.2.5). ISO_IR 192
 * (UTF-8), GB18030 and GBK allow no code extensions and are decoded as a whole.
 *
 * Only SH, LO, ST, LT, UC, UT and PN are affected; every other string VR uses the default
 * repertoire (PS3.5 6.1.2.3) and is read byte for byte.
 */
import { TextDecoder } from 'node:util';
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
import { CodeElements, Delimiters, decodeIso2022 } from './iso2022-decoder';

interface TermDefinition {
  /** Set of the term in G0, when not ISO-IR 6. */
  g0?: GraphicSet;
  /** Set of the term in G1; a function so that tables are built only for terms in use. */
  g1?: () => GraphicSet | undefined;
  /** WHATWG encoding label for the terms decoded as a whole (no code extensions). */
  whole?: string;
}

const definitions = new Map<string, TermDefinition>();

function define(terms: string[], definition: TermDefinition): void {
  for (const term of terms) definitions.set(term, definition);
}

// Default repertoire: value 1 empty (or absent), or ISO 2022 IR 6 with code extensions.
define(['', 'ISO 2022 IR 6'], {});
// Single-byte sets, Tables C.12-2 (without extensions) and C.12-3 (with): ISO-IR 6 in G0 and an
// ISO 8859 part (or TIS 620) in G1.
for (const ir of ['100', '101', '109', '110', '144', '127', '126', '138', '148', '203', '166']) {
  define([`ISO_IR ${ir}`, `ISO 2022 IR ${ir}`], { g1: () => iso8859Set(ir) });
}
// JIS X 0201: Romaji in G0, Katakana in G1.
define(['ISO_IR 13', 'ISO 2022 IR 13'], { g0: JIS_X0201_ROMAJI, g1: () => JIS_X0201_KATAKANA });
// Multi-byte sets with code extensions, Table C.12-4.
define(['ISO 2022 IR 87'], { g0: JIS_X0208 });
define(['ISO 2022 IR 159'], { g0: JIS_X0212 });
define(['ISO 2022 IR 149'], { g1: () => KS_X1001 });
define(['ISO 2022 IR 58'], { g1: () => GB2312 });
// Multi-byte sets without code extensions, Table C.12-5.
define(['ISO_IR 192'], { whole: 'utf-8' });
define(['GB18030'], { whole: 'gb18030' });
define(['GBK'], { whole: 'gbk' });

/** Misspellings seen in the wild, decoded as what they obviously mean. isKnownCharacterSet() still
 *  reports them as unknown so that callers can warn about the non-conformant data. */
function lenientDefinition(term: string): TermDefinition | undefined {
  const t = term.toUpperCase();
  const known = definitions.get(t);
  if (known) return known;
  if (t === 'ISO_IR 6' || t === 'ISO-IR 6' || t === 'ISO IR 6') return {};
  if (t === 'UTF-8' || t === 'UTF8' || t === 'ISO_IR192') return definitions.get('ISO_IR 192');
  if (t === 'GB2312') return definitions.get('GB18030');
  const m2022 = /^ISO[-_ ]?2022[-_ ]?IR[-_ ]?(\d+)$/.exec(t);
  if (m2022) return definitions.get(`ISO 2022 IR ${m2022[1]}`);
  const m = /^ISO[-_ ]?IR[-_ ]?(\d+)$/.exec(t);
  if (m) return definitions.get(`ISO_IR ${m[1]}`) ?? definitions.get(`ISO 2022 IR ${m[1]}`);
  return undefined;
}

/** True for the Defined Terms of PS3.3 C.12.1.1.2 and the empty value 1. Anything else is decoded
 *  leniently (close misspellings as what they mean, the rest as ISO 8859-1): callers may warn. */
export function isKnownCharacterSet(term: string): boolean {
  return definitions.has(term.trim());
}

/** The VRs whose values Specific Character Set applies to (PS3.5 6.1.2.3, PS3.3 C.12.1.1.2). */
export function isCharacterSetVr(vr: string): boolean {
  return vr === 'PN' || vr === 'LO' || vr === 'SH' || vr === 'ST' || vr === 'LT' || vr === 'UT' || vr === 'UC';
}

/** A resolved Specific Character Set, ready to decode values. Obtain with resolveCharacterSet(). */
export interface CharacterSet {
  readonly terms: readonly string[];
  /** Decoder for UTF-8, GB18030 or GBK as value 1; such values are not ISO 2022 structured. */
  readonly whole: TextDecoder | undefined;
  /** Designations in force at the start of each value (from value 1). */
  readonly initial: CodeElements;
  /** G1 set used for GR bytes while nothing is designated into G1 (see decodeIso2022). */
  readonly fallbackG1: GraphicSet | undefined;
}

const resolved = new Map<string, CharacterSet>();

export function resolveCharacterSet(terms: readonly string[] | undefined): CharacterSet {
  const key = terms ? terms.join('\\') : '';
  let cs = resolved.get(key);
  if (!cs) {
    cs = build(terms ?? []);
    if (resolved.size > 1000) resolved.clear(); // bound the cache against junk terms
    resolved.set(key, cs);
  }
  return cs;
}

function build(terms: readonly string[]): CharacterSet {
  const first = (terms[0] ?? '').trim();
  const def = lenientDefinition(first);
  let fallbackG1: GraphicSet | undefined;
  for (let k = 1; k < terms.length && !fallbackG1; k++) fallbackG1 = lenientDefinition(terms[k].trim())?.g1?.();
  if (!def) {
    // Unknown value 1: ISO 8859-1 is the most common undeclared repertoire.
    return { terms, whole: undefined, initial: { g0: ASCII, g1: LATIN_1 }, fallbackG1 };
  }
  if (def.whole) return { terms, whole: new TextDecoder(def.whole), initial: { g0: ASCII, g1: undefined }, fallbackG1: undefined };
  // A 94x94 set as value 1 is not designated into G0 up front: such data (seen with a missing
  // leading backslash) starts with ASCII and switches with escape sequences anyway.
  const g0 = def.g0 && !def.g0.multiByte ? def.g0 : ASCII;
  return { terms, whole: undefined, initial: { g0, g1: def.g1?.() }, fallbackG1 };
}

/** Splits the raw value of Specific Character Set (0008,0005) into its terms (value 1 may be
 *  empty). */
export function parseSpecificCharacterSet(value: Buffer): string[] {
  return value.toString('latin1').split('\\').map((t) => t.replace(/^[ \0]+|[ \0]+$/g, ''));
}

function delimitersOf(vr: string): Delimiters {
  if (vr === 'PN') return 'pn';
  if (vr === 'ST' || vr === 'LT' || vr === 'UT') return 'none';
  return 'values';
}

/** No byte needs a character set: no GR byte and no escape sequence. */
function isPlainAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x80 || b === 0x1b) return false;
  }
  return true;
}

/**
 * Decodes one element's value bytes with a resolved character set. Values are not split: for
 * multi-valued VRs each single-byte 05/12 delimiter comes out as '\', and no '\' comes out
 * otherwise (a 0x5C inside a GBK or JIS X 0208 character is part of that character, PS3.5
 * 6.1.2.3), so callers split the returned string on '\'.
 */
export function decodeTextWith(charset: CharacterSet, bytes: Buffer, vr: string): string {
  if (!isCharacterSetVr(vr)) return bytes.toString('latin1');
  if (charset.whole) return isPlainAscii(bytes) ? bytes.toString('latin1') : charset.whole.decode(bytes);
  if (charset.initial.g0 === ASCII && isPlainAscii(bytes)) return bytes.toString('latin1');
  return decodeIso2022(bytes, charset.initial, charset.fallbackG1, delimitersOf(vr));
}

/** decodeTextWith() for callers that hold the terms of (0008,0005) rather than a resolved set. */
export function decodeText(bytes: Buffer, specificCharacterSet: readonly string[] | undefined, vr: string): string {
  if (!isCharacterSetVr(vr)) return bytes.toString('latin1');
  return decodeTextWith(resolveCharacterSet(specificCharacterSet), bytes, vr);
}
