/**
 * Where the parts of a stored instance that WADO-RS serves by offset are: the frames of its Pixel
 * Data and every bulk data value its metadata points to (by the same tag path as the BulkDataURI,
 * "bulkdata/<path>"). Computed once from the parsed header, at ingest (or the first time an older
 * instance is read), and stored in the index, so a frame or bulk data request is one read.
 */
import { DicomDataset, ParsedPart10, Tags, tagToHex } from '../../dicom/dataset';
import { FramesNotLocatable, locateEncapsulatedFrames } from '../../dicom/frame-offsets';
import { LossyImageCompression, PixelGeometry, pixelGeometry, readText } from '../../dicom/pixel-geometry';

/** A value's position: [offset, length], or for encapsulated data every fragment's [offset, length]. */
export type BulkEntry = { vr: string; at: [number, number] } | { vr: string; fragments: [number, number][] };

export interface PixelLayout {
  tag: number;
  vr: string;
  geometry: PixelGeometry;
  /** Native Pixel Data: the value's position. */
  native?: [number, number];
  /** Encapsulated: for each frame, its fragments' [offset, length]. */
  frames?: [number, number][][];
  /** Encapsulated frames that could not be located (and why). */
  framesError?: string;
}

export interface InstanceLayout {
  /** Layout format: 2 adds Bits Stored, Pixel Representation and Photometric Interpretation to
   *  the geometry (for the codecs); a layout of another format is recomputed when read. */
  v: typeof LAYOUT_FORMAT;
  pixel?: PixelLayout;
  bulk: Record<string, BulkEntry>;
  lossy: boolean;
}

export const LAYOUT_FORMAT = 2;

/** Reads stored bytes at ingest (the Extended Offset Table, fragment starts). */
export type ReadBytes = (offset: number, length: number) => Promise<Buffer>;

/** Transfer syntaxes whose pixel data is always lossy (JPEG DCT processes, MPEG video). */
const LOSSY_SYNTAXES = new Set([
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.100',
  '1.2.840.10008.1.2.4.101',
  '1.2.840.10008.1.2.4.102',
  '1.2.840.10008.1.2.4.103',
  '1.2.840.10008.1.2.4.104',
  '1.2.840.10008.1.2.4.105',
  '1.2.840.10008.1.2.4.106',
]);

const TOP_LEVEL_PIXELS = [Tags.PixelData, Tags.FloatPixelData, Tags.DoubleFloatPixelData];

/** Every bulk value of the data set by tag path (hex tags and item indexes, as dicom-json.ts). */
function bulkEntries(dataset: DicomDataset): Record<string, BulkEntry> {
  const out: Record<string, BulkEntry> = {};
  const stack: { dataset: DicomDataset; prefix: string }[] = [{ dataset, prefix: '' }];
  while (stack.length > 0) {
    const { dataset: ds, prefix } = stack.pop()!;
    for (const [tag, element] of ds) {
      const path = prefix + tagToHex(tag);
      if (element.items) {
        element.items.forEach((item, i) => stack.push({ dataset: item, prefix: `${path}/${i}/` }));
      } else if (element.bulk) {
        out[path] = { vr: element.vr, at: [element.bulk.offset, element.bulk.length] };
      } else if (element.encapsulated) {
        out[path] = { vr: element.vr, fragments: element.encapsulated.fragments.map((f) => [f.offset, f.length]) };
      }
    }
  }
  return out;
}

/** 64-bit little endian values of an OV element (the Extended Offset Table and its lengths). */
async function ovValues(parsed: ParsedPart10, tag: number, read: ReadBytes): Promise<number[] | undefined> {
  const element = parsed.dataset.get(tag);
  if (!element) return undefined;
  const bytes = element.value ?? (element.bulk ? await read(element.bulk.offset, element.bulk.length) : undefined);
  if (!bytes) return undefined;
  const out: number[] = [];
  for (let o = 0; o + 8 <= bytes.length; o += 8) out.push(Number(bytes.readBigUInt64LE(o)));
  return out;
}

async function pixelLayout(parsed: ParsedPart10, read: ReadBytes): Promise<PixelLayout | undefined> {
  const tag = TOP_LEVEL_PIXELS.find((t) => parsed.dataset.has(t));
  if (tag === undefined) return undefined;
  const element = parsed.dataset.get(tag)!;
  const geometry = pixelGeometry(parsed.dataset, parsed.littleEndian);
  if (!geometry) return undefined;
  const layout: PixelLayout = { tag, vr: element.vr, geometry };
  if (element.bulk) layout.native = [element.bulk.offset, element.bulk.length];
  else if (element.value) return undefined; // never: the parser leaves Pixel Data on disk
  if (element.encapsulated) {
    const { fragments, basicOffsetTable } = element.encapsulated;
    try {
      const located = await locateEncapsulatedFrames({
        fragments,
        basicOffsetTable,
        extendedOffsetTable: await ovValues(parsed, Tags.ExtendedOffsetTable, read),
        extendedOffsetTableLengths: await ovValues(parsed, Tags.ExtendedOffsetTableLengths, read),
        numberOfFrames: geometry.numberOfFrames,
        transferSyntaxUid: parsed.transferSyntaxUid,
        readFragmentStart: (i) => read(fragments[i].offset, Math.min(8, fragments[i].length)),
      });
      layout.frames = located.frames.map((list) => list.map((i): [number, number] => [fragments[i].offset, fragments[i].length]));
    } catch (e) {
      if (!(e instanceof FramesNotLocatable)) throw e;
      layout.framesError = e.message;
    }
  }
  return layout;
}

export async function buildInstanceLayout(parsed: ParsedPart10, read: ReadBytes): Promise<InstanceLayout> {
  const bulk = bulkEntries(parsed.dataset);
  for (const tag of TOP_LEVEL_PIXELS) delete bulk[tagToHex(tag)];
  return {
    v: LAYOUT_FORMAT,
    pixel: await pixelLayout(parsed, read),
    bulk,
    lossy: readText(parsed.dataset, LossyImageCompression) === '01' || LOSSY_SYNTAXES.has(parsed.transferSyntaxUid),
  };
}
