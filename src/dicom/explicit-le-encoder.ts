/**
 * Re-encodes a stored instance as an Explicit VR Little Endian Part-10 file (PS3.5 A.2), the
 * transfer syntax PS3.18 8.7.3 makes the default of DICOMweb: from Implicit VR Little Endian,
 * Explicit VR Big Endian, a data set without File Meta Information, and RLE Lossless (decoded).
 * With a `transcode` (pixels/ codecs, given by the caller) the Pixel Data is converted frame by
 * frame instead: compressed frames decoded, or native ones encoded into an encapsulated syntax
 * (PS3.5 A.4: an empty Basic Offset Table, one fragment per frame), the other attributes the
 * conversion changes replaced, and the File Meta Information naming the new syntax.
 *
 * It streams: elements are written from the parsed header, and every value left on disk (Pixel
 * Data and other bulk values) is copied from the stored bytes by offset, byte-swapped on the way
 * when the source is big endian. Nesting is walked with an explicit stack, as the parser reads it.
 *
 * Choices, all valid Explicit VR Little Endian: sequences and items are written with undefined
 * length; group length elements (gggg,0000) are dropped, since re-encoding changes every length
 * they would count (PS3.5 7.2 makes them optional); implicit VRs come from the dictionary, with
 * "US or SS" and "OB or OW" resolved (ambiguous-vr.ts); a short-VR value of 64 KiB or more, only
 * possible with implicit VR, becomes UN (PS3.5 6.2.2).
 */
import { explicitVrForImplicit, PixelContext } from './ambiguous-vr';
import { swapChunks, swapped, swapWordSize } from './byte-swap';
import { DicomDataset, DicomElement, ParsedPart10, Tag, Tags } from './dataset';
import { InvalidDicom } from './errors';
import { locateEncapsulatedFrames } from './frame-offsets';
import { elementHeader, encodableVr, filePreambleAndMeta, itemHeader, UNDEFINED_LENGTH } from './part10-writer';
import { frameBytes, PixelGeometry, pixelGeometry, PixelRepresentation, readUs } from './pixel-geometry';
import { RandomAccessBytes } from './random-access';
import { decodeRleFrame } from './rle-decoder';
import { lookupTransferSyntax, TS } from './transfer-syntax';

/** A conversion of the Pixel Data, frame by frame (dicomweb/wado/instance-transcoding.ts). */
export interface PixelTranscode {
  /** Transfer syntax of the output (its File Meta Information says so). */
  targetSyntax: string;
  /** Converts one frame (0-based index): a codestream of the stored syntax, or native little
   *  endian pixels when the stored Pixel Data is native. */
  frame(index: number, bytes: Buffer, geometry: PixelGeometry): Promise<Buffer>;
  /** Top-level attributes to write instead of (or besides) the stored ones, explicit-VR values. */
  replace: Map<Tag, { vr: string; value: Buffer }>;
}

export interface ExplicitLittleEndianInput {
  parsed: ParsedPart10;
  transcode?: PixelTranscode;
  /** The stored bytes the parsed offsets point into. */
  source: RandomAccessBytes;
  /** For the File Meta Information (Media Storage SOP Class / Instance UID). */
  sopClassUid: string;
  sopInstanceUid: string;
}

/** Below this, written bytes are gathered into one chunk instead of many tiny ones. */
const BATCH_BYTES = 64 * 1024;

type Task =
  | { kind: 'elements'; dataset: DicomDataset; elements: DicomElement[]; next: number; inItem: boolean }
  | { kind: 'items'; items: DicomDataset[]; next: number };

function ascending(dataset: DicomDataset): DicomElement[] {
  return [...dataset.values()].sort((a, b) => (a.tag >>> 0) - (b.tag >>> 0));
}

/** Elements that are not written: group lengths, and the offset tables of RLE data being decoded. */
function dropped(tag: Tag, decodingPixels: boolean): boolean {
  if ((tag & 0xffff) === 0) return true;
  if (tag >>> 16 === 0x0002) return true;
  return decodingPixels && (tag === Tags.ExtendedOffsetTable || tag === Tags.ExtendedOffsetTableLengths);
}

export function canEncodeExplicitLittleEndian(transferSyntaxUid: string): boolean {
  return (
    transferSyntaxUid === TS.ImplicitVRLittleEndian ||
    transferSyntaxUid === TS.ExplicitVRLittleEndian ||
    transferSyntaxUid === TS.ExplicitVRBigEndian ||
    transferSyntaxUid === TS.RLELossless
  );
}

