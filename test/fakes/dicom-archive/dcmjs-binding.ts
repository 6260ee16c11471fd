/**
 * The few parts of dcmjs the fake archive uses, with types. dcmjs is the fake's only DICOM parser
 * and writer: the fake must judge the gateway independently, so it never imports the gateway's own
 * DICOM code. dcmjs hands out a dataset as a DICOM JSON-like dictionary keyed by 8-digit upper
 * case hex tags, text already decoded to UTF-8 (it then reports Specific Character Set ISO_IR 192).
 */
import * as dcmjs from 'dcmjs';

export interface DcmjsElement {
  vr: string;
  /** Text and numbers; PN as { Alphabetic, Ideographic, Phonetic }; binary as ArrayBuffers; SQ as datasets. */
  Value?: unknown[];
  _rawValue?: unknown;
}

export type DcmjsDataset = Record<string, DcmjsElement>;

export interface DcmjsFile {
  meta: DcmjsDataset;
  dict: DcmjsDataset;
}

interface DcmjsDictionaryEntry {
  tag: string; // "(0010,0010)"
  vr: string;
  name: string;
}

interface DcmjsModule {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean }): DcmjsFile };
    DicomDict: new (meta: DcmjsDataset) => { dict: DcmjsDataset; write(options?: { fragmentMultiframe?: boolean }): ArrayBuffer };
    DicomMetaDictionary: { nameMap: Record<string, DcmjsDictionaryEntry>; dictionary: Record<string, DcmjsDictionaryEntry> };
  };
  log: DcmjsLogger & { getLogger(name: string): DcmjsLogger };
}

interface DcmjsLogger {
  getLevel(): number;
  setLevel(level: number | string): void;
}

const lib = dcmjs as unknown as DcmjsModule;

const loggers = [lib.log, lib.log.getLogger('validation.dcmjs')];

/** dcmjs logs harmless complaints ("Invalid vr type xs - using US") on the console; quiet them only while we call it. */
function quietly<T>(work: () => T): T {
  const previous = loggers.map((l) => l.getLevel());
  loggers.forEach((l) => l.setLevel('silent'));
  try {
    return work();
  } finally {
    loggers.forEach((l, i) => l.setLevel(previous[i]));
  }
}

export function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Parses a whole Part-10 file (throws on anything dcmjs cannot read). */
export function readPart10(bytes: Buffer): DcmjsFile {
  return quietly(() => lib.data.DicomMessage.readFile(toArrayBuffer(bytes)));
}

/** Writes a Part-10 file in the transfer syntax named by the meta's (0002,0010). */
export function writePart10(meta: DcmjsDataset, dict: DcmjsDataset): Buffer {
  return quietly(() => {
    const file = new lib.data.DicomDict(meta);
    file.dict = dict;
    return Buffer.from(file.write({ fragmentMultiframe: false }));
  });
}

export interface DictionaryEntry {
  tag: string; // "00100010"
  vr: string;
  keyword: string;
}

const byKeyword = new Map<string, DictionaryEntry>();
const byTag = new Map<string, DictionaryEntry>();
for (const raw of Object.values(lib.data.DicomMetaDictionary.nameMap)) {
  const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(raw.tag);
  if (!m) continue;
  const keyword = raw.name.replace(/^RETIRED_/, '');
  const entry: DictionaryEntry = { tag: (m[1] + m[2]).toUpperCase(), vr: raw.vr, keyword };
  if (!byTag.has(entry.tag)) byTag.set(entry.tag, entry);
  if (!byKeyword.has(keyword) || !raw.name.startsWith('RETIRED_')) byKeyword.set(keyword, entry);
}

export function dictionaryByKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

export function dictionaryByTag(tag: string): DictionaryEntry | undefined {
  return byTag.get(tag.toUpperCase());
}
