/**
 * Re-encodes a stored instance as an Explicit VR Little Endian Part-10 file (PS3.5 A.2), the
 * transfer syntax PS3.18 8.7.3 makes the default of DICOMweb: from Implicit VR Little Endian,
 * Explicit VR Big Endian, a data set without File Meta Information, and RLE Lossless (decoded).
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
import { frameBytes, pixelGeometry, PixelRepresentation, readUs } from './pixel-geometry';
import { RandomAccessBytes } from './random-access';
import { decodeRleFrame } from './rle-decoder';
import { TS } from './transfer-syntax';

export interface ExplicitLittleEndianInput {
  parsed: ParsedPart10;
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
  const { parsed, source } = input;
  if (parsed.deflated || !canEncodeExplicitLittleEndian(parsed.transferSyntaxUid)) {
    throw new InvalidDicom('unsupported-transfer-syntax', `cannot re-encode ${parsed.transferSyntaxUid} as Explicit VR Little Endian here`);
  }
  const le = parsed.littleEndian;
  const implicit = !parsed.explicitVr;
  const decodingPixels = parsed.transferSyntaxUid === TS.RLELossless;
  const pixelRepresentation = readUs(parsed.dataset, PixelRepresentation, le);

  let batch: Buffer[] = [filePreambleAndMeta({ sopClassUid: input.sopClassUid, sopInstanceUid: input.sopInstanceUid, transferSyntaxUid: TS.ExplicitVRLittleEndian, sourceMeta: parsed.meta })];
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

  const stack: Task[] = [{ kind: 'elements', dataset: parsed.dataset, elements: ascending(parsed.dataset), next: 0, inItem: false }];
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
      yield* decodedPixelData(element, task.dataset, source);
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

/** RLE Lossless Pixel Data as native OB/OW (PS3.5 8.2, G): one frame decoded at a time. */
async function* decodedPixelData(element: DicomElement, dataset: DicomDataset, source: RandomAccessBytes): AsyncGenerator<Buffer> {
  const pixels = element.encapsulated!;
  const geometry = pixelGeometry(dataset, true);
  if (!geometry) throw new InvalidDicom('malformed', 'RLE Pixel Data without Rows, Columns or Bits Allocated');
  const located = await locateEncapsulatedFrames({
    fragments: pixels.fragments,
    basicOffsetTable: pixels.basicOffsetTable,
    numberOfFrames: geometry.numberOfFrames,
    transferSyntaxUid: TS.RLELossless,
    readFragmentStart: (i) => source.read(pixels.fragments[i].offset, Math.min(8, pixels.fragments[i].length)),
  });
  const total = frameBytes(geometry) * geometry.numberOfFrames;
  const padded = total + (total % 2);
  yield elementHeader(element.tag >>> 0, geometry.bitsAllocated > 8 ? 'OW' : 'OB', padded);
  for (const fragmentIndexes of located.frames) {
    const parts = await Promise.all(fragmentIndexes.map((i) => source.read(pixels.fragments[i].offset, pixels.fragments[i].length)));
    yield decodeRleFrame(parts.length === 1 ? parts[0] : Buffer.concat(parts), geometry);
  }
  if (padded > total) yield Buffer.alloc(1);
}