export async function* encodeExplicitLittleEndian(input: ExplicitLittleEndianInput): AsyncGenerator<Buffer> {
  const { parsed, source, transcode } = input;
  if (parsed.deflated || (!transcode && !canEncodeExplicitLittleEndian(parsed.transferSyntaxUid))) {
    throw new InvalidDicom('unsupported-transfer-syntax', `cannot re-encode ${parsed.transferSyntaxUid} as Explicit VR Little Endian here`);
  }
  const le = parsed.littleEndian;
  const implicit = !parsed.explicitVr;
  const decodingPixels = parsed.transferSyntaxUid === TS.RLELossless || transcode !== undefined;
  const pixelRepresentation = readUs(parsed.dataset, PixelRepresentation, le);
  const targetSyntax = transcode?.targetSyntax ?? TS.ExplicitVRLittleEndian;
  const convert = transcode ? transcode.frame.bind(transcode) : (_: number, bytes: Buffer, g: PixelGeometry) => Promise.resolve(decodeRleFrame(bytes, g));
  const top = transcode ? withReplacements(parsed.dataset, transcode.replace) : parsed.dataset;

  let batch: Buffer[] = [filePreambleAndMeta({ sopClassUid: input.sopClassUid, sopInstanceUid: input.sopInstanceUid, transferSyntaxUid: targetSyntax, sourceMeta: parsed.meta })];
  let batched = batch[0].length;
  const put = (b: Buffer) => {
    batch.push(b);
    batched += b.length;
  };
  const take = (): Buffer => {
    const out = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return out;
  };

  const stack: Task[] = [{ kind: 'elements', dataset: top, elements: ascending(top), next: 0, inItem: false }];
  while (stack.length > 0) {
    if (batched >= BATCH_BYTES) yield take();
    const task = stack[stack.length - 1];
    if (task.kind === 'items') {
      if (task.next >= task.items.length) {
        stack.pop();
        put(itemHeader(Tags.SequenceDelimitationItem, 0));
        continue;
      }
      const item = task.items[task.next++];
      put(itemHeader(Tags.Item, UNDEFINED_LENGTH));
      stack.push({ kind: 'elements', dataset: item, elements: ascending(item), next: 0, inItem: true });
      continue;
    }
    if (task.next >= task.elements.length) {
      stack.pop();
      if (task.inItem) put(itemHeader(Tags.ItemDelimitationItem, 0));
      continue;
    }
    const element = task.elements[task.next++];
    const tag = element.tag >>> 0;
    if (dropped(tag, decodingPixels)) continue;
    if (element.items) {
      put(elementHeader(tag, 'SQ', UNDEFINED_LENGTH));
      stack.push({ kind: 'items', items: element.items, next: 0 });
      continue;
    }
    const context: PixelContext = { pixelRepresentation, bitsAllocated: readUs(task.dataset, Tags.BitsAllocated, le) };
    const vrIn = element.vr;
    const vrOut = implicit ? explicitVrForImplicit(tag, vrIn, context) : vrIn;
    if (element.encapsulated) {
      if (!decodingPixels) throw new InvalidDicom('unsupported-transfer-syntax', 'encapsulated Pixel Data in a native transfer syntax');
      yield take();
      yield* convertedPixelData(element, task.dataset, source, parsed.transferSyntaxUid, targetSyntax, convert);
      continue;
    }
    if (transcode && element.bulk && tag === Tags.PixelData && stack.length === 1) {
      yield take();
      yield* encodedNativePixelData(element, task.dataset, source, le, convert);
      continue;
    }
    if (element.bulk) {
      put(elementHeader(tag, encodableVr(vrOut, element.bulk.length), element.bulk.length));
      yield take();
      const bytes = source.stream(element.bulk.offset, element.bulk.length);
      yield* le ? bytes : swapChunks(bytes, swapWordSize(vrIn));
      continue;
    }
    const value = element.value ?? Buffer.alloc(0);
    put(elementHeader(tag, encodableVr(vrOut, value.length), value.length));
    if (value.length > 0) put(le ? value : swapped(value, swapWordSize(vrIn)));
  }
  if (batched > 0) yield take();
}

