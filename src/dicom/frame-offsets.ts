/**
 * Where each frame of Pixel Data is (PS3.5 8.2, A.4), so a frame can be served with one read by
 * offset instead of parsing the file:
 * - native: by arithmetic (frame n starts at (n-1) x frame size; Bits Allocated 1 packs frames
 *   across byte boundaries, PS3.5 8.1.1);
 * - encapsulated: which fragments make up each frame, from the Extended Offset Table
 *   (7FE0,0001/0002), the Basic Offset Table, one fragment per frame, or, as a last resort, by
 *   finding the fragments that start a codestream (JPEG SOI, JPEG 2000 SOC).
 */
import { PixelGeometry, frameBits } from './pixel-geometry';

export class FramesNotLocatable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramesNotLocatable';
  }
}

// ---- native ---------------------------------------------------------------------------------------

export interface NativeFrameSlice {
  /** First byte holding the frame, relative to the first byte of the Pixel Data value. */
  byteOffset: number;
  /** Bytes to read from there. */
  byteLength: number;
  /** Bits of the first byte that belong to the previous frame (bit-packed data only). */
  bitShift: number;
  /** Bits of the frame. */
  bitLength: number;
}

/** The bytes holding frame `frameNumber` (1-based) of native Pixel Data. */
export function nativeFrameSlice(g: PixelGeometry, frameNumber: number): NativeFrameSlice {
  const bits = frameBits(g);
  const start = (frameNumber - 1) * bits;
  const bitShift = start % 8;
  return { byteOffset: Math.floor(start / 8), byteLength: Math.ceil((bitShift + bits) / 8), bitShift, bitLength: bits };
}

/**
 * The frame's own bytes from what nativeFrameSlice said to read: as is when byte-aligned, else
 * shifted so the frame's first pixel is bit 0 of byte 0 (DICOM packs bits from the least
 * significant end, PS3.5 8.1.1), unused bits of the last byte cleared.
 */
export function extractNativeFrame(bytes: Buffer, slice: NativeFrameSlice): Buffer {
  const outLength = Math.ceil(slice.bitLength / 8);
  if (slice.bitShift === 0 && slice.bitLength % 8 === 0) return bytes.subarray(0, outLength);
  const out = Buffer.alloc(outLength);
  const s = slice.bitShift;
  for (let i = 0; i < outLength; i++) {
    const low = bytes[i] >>> s;
    const high = s > 0 && i + 1 < bytes.length ? (bytes[i + 1] << (8 - s)) & 0xff : 0;
    out[i] = (low | high) & 0xff;
  }
  const tail = slice.bitLength % 8;
  if (tail !== 0) out[outLength - 1] &= (1 << tail) - 1;
  return out;
}

// ---- encapsulated -------------------------------------------------------------------------------

export interface FragmentPosition {
  /** Offset of the fragment's value (after its 8-byte item header). */
  offset: number;
  length: number;
}

export interface EncapsulatedFramesInput {
  fragments: FragmentPosition[];
  basicOffsetTable: number[];
  /** Values of Extended Offset Table (7FE0,0001) and Extended Offset Table Lengths (7FE0,0002). */
  extendedOffsetTable?: number[];
  extendedOffsetTableLengths?: number[];
  numberOfFrames: number;
  transferSyntaxUid: string;
  /** At least the first 8 bytes of a fragment's value; only called when nothing else tells. */
  readFragmentStart(index: number): Promise<Buffer>;
}

export type FrameLocationMethod = 'single-frame' | 'extended-offset-table' | 'basic-offset-table' | 'fragment-per-frame' | 'codestream-markers';

export interface EncapsulatedFrames {
  /** For each frame, the indexes of its fragments (in order). */
  frames: number[][];
  method: FrameLocationMethod;
}

/** Offset of each fragment's item header relative to the first fragment's (how both offset tables
 *  count, PS3.5 A.4). */
function itemOffsets(fragments: FragmentPosition[]): Map<number, number> {
  const first = fragments[0].offset - 8;
  return new Map(fragments.map((f, i) => [f.offset - 8 - first, i]));
}

