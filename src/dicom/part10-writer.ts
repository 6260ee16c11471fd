/**
 * Encoding of Part-10 files in Explicit VR Little Endian (PS3.5 7.1.2, PS3.10 7.1): element and
 * item headers, and a File Meta Information generated for a data set, for answers the gateway
 * writes itself (transcoded instances, data sets stored without File Meta Information).
 */
import { DicomDataset, Tag, Tags } from './dataset';
import { vrFromName } from './vr-codes';

/** Identifies this gateway as the writer of the files it re-encodes (PS3.10 7.1, PS3.7 D.3.3.2);
 *  a UUID-derived UID (PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.245978966502370232554971392779652788433';
export const IMPLEMENTATION_VERSION_NAME = 'DICOMWEB_GW_1';

/** Value Length 0xFFFFFFFF (PS3.5 7.1.1). */
export const UNDEFINED_LENGTH = 0xffffffff;

/** Whether an explicit VR header for this VR has the 2 reserved bytes and a 32-bit length. */
export function hasLongLength(vr: string): boolean {
  return vrFromName(vr).longLength;
}

/** Explicit VR Little Endian element header. The caller makes sure a short-length VR gets a
 *  length below 65536 (see encodableVr). */
export function elementHeader(tag: Tag, vr: string, length: number): Buffer {
  if (hasLongLength(vr)) {
    const b = Buffer.allocUnsafe(12);
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
    b.write(vr, 4, 2, 'latin1');
    b.writeUInt16LE(0, 6);
    b.writeUInt32LE(length >>> 0, 8);
    return b;
  }
  const b = Buffer.allocUnsafe(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.write(vr, 4, 2, 'latin1');
  b.writeUInt16LE(length, 6);
  return b;
}

/** Item, Item Delimitation or Sequence Delimitation header: (FFFE,xxxx) and a 32-bit length. */
export function itemHeader(tag: Tag, length: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.writeUInt32LE(length >>> 0, 4);
  return b;
}

/** A short-length VR cannot carry 64 KiB or more in explicit VR; such a value (only possible when
 *  it was read with implicit VR) is written as UN, which PS3.5 6.2.2 allows for exactly this. */
export function encodableVr(vr: string, length: number): string {
  return length > 0xffff && !hasLongLength(vr) ? 'UN' : vr;
}

/** A UI value padded with NUL to even length (PS3.5 6.2). */
function uiValue(uid: string): Buffer {
  const b = Buffer.from(uid, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.alloc(1)]);
}

function textValue(text: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from(' ')]);
}

export interface FileMetaOptions {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The File Meta Information the stored file had, if any: elements other than those this
   *  writer sets (e.g. Source Application Entity Title) are kept when their value is in memory. */
  sourceMeta?: DicomDataset;
}

/** Elements the writer sets itself (PS3.10 Table 7.1-1). */
const WRITTEN = new Set<Tag>([
  Tags.FileMetaInformationGroupLength,
  0x00020001, // File Meta Information Version
  Tags.MediaStorageSOPClassUID,
  Tags.MediaStorageSOPInstanceUID,
  Tags.TransferSyntaxUID,
  0x00020012, // Implementation Class UID
  0x00020013, // Implementation Version Name
]);

/** 128-byte preamble, "DICM" and a File Meta Information group for the given data set. */
export function filePreambleAndMeta(options: FileMetaOptions): Buffer {
  const elements: { tag: Tag; vr: string; value: Buffer }[] = [
    { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
    { tag: Tags.MediaStorageSOPClassUID, vr: 'UI', value: uiValue(options.sopClassUid) },
    { tag: Tags.MediaStorageSOPInstanceUID, vr: 'UI', value: uiValue(options.sopInstanceUid) },
    { tag: Tags.TransferSyntaxUID, vr: 'UI', value: uiValue(options.transferSyntaxUid) },
    { tag: 0x00020012, vr: 'UI', value: uiValue(IMPLEMENTATION_CLASS_UID) },
    { tag: 0x00020013, vr: 'SH', value: textValue(IMPLEMENTATION_VERSION_NAME) },
  ];
  for (const [tag, element] of options.sourceMeta ?? []) {
    if (WRITTEN.has(tag >>> 0) || tag >>> 16 !== 0x0002 || !element.value) continue;
    elements.push({ tag: tag >>> 0, vr: element.vr, value: element.value });
  }
  elements.sort((a, b) => a.tag - b.tag);
  const body = Buffer.concat(elements.flatMap((e) => [elementHeader(e.tag, e.vr, e.value.length), e.value]));
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  return Buffer.concat([preamble, elementHeader(Tags.FileMetaInformationGroupLength, 'UL', 4), groupLength, body]);
}
