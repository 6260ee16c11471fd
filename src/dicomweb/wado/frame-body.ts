/**
 * One frame in the representation negotiated for it (PS3.18 8.7.3.3): native frames as Explicit
 * VR Little Endian pixels (byte-swapped from big endian), RLE frames decoded to native pixels, or
 * a compressed frame's codestream as stored.
 */
import { swapped, swapWordSize } from '../../dicom/byte-swap';
import { InvalidDicom } from '../../dicom/errors';
import { decodeRleFrame } from '../../dicom/rle-decoder';
import { TS } from '../../dicom/transfer-syntax';
import { StoredDataUnavailable } from '../../stores/store-errors';
import { StoredFrame, StoredFrames } from '../../stores/wado-types';

export function frameBytesAs(frames: StoredFrames, frame: StoredFrame, targetSyntax: string): Buffer {
  const stored = frames.instance.transferSyntaxUid;
  if (!frames.encapsulated) {
    // Big endian words are swapped by the Pixel Data VR (OW: 16-bit words, OF: 32, OD: 64).
    return frames.littleEndian ? frame.bytes : swapped(frame.bytes, swapWordSize(frames.pixel.vr));
  }
  if (targetSyntax === stored || stored === TS.EncapsulatedUncompressedExplicitVRLittleEndian) return frame.bytes;
  if (stored === TS.RLELossless && targetSyntax === TS.ExplicitVRLittleEndian) {
    try {
      return decodeRleFrame(frame.bytes, frames.pixel);
    } catch (e) {
      if (e instanceof InvalidDicom) throw new StoredDataUnavailable(`frame ${frame.number} of instance ${frames.instance.ref.sopInstanceUid}: ${e.message}`);
      throw e;
    }
  }
  throw new Error(`no conversion of frames from ${stored} to ${targetSyntax} (negotiation should not have chosen it)`);
}
