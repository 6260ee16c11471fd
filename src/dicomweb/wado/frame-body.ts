/**
 * One frame in the representation negotiated for it (PS3.18 8.7.3.3): native frames as Explicit
 * VR Little Endian pixels (byte-swapped from big endian) or encoded; a compressed frame's
 * codestream as stored, decoded to native pixels, or transcoded to another syntax. Codecs run in
 * the worker pool (pixels/), one frame at a time: a one-frame request decodes one frame.
 */
import { swapped, swapWordSize } from '../../dicom/byte-swap';
import { lookupTransferSyntax, TS } from '../../dicom/transfer-syntax';
import { DicomStore } from '../../stores/dicom-store';
import { CorruptPixelData } from '../../pixels/codec-pool';
import { frameFormatOf, PixelCodecs } from '../../pixels/pixel-codecs.service';
import { isRelayed, StoredFrame, StoredFrames, StoredInstance } from '../../stores/wado-types';
import { NotAcceptable } from '../errors';
import { syntaxName } from './wado-offers';

export async function frameBytesAs(codecs: PixelCodecs, store: string, frames: StoredFrames, frame: StoredFrame, targetSyntax: string): Promise<Buffer> {
  const stored = frames.instance.transferSyntaxUid;
  const sopInstanceUid = frames.instance.ref.sopInstanceUid;
  let from = stored;
  let bytes = frame.bytes;
  if (!frames.encapsulated) {
    // Big endian words are swapped by the Pixel Data VR (OW: 16-bit words, OF: 32, OD: 64).
    if (!frames.littleEndian) bytes = swapped(frame.bytes, swapWordSize(frames.pixel.vr));
    from = TS.ExplicitVRLittleEndian;
  } else if (stored === TS.EncapsulatedUncompressedExplicitVRLittleEndian) {
    from = TS.ExplicitVRLittleEndian;
  }
  if (targetSyntax === from || (targetSyntax === stored && frames.encapsulated)) return bytes;
  try {
    return await codecs.convert({ store, sopInstanceUid, frame: frame.number }, from, targetSyntax, bytes, frameFormatOf(frames.pixel));
  } catch (e) {
    // The stored codestream is broken (it was accepted as bytes, not decoded, at STOW): the client
    // can still have it as stored.
    if (e instanceof CorruptPixelData) {
      throw new NotAcceptable(`frame ${frame.number} of instance ${sopInstanceUid} cannot be converted from ${syntaxName(stored)}: ${e.message}; ask for transfer-syntax=${stored} (or *) to have it as stored`);
    }
    throw e;
  }
}

/**
 * Before a one-instance answer whose pixels are decoded starts: its first frame converted (kept
 * in the frame cache for the answer itself), so that a codestream the codecs cannot read is a
 * 406 with the reason rather than an answer cut off in the middle.
 */
export async function checkFirstFrame(codecs: PixelCodecs, store: DicomStore, instance: StoredInstance, targetSyntax: string): Promise<void> {
  const stored = instance.transferSyntaxUid;
  if (targetSyntax === stored || !lookupTransferSyntax(stored)?.encapsulated || stored === TS.EncapsulatedUncompressedExplicitVRLittleEndian) return;
  const frames = await store.frames(instance.ref, { acceptable: ['*'] }, [1]).catch(() => undefined);
  if (!frames) return;
  if (isRelayed(frames)) return frames.discard();
  const target = lookupTransferSyntax(targetSyntax)?.encapsulated ? targetSyntax : TS.ExplicitVRLittleEndian;
  for await (const frame of frames.read([1])) await frameBytesAs(codecs, store.name, frames, frame, target);
}
