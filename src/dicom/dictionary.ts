/**
 * The DICOM data dictionary (PS3.6): tag <-> keyword, and the VR to use when a data set is encoded
 * with implicit VR. Built once from the dictionary dcmjs maintains, so we do not keep our own copy.
 */
import * as dcmjs from 'dcmjs';
import { Tag, tagToHex } from './dataset';

export interface DictionaryEntry {
  tag: Tag;
  keyword: string;
  /** Resolved VR: ambiguous dictionary VRs ('US or SS', 'OB or OW') are resolved to the value
   *  the standard prescribes for implicit VR Little Endian (US, OW). */
  vr: string;
}

const byTag = new Map<Tag, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();

function resolveVr(vr: string): string {
  switch (vr) {
    case 'ox':
      return 'OW';
    case 'xs':
      return 'US';
    case 'up':
      return 'UL';
    case 'lt':
      return 'OW';
    case 'na':
      return 'UN';
    default:
      return vr;
  }
}

function load(): void {
  const nameMap = (dcmjs as any).data.DicomMetaDictionary.nameMap as Record<
    string,
    { tag: string; vr: string; name: string }
  >;
  for (const raw of Object.values(nameMap)) {
    const m = /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$/.exec(raw.tag);
    if (!m || raw.name.startsWith('RETIRED_') && byKeyword.has(raw.name.slice(8))) continue;
    const tag = parseInt(m[1] + m[2], 16) >>> 0;
    const keyword = raw.name.replace(/^RETIRED_/, '');
    const entry: DictionaryEntry = { tag, keyword, vr: resolveVr(raw.vr) };
    if (!byTag.has(tag)) byTag.set(tag, entry);
    if (!byKeyword.has(keyword)) byKeyword.set(keyword, entry);
  }
}
load();

/** Repeating groups (50xx curves, 60xx overlays) are listed under their first group. */
function canonicalTag(tag: Tag): Tag {
  const group = tag >>> 16;
  if ((group & 0xff01) === 0x6000 || (group & 0xff01) === 0x5000) {
    return ((group & 0xff00) << 16 | (tag & 0xffff)) >>> 0;
  }
  return tag;
}

export function lookupTag(tag: Tag): DictionaryEntry | undefined {
  return byTag.get(tag) ?? byTag.get(canonicalTag(tag));
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

/** VR for an element read with implicit VR. */
export function implicitVr(tag: Tag): string {
  if ((tag & 0xffff) === 0) return 'UL'; // group length
  const group = tag >>> 16;
  if (group & 1) return 'UN'; // private
  return lookupTag(tag)?.vr ?? 'UN';
}

export function keywordOf(tag: Tag): string | undefined {
  return lookupTag(tag)?.keyword;
}

/** "PatientID" or "00100020" -> tag; undefined if neither a known keyword nor 8 hex digits. */
export function parseAttributeName(name: string): Tag | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(name)) return parseInt(name, 16) >>> 0;
  return lookupKeyword(name)?.tag;
}

export function describeTag(tag: Tag): string {
  const kw = keywordOf(tag);
  const hex = tagToHex(tag);
  return `(${hex.slice(0, 4)},${hex.slice(4)})${kw ? ' ' + kw : ''}`;
}
