/**
 * Where the elements of a Part-10 file are, for mutations that must hit a length or a VR rather
 * than a random byte: a walk over the File Meta Information and the data set (explicit or implicit
 * VR, little or big endian, sequences and items of defined or undefined length, encapsulated
 * Pixel Data). Written independently of src/dicom so that the fuzz cases do not share its bugs.
 * Deflated data sets are not walked (their bytes are not the elements).
 */
const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const SYNTAX: Record<string, { explicit: boolean; little: boolean }> = {
  '1.2.840.10008.1.2': { explicit: false, little: true },
  '1.2.840.10008.1.2.2': { explicit: true, little: false },
};

export interface ElementSite {
  tag: number;
  /** undefined in implicit VR (and for items and delimiters). */
  vr?: string;
  /** Offset of the tag. */
  offset: number;
  /** Offset of the two VR bytes, -1 when there are none. */
  vrOffset: number;
  lengthOffset: number;
  lengthSize: 2 | 4;
  littleEndian: boolean;
  valueOffset: number;
  /** 0xFFFFFFFF for undefined length. */
  length: number;
  depth: number;
  /** An item or a delimiter (FFFE,xxxx). */
  item: boolean;
}

export interface ElementMap {
  sites: ElementSite[];
  datasetOffset: number;
}

/** Walks `file` (a Part-10 file with "DICM"); undefined when it cannot be walked. */
export function mapElements(file: Buffer): ElementMap | undefined {
  if (file.length < 132 || file.toString('latin1', 128, 132) !== 'DICM') return undefined;
  const sites: ElementSite[] = [];
  let at = 132;
  let syntax = '1.2.840.10008.1.2.1';
  // File Meta Information: explicit VR little endian, group 0002 only.
  while (at + 8 <= file.length && file.readUInt16LE(at) === 0x0002) {
    const site = header(file, at, true, true, 0);
    if (!site || site.length === UNDEFINED) return undefined;
    sites.push(site);
    if (site.tag === 0x00020010) syntax = file.toString('latin1', site.valueOffset, site.valueOffset + site.length).replace(/[\0 ]+$/, '');
    at = site.valueOffset + site.length;
  }
  if (syntax === '1.2.840.10008.1.2.1.99') return undefined;
  const { explicit, little } = SYNTAX[syntax] ?? { explicit: true, little: true };
  const datasetOffset = at;
  try {
    walk(file, at, file.length, explicit, little, 0, sites);
  } catch {
    return undefined;
  }
  return { sites, datasetOffset };
}

function header(file: Buffer, at: number, explicit: boolean, little: boolean, depth: number): ElementSite | undefined {
  if (at + 8 > file.length) return undefined;
  const u16 = (o: number) => (little ? file.readUInt16LE(o) : file.readUInt16BE(o));
  const u32 = (o: number) => (little ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const tag = ((u16(at) << 16) | u16(at + 2)) >>> 0;
  if (tag >>> 16 === 0xfffe) {
    return { tag, offset: at, vrOffset: -1, lengthOffset: at + 4, lengthSize: 4, littleEndian: little, valueOffset: at + 8, length: u32(at + 4), depth, item: true };
  }
  if (!explicit) {
    return { tag, offset: at, vrOffset: -1, lengthOffset: at + 4, lengthSize: 4, littleEndian: little, valueOffset: at + 8, length: u32(at + 4), depth, item: false };
  }
  const vr = file.toString('latin1', at + 4, at + 6);
  if (!/^[A-Z]{2}$/.test(vr)) return undefined;
  if (LONG_VRS.has(vr)) {
    if (at + 12 > file.length) return undefined;
    return { tag, vr, offset: at, vrOffset: at + 4, lengthOffset: at + 8, lengthSize: 4, littleEndian: little, valueOffset: at + 12, length: u32(at + 8), depth, item: false };
  }
  return { tag, vr, offset: at, vrOffset: at + 4, lengthOffset: at + 6, lengthSize: 2, littleEndian: little, valueOffset: at + 8, length: u16(at + 6), depth, item: false };
}

/** Walks elements from `at` to `end` (or to a delimiter); returns where it stopped. */
function walk(file: Buffer, at: number, end: number, explicit: boolean, little: boolean, depth: number, sites: ElementSite[]): number {
  while (at < end) {
    const site = header(file, at, explicit, little, depth);
    if (!site) throw new Error('unreadable header');
    sites.push(site);
    if (site.item) {
      // Delimiters end the enclosing undefined-length value.
      if (site.tag === 0xfffee00d || site.tag === 0xfffee0dd) return site.valueOffset;
      throw new Error('item outside a sequence');
    }
    const isSequence = site.vr === 'SQ' || (site.length === UNDEFINED && site.tag !== 0x7fe00010);
    if (isSequence) at = walkItems(file, site, explicit && site.vr !== 'UN', little, depth + 1, sites);
    else if (site.length === UNDEFINED) at = walkFragments(file, site.valueOffset, little, depth + 1, sites);
    else at = site.valueOffset + site.length;
  }
  return at;
}

function walkItems(file: Buffer, seq: ElementSite, explicit: boolean, little: boolean, depth: number, sites: ElementSite[]): number {
  const end = seq.length === UNDEFINED ? file.length : seq.valueOffset + seq.length;
  let at = seq.valueOffset;
  while (at < end) {
    const item = header(file, at, false, little, depth);
    if (!item) throw new Error('unreadable item');
    sites.push(item);
    if (item.tag === 0xfffee0dd) return item.valueOffset;
    if (item.tag !== 0xfffee000) throw new Error('not an item');
    at = item.length === UNDEFINED ? walk(file, item.valueOffset, end, explicit, little, depth + 1, sites) : walk(file, item.valueOffset, item.valueOffset + item.length, explicit, little, depth + 1, sites);
  }
  return at;
}

function walkFragments(file: Buffer, at: number, little: boolean, depth: number, sites: ElementSite[]): number {
  while (at < file.length) {
    const item = header(file, at, false, little, depth);
    if (!item) throw new Error('unreadable fragment');
    sites.push(item);
    if (item.tag === 0xfffee0dd) return item.valueOffset;
    at = item.valueOffset + item.length;
  }
  return at;
}

/** A copy of `file` with one site's length field set to `length` (clamped to its field size). */
export function withLength(file: Buffer, site: ElementSite, length: number): Buffer {
  const out = Buffer.from(file);
  if (site.lengthSize === 2) {
    const v = Math.min(length, 0xffff);
    if (site.littleEndian) out.writeUInt16LE(v, site.lengthOffset);
    else out.writeUInt16BE(v, site.lengthOffset);
  } else {
    const v = Math.min(length, UNDEFINED) >>> 0;
    if (site.littleEndian) out.writeUInt32LE(v, site.lengthOffset);
    else out.writeUInt32BE(v, site.lengthOffset);
  }
  return out;
}
