/**
 * Frames of a stored instance (PS3.18 10.4 "Frames"): native frames cut out of Pixel Data by
 * arithmetic (rows x columns x samples x bits allocated / 8), encapsulated frames from the Basic
 * Offset Table (dcmjs groups fragments by it) or one fragment per frame, and RLE frames decoded to
 * native little endian on request. The answer names the transfer syntax of the bytes it gives.
 */
import { ArchiveBadRequest, ArchiveNotAcceptable, ArchiveNotFound } from './archive-errors';
import { DcmjsDataset, readPart10 } from './dcmjs-binding';
import { StoredInstance } from './dicom-archive';
import { binaryBytes } from './dicom-json';
import { T } from './dicom-tags';
import { RleFrameGeometry, decodeRleFrame } from './rle-decoder';
import { TS, isNativeTransferSyntax } from './transfer-syntaxes';

/** '*' = as stored; otherwise the transfer syntax UID asked for. */
export type TransferSyntaxWish = '*' | string;

export interface FramesAnswer {
  transferSyntaxUid: string;
  frames: Buffer[];
}

/** "1,3,2" -> [1, 3, 2]: distinct positive integers in the order asked. */
export function parseFrameList(list: string): number[] {
  const items = list.split(',');
  const numbers = items.map((item) => (/^\d+$/.test(item) ? Number(item) : NaN));
  if (numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new ArchiveBadRequest(`frame list "${list}" must be comma-separated numbers from 1`);
  if (new Set(numbers).size !== numbers.length) throw new ArchiveBadRequest(`frame list "${list}" repeats a frame`);
  return numbers;
}

function numberAt(dict: DcmjsDataset, tag: string, fallback: number): number {
  const n = Number(dict[tag]?.Value?.[0]);
  return Number.isFinite(n) ? n : fallback;
}

export function frameGeometry(dict: DcmjsDataset): RleFrameGeometry & { numberOfFrames: number } {
  return {
    rows: numberAt(dict, T.Rows, 0),
    columns: numberAt(dict, T.Columns, 0),
    samplesPerPixel: numberAt(dict, T.SamplesPerPixel, 1),
    bitsAllocated: numberAt(dict, T.BitsAllocated, 8),
    planarConfiguration: numberAt(dict, T.PlanarConfiguration, 0),
    numberOfFrames: numberAt(dict, T.NumberOfFrames, 1),
  };
}

/** Every frame as stored (native: little endian except for Big Endian files; encapsulated: the compressed bytes). */
export function storedFrames(dict: DcmjsDataset, transferSyntaxUid: string): Buffer[] {
  const pixelData = dict[T.PixelData];
  if (!pixelData) throw new ArchiveNotFound('the instance has no Pixel Data');
  const geometry = frameGeometry(dict);
  if (isNativeTransferSyntax(transferSyntaxUid)) {
    const bytes = binaryBytes(pixelData);
    const frameBits = geometry.rows * geometry.columns * geometry.samplesPerPixel * geometry.bitsAllocated;
    if (frameBits === 0) throw new ArchiveNotAcceptable('Rows, Columns or Bits Allocated missing: frames cannot be located');
    if (frameBits % 8 !== 0 && geometry.numberOfFrames > 1) throw new ArchiveNotAcceptable('frames of 1-bit Pixel Data that do not end on a byte are not supported');
    const frameSize = Math.ceil(frameBits / 8);
    return Array.from({ length: geometry.numberOfFrames }, (_, i) => bytes.subarray(i * frameSize, (i + 1) * frameSize));
  }
  const items = (pixelData.Value ?? []).filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((v) => Buffer.from(v));
  if (items.length === geometry.numberOfFrames) return items;
  if (geometry.numberOfFrames === 1) return [Buffer.concat(items)];
  throw new ArchiveNotAcceptable(`${items.length} fragments for ${geometry.numberOfFrames} frames and no Basic Offset Table: frames cannot be told apart`);
}

function swap16(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  return copy.length % 2 === 0 ? copy.swap16() : copy;
}

/** Frames re-expressed as Explicit VR Little Endian bytes, or undefined when the fake cannot. */
export function framesAsExplicitLittleEndian(frames: Buffer[], dict: DcmjsDataset, storedUid: string): Buffer[] | undefined {
  const geometry = frameGeometry(dict);
  if (storedUid === TS.RLELossless) return frames.map((f) => decodeRleFrame(f, geometry));
  if (storedUid === TS.ExplicitVRBigEndian) return geometry.bitsAllocated === 16 ? frames.map(swap16) : geometry.bitsAllocated === 8 ? frames : undefined;
  if (isNativeTransferSyntax(storedUid)) return frames;
  return undefined;
}

/** The syntax native bytes are labelled with when sent as stored: inflated deflate data is plain ELE. */
function storedLabel(uid: string): string {
  return uid === TS.DeflatedExplicitVRLittleEndian ? TS.ExplicitVRLittleEndian : uid;
}

export function instanceFrames(instance: StoredInstance, bytes: Buffer, numbers: number[], wish: TransferSyntaxWish): FramesAnswer {
  if (!instance.hasPixelData) throw new ArchiveNotFound(`instance ${instance.sopInstanceUid} has no Pixel Data, hence no frames`);
  const beyond = numbers.find((n) => n > instance.numberOfFrames);
  if (beyond !== undefined) throw new ArchiveNotFound(`frame ${beyond} not found: instance ${instance.sopInstanceUid} has ${instance.numberOfFrames}`);
  const dict = readPart10(bytes).dict;
  const stored = instance.transferSyntaxUid;
  const all = storedFrames(dict, stored);
  if (wish === '*' || wish === stored || (wish === TS.ExplicitVRLittleEndian && storedLabel(stored) === wish)) {
    return { transferSyntaxUid: storedLabel(stored), frames: numbers.map((n) => all[n - 1]) };
  }
  if (wish === TS.ExplicitVRLittleEndian) {
    const picked = framesAsExplicitLittleEndian(numbers.map((n) => all[n - 1]), dict, stored);
    if (picked) return { transferSyntaxUid: TS.ExplicitVRLittleEndian, frames: picked };
  }
  throw new ArchiveNotAcceptable(`frames stored as ${stored} cannot be given as ${wish}`);
}