/** Frames from a table of frame start offsets; undefined when the table does not fit the fragments. */
function fromOffsets(offsets: number[], fragments: FragmentPosition[], frames: number): number[][] | undefined {
  if (offsets.length !== frames || offsets[0] !== 0) return undefined;
  const byOffset = itemOffsets(fragments);
  const starts: number[] = [];
  for (let k = 0; k < offsets.length; k++) {
    const index = byOffset.get(offsets[k]);
    if (index === undefined || (k > 0 && index <= starts[k - 1])) return undefined;
    starts.push(index);
  }
  return groupFromStarts(starts, fragments.length);
}

function groupFromStarts(starts: number[], fragmentCount: number): number[][] {
  return starts.map((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : fragmentCount;
    const list: number[] = [];
    for (let i = start; i < end; i++) list.push(i);
    return list;
  });
}

const JPEG_FAMILY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81']);
const JPEG2000_FAMILY = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203']);

/** Does a fragment start a new codestream? JPEG and JPEG-LS begin with SOI (FFD8, ISO 10918-1
 *  B.2.1); a JPEG 2000 codestream with SOC followed by SIZ (FF4F FF51, ISO 15444-1 A.4), or,
 *  from some writers, a JP2 signature box. Undefined: this syntax has no marker to look for. */
function startsCodestream(transferSyntaxUid: string, head: Buffer): boolean | undefined {
  if (JPEG_FAMILY.has(transferSyntaxUid)) return head.length >= 2 && head[0] === 0xff && head[1] === 0xd8;
  if (JPEG2000_FAMILY.has(transferSyntaxUid)) {
    if (head.length >= 4 && head[0] === 0xff && head[1] === 0x4f && head[2] === 0xff && head[3] === 0x51) return true;
    return head.length >= 8 && head.readUInt32BE(0) === 12 && head.readUInt32BE(4) === 0x6a502020;
  }
  return undefined;
}

export async function locateEncapsulatedFrames(input: EncapsulatedFramesInput): Promise<EncapsulatedFrames> {
  const { fragments, numberOfFrames: frames } = input;
  if (fragments.length === 0) throw new FramesNotLocatable('the encapsulated Pixel Data has no fragment');
  if (frames === 1) return { frames: [fragments.map((_, i) => i)], method: 'single-frame' };
  if (fragments.length < frames) {
    throw new FramesNotLocatable(`${fragments.length} fragment(s) cannot hold ${frames} separately encoded frames`);
  }
  // PS3.5 A.4: with an Extended Offset Table each frame is one fragment, and the Basic one is empty.
  const eot = input.extendedOffsetTable;
  if (eot && eot.length > 0) {
    const found = fromOffsets(eot, fragments, frames);
    if (found && found.every((f) => f.length === 1)) return { frames: found, method: 'extended-offset-table' };
  }
  if (input.basicOffsetTable.length > 0) {
    const found = fromOffsets(input.basicOffsetTable, fragments, frames);
    if (found) return { frames: found, method: 'basic-offset-table' };
  }
  if (fragments.length === frames) return { frames: fragments.map((_, i) => [i]), method: 'fragment-per-frame' };
  // Several fragments per frame and no usable table: look for the codestream starts.
  const starts: number[] = [];
  for (let i = 0; i < fragments.length; i++) {
    const starting = startsCodestream(input.transferSyntaxUid, await input.readFragmentStart(i));
    if (starting === undefined) {
      throw new FramesNotLocatable(
        `${fragments.length} fragments for ${frames} frames, no usable offset table, and transfer syntax ${input.transferSyntaxUid} has no codestream marker to find frame starts by`,
      );
    }
    if (starting) starts.push(i);
  }
  if (starts.length !== frames || starts[0] !== 0) {
    throw new FramesNotLocatable(`${starts.length} codestream start(s) found in ${fragments.length} fragments, but Number of Frames is ${frames}`);
  }
  return { frames: groupFromStarts(starts, fragments.length), method: 'codestream-markers' };
}