/** Top-level elements with some replaced or added (their values already explicit-VR encoded). */
function withReplacements(dataset: DicomDataset, replace: Map<Tag, { vr: string; value: Buffer }>): DicomDataset {
  const out: DicomDataset = new Map(dataset);
  for (const [tag, { vr, value }] of replace) out.set(tag, { tag, vr, value });
  return out;
}

type FrameConversion = (index: number, bytes: Buffer, geometry: PixelGeometry) => Promise<Buffer>;

/** Encapsulated Pixel Data converted one frame at a time: to native OB/OW (RLE or another
 *  codec decoded), or to another encapsulated syntax. */
async function* convertedPixelData(
  element: DicomElement,
  dataset: DicomDataset,
  source: RandomAccessBytes,
  storedSyntax: string,
  targetSyntax: string,
  convert: FrameConversion,
): AsyncGenerator<Buffer> {
  const pixels = element.encapsulated!;
  const geometry = pixelGeometry(dataset, true);
  if (!geometry) throw new InvalidDicom('malformed', 'encapsulated Pixel Data without Rows, Columns or Bits Allocated');
  const located = await locateEncapsulatedFrames({
    fragments: pixels.fragments,
    basicOffsetTable: pixels.basicOffsetTable,
    numberOfFrames: geometry.numberOfFrames,
    transferSyntaxUid: storedSyntax,
    readFragmentStart: (i) => source.read(pixels.fragments[i].offset, Math.min(8, pixels.fragments[i].length)),
  });
  const frames = (async function* () {
    let index = 0;
    for (const fragmentIndexes of located.frames) {
      const parts = await Promise.all(fragmentIndexes.map((i) => source.read(pixels.fragments[i].offset, pixels.fragments[i].length)));
      yield await convert(index++, parts.length === 1 ? parts[0] : Buffer.concat(parts), geometry);
    }
  })();
  if (lookupTransferSyntax(targetSyntax)?.encapsulated) {
    yield* encapsulated(element.tag >>> 0, frames);
    return;
  }
  const total = frameBytes(geometry) * geometry.numberOfFrames;
  const padded = total + (total % 2);
  yield elementHeader(element.tag >>> 0, geometry.bitsAllocated > 8 ? 'OW' : 'OB', padded);
  for await (const frame of frames) yield frame;
  if (padded > total) yield Buffer.alloc(1);
}

/** Native Pixel Data (read frame by frame by offset, made little endian) encoded into an
 *  encapsulated syntax. */
async function* encodedNativePixelData(element: DicomElement, dataset: DicomDataset, source: RandomAccessBytes, littleEndian: boolean, convert: FrameConversion): AsyncGenerator<Buffer> {
  const geometry = pixelGeometry(dataset, littleEndian);
  if (!geometry) throw new InvalidDicom('malformed', 'Pixel Data without Rows, Columns or Bits Allocated');
  const size = frameBytes(geometry);
  if (geometry.bitsAllocated % 8 !== 0) throw new InvalidDicom('unsupported-transfer-syntax', `pixels of ${geometry.bitsAllocated} bits cannot be compressed`);
  if (element.bulk!.length < size * geometry.numberOfFrames) {
    throw new InvalidDicom('malformed', `Pixel Data of ${element.bulk!.length} bytes is shorter than ${geometry.numberOfFrames} frame(s) of ${size}`);
  }
  const wordSize = swapWordSize(element.vr);
  const frames = (async function* () {
    for (let i = 0; i < geometry.numberOfFrames; i++) {
      const raw = await source.read(element.bulk!.offset + i * size, size);
      yield await convert(i, littleEndian ? raw : swapped(raw, wordSize), geometry);
    }
  })();
  yield* encapsulated(element.tag >>> 0, frames);
}

/** PS3.5 A.4: OB of undefined length, an empty Basic Offset Table, one even-length fragment per frame. */
async function* encapsulated(tag: number, frames: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield Buffer.concat([elementHeader(tag, 'OB', UNDEFINED_LENGTH), itemHeader(Tags.Item, 0)]);
  for await (const frame of frames) {
    const odd = frame.length % 2 === 1;
    yield itemHeader(Tags.Item, frame.length + (odd ? 1 : 0));
    yield frame;
    if (odd) yield Buffer.alloc(1);
  }
  yield itemHeader(Tags.SequenceDelimitationItem, 0);
}
