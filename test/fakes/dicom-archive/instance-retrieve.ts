/**
 * One instance as a Part-10 file in the transfer syntax asked for: as stored, or Explicit VR Little
 * Endian re-written by dcmjs from Implicit VR Little Endian or Deflated, or decoded from RLE
 * Lossless. Whatever else is asked and cannot be produced is ArchiveNotAcceptable.
 */
import { ArchiveNotAcceptable } from './archive-errors';
import { DcmjsDataset, readPart10, toArrayBuffer, writePart10 } from './dcmjs-binding';
import { StoredInstance } from './dicom-archive';
import { T } from './dicom-tags';
import { TransferSyntaxWish, frameGeometry, storedFrames } from './pixel-frames';
import { decodeRleFrame } from './rle-decoder';
import { TS } from './transfer-syntaxes';

export type InstanceAnswer =
  | { transferSyntaxUid: string; filePath: string }
  | { transferSyntaxUid: string; bytes: Buffer };

const REWRITABLE_AS_EXPLICIT_LE = new Set<string>([TS.ImplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian, TS.RLELossless]);

export function retrieveInstance(instance: StoredInstance, wish: TransferSyntaxWish, readBytes: () => Buffer): InstanceAnswer {
  const stored = instance.transferSyntaxUid;
  if (wish === '*' || wish === stored) return { transferSyntaxUid: stored, filePath: instance.filePath };
  if (wish !== TS.ExplicitVRLittleEndian || !REWRITABLE_AS_EXPLICIT_LE.has(stored)) {
    throw new ArchiveNotAcceptable(`instance ${instance.sopInstanceUid} is stored as ${stored} and cannot be given as ${wish}`);
  }
  return { transferSyntaxUid: TS.ExplicitVRLittleEndian, bytes: asExplicitLittleEndian(readBytes(), stored) };
}

function asExplicitLittleEndian(bytes: Buffer, stored: string): Buffer {
  const file = readPart10(bytes);
  const dict: DcmjsDataset = { ...file.dict };
  if (stored === TS.RLELossless && dict[T.PixelData]) {
    const geometry = frameGeometry(dict);
    const native = Buffer.concat(storedFrames(dict, stored).map((f) => decodeRleFrame(f, geometry)));
    dict[T.PixelData] = { vr: geometry.bitsAllocated > 8 ? 'OW' : 'OB', Value: [toArrayBuffer(native)] };
  }
  const meta: DcmjsDataset = { ...file.meta, [T.TransferSyntaxUID]: { vr: 'UI', Value: [TS.ExplicitVRLittleEndian] } };
  return writePart10(meta, dict);
}
