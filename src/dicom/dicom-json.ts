/**
 * DicomDataset -> DICOM JSON Model (PS3.18 Annex F, F.2). Runs at ingest of every instance, so it
 * makes one pass over the elements and decodes each value once.
 */
import { DicomDataset, DicomElement, Tags } from './dataset';
import { CharacterSet, parseSpecificCharacterSet, resolveCharacterSet } from './character-sets';
import { decodeValues, hex8 } from './value-decoding';

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJsonObject = Record<string, DicomJsonAttribute>;

export interface DicomJsonOptions {
  /** Byte order of the raw values (false only for Explicit VR Big Endian). */
  littleEndian: boolean;
  /** Inherited from the parent data set (for items); the data set's own (0008,0005) overrides. */
  specificCharacterSet?: string[];
  /** Binary values longer than this (bytes) become BulkDataURI; default 1024. Only applies when
   *  bulkDataUri is given: without it every binary value held in memory is written inline. */
  inlineBinaryThreshold?: number;
  /** URI for a bulk data value. path = hex tags and item indexes joined by '/', e.g. '7FE00010' or
   *  '00540016/0/00181074'. Returning undefined writes the attribute with no value. Values with
   *  `bulk` or `encapsulated` always go through here (without it they are written with no value). */
  bulkDataUri?: (path: string, element: DicomElement) => string | undefined;
}

/** VRs written as InlineBinary or BulkDataURI (F.2.7). */
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** Every VR of PS3.5 Table 6.2-1; an element with anything else is written as UN. */
const KNOWN_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

/** Word size of the binary VRs that are byte-swapped from big endian (PS3.5 7.3); OB and UN are
 *  byte streams. */
const WORD_SIZE: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

interface Writer {
  littleEndian: boolean;
  threshold: number;
  bulkDataUri: DicomJsonOptions['bulkDataUri'];
}

export function toDicomJson(dataset: DicomDataset, options: DicomJsonOptions): DicomJsonObject {
  const writer: Writer = {
    littleEndian: options.littleEndian,
    threshold: options.inlineBinaryThreshold ?? 1024,
    bulkDataUri: options.bulkDataUri,
  };
  return writeDataset(writer, dataset, options.specificCharacterSet, '');
}

function writeDataset(writer: Writer, dataset: DicomDataset, inherited: string[] | undefined, pathPrefix: string): DicomJsonObject {
  // A Specific Character Set in a sequence item applies to that item (and its items) only; without
  // one the item uses its parent's (PS3.5 7.5).
  const own = dataset.get(Tags.SpecificCharacterSet)?.value;
  const terms = own && own.length > 0 ? parseSpecificCharacterSet(own) : inherited;
  const charset = resolveCharacterSet(terms);
  const out: DicomJsonObject = {};
  for (const [key, element] of ascending(dataset)) {
    const tag = key >>> 0;
    const group = tag >>> 16;
    // F.2.2: no group length elements; group 0002 is File Meta Information, not the data set;
    // FFFE are item delimiters and (FFFC,FFFC) is Data Set Trailing Padding (PS3.10 7.2), neither
    // of which is an attribute.
    if ((tag & 0xffff) === 0 || group === 0x0002 || group >= 0xfffc) continue;
    const hex = hex8(tag);
    out[hex] = writeElement(writer, element, charset, terms, pathPrefix, hex);
  }
  return out;
}

/** F.2.2 wants ascending tags. The parser delivers stream order, which is ascending in a well-formed
 *  data set, so the sort is only paid for malformed input. Checked before writing anything, so that
 *  bulkDataUri is called once per element. */
function ascending(dataset: DicomDataset): DicomDataset {
  let previous = -1;
  for (const key of dataset.keys()) {
    const tag = key >>> 0;
    if (tag < previous) return new Map([...dataset].sort((a, b) => (a[0] >>> 0) - (b[0] >>> 0)));
    previous = tag;
  }
  return dataset;
}

function writeElement(
  writer: Writer,
  element: DicomElement,
  charset: CharacterSet,
  terms: string[] | undefined,
  pathPrefix: string,
  hex: string,
): DicomJsonAttribute {
  // UN of undefined length is a sequence in Implicit VR Little Endian (PS3.5 6.2.2): if the parser
  // read items, it is written as the sequence it is.
  if (element.items) {
    const attr: DicomJsonAttribute = { vr: 'SQ' };
    if (element.items.length > 0) {
      attr.Value = element.items.map((item, index) => writeDataset(writer, item, terms, `${pathPrefix}${hex}/${index}/`));
    }
    return attr;
  }
  const vr = KNOWN_VRS.has(element.vr) ? element.vr : 'UN';
  const attr: DicomJsonAttribute = { vr };
  if (element.bulk || element.encapsulated) {
    const uri = writer.bulkDataUri?.(pathPrefix + hex, element);
    if (uri !== undefined) attr.BulkDataURI = uri;
    return attr;
  }
  const value = element.value;
  if (!value || value.length === 0 || vr === 'SQ') return attr; // F.2.5: no "Value"
  if (BINARY_VRS.has(vr)) {
    if (writer.bulkDataUri && value.length > writer.threshold) {
      const uri = writer.bulkDataUri(pathPrefix + hex, element);
      if (uri !== undefined) attr.BulkDataURI = uri;
    } else {
      attr.InlineBinary = littleEndianBytes(value, vr, writer.littleEndian).toString('base64');
    }
    return attr;
  }
  const values = decodeValues(value, vr, writer.littleEndian, charset);
  if (values) attr.Value = values;
  return attr;
}

/** InlineBinary is written in Little Endian whatever the stored transfer syntax (Explicit VR Big
 *  Endian is retired, PS3.5 A.3), so clients always see the same bytes: words of big endian
 *  OW/OF/OL/OD/OV are swapped, on a copy (the data set is not changed). A trailing partial word
 *  (malformed) is left as is. */
function littleEndianBytes(value: Buffer, vr: string, littleEndian: boolean): Buffer {
  const size = WORD_SIZE[vr];
  if (littleEndian || !size) return value;
  const copy = Buffer.from(value);
  const whole = copy.subarray(0, copy.length - (copy.length % size));
  if (size === 2) whole.swap16();
  else if (size === 4) whole.swap32();
  else whole.swap64();
  return copy;
}
