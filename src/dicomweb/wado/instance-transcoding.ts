/**
 * A stored instance's Pixel Data converted to another transfer syntax (PS3.18 8.7.3), frame by
 * frame in the codec workers, with the attributes the conversion changes set as PS3.3 requires:
 * - Photometric Interpretation: the decoders give RGB for the YBR color spaces of JPEG and JPEG
 *   2000 (C.7.6.3.1.2); OpenJPEG's encoder always applies the reversible color transform to
 *   three components, so JPEG 2000 written here from color is YBR_RCT (PS3.5 8.2.4); the other
 *   encoders apply none, so RGB stays RGB;
 * - Planar Configuration 0 for pixels the codecs interleaved (C.7.6.3.1.3);
 * - Lossy Image Compression "01" with its Method (C.7.6.1.1.5) when the stored pixels were ever
 *   lossy: decoding them does not make them lossless, and the flag must never be lost.
 */
import { DicomDataset, ParsedPart10, Tag } from '../../dicom/dataset';
import { PixelTranscode } from '../../dicom/explicit-le-encoder';
import { LossyImageCompression, PhotometricInterpretation, PixelGeometry, PlanarConfiguration, readText } from '../../dicom/pixel-geometry';
import { lookupTransferSyntax, TS } from '../../dicom/transfer-syntax';
import { codecOf } from '../../pixels/codec-catalog';
import { CorruptPixelData } from '../../pixels/codec-pool';
import { frameFormatOf, PixelCodecs } from '../../pixels/pixel-codecs.service';
import { StoredDataUnavailable } from '../../stores/store-errors';
import { StoredInstance } from '../../stores/wado-types';

const LossyImageCompressionMethod: Tag = 0x00282114;
const YBR = new Set(['YBR_FULL', 'YBR_FULL_422', 'YBR_ICT', 'YBR_RCT', 'YBR_PARTIAL_420']);

function text(value: string): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value} `, 'latin1');
}

function us(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value, 0);
  return b;
}

/** The attributes to replace when `dataset`'s pixels go from `stored` to `target`. */
export function transcodedAttributes(dataset: DicomDataset, littleEndian: boolean, stored: string, target: string): Map<Tag, { vr: string; value: Buffer }> {
  const replace = new Map<Tag, { vr: string; value: Buffer }>();
  const source = codecOf(stored);
  // Decoded by a codec other than RLE (whose output keeps the stored layout and color space).
  const decodedByCodec = source !== undefined && source.decoder !== 'rle';
  const targetCodec = codecOf(target);
  const photometric = readText(dataset, PhotometricInterpretation);
  const samples = dataset.get(0x00280002)?.value;
  const color = samples !== undefined && samples.length >= 2 && (littleEndian ? samples.readUInt16LE(0) : samples.readUInt16BE(0)) > 1;
  if (color && targetCodec?.encoder === 'openjpeg') replace.set(PhotometricInterpretation, { vr: 'CS', value: text('YBR_RCT') });
  else if (decodedByCodec && photometric && YBR.has(photometric)) replace.set(PhotometricInterpretation, { vr: 'CS', value: text('RGB') });
  if (color && (decodedByCodec || (targetCodec && targetCodec.encoder !== 'rle'))) replace.set(PlanarConfiguration, { vr: 'US', value: us(0) });
  const wasLossy = readText(dataset, LossyImageCompression) === '01' || source?.lossy === true;
  if (wasLossy) {
    replace.set(LossyImageCompression, { vr: 'CS', value: text('01') });
    if (!dataset.has(LossyImageCompressionMethod) && source?.lossyMethod) replace.set(LossyImageCompressionMethod, { vr: 'CS', value: text(source.lossyMethod) });
  }
  return replace;
}

export function pixelTranscode(codecs: PixelCodecs, store: string, instance: StoredInstance, parsed: ParsedPart10, targetSyntax: string): PixelTranscode {
  const stored = parsed.transferSyntaxUid;
  const storedIsNative = !lookupTransferSyntax(stored)?.encapsulated || stored === TS.EncapsulatedUncompressedExplicitVRLittleEndian;
  const from = storedIsNative ? TS.ExplicitVRLittleEndian : stored;
  const sopInstanceUid = instance.ref.sopInstanceUid;
  return {
    targetSyntax,
    replace: transcodedAttributes(parsed.dataset, parsed.littleEndian, stored, targetSyntax),
    async frame(index: number, bytes: Buffer, geometry: PixelGeometry): Promise<Buffer> {
      try {
        return await codecs.convert({ store, sopInstanceUid, frame: index + 1 }, from, targetSyntax, bytes, frameFormatOf(geometry));
      } catch (e) {
        // The answer has started: a broken codestream can only end it early (with the reason logged).
        if (e instanceof CorruptPixelData) throw new StoredDataUnavailable(`frame ${index + 1} of instance ${sopInstanceUid} cannot be converted from ${stored}: ${e.message}`);
        throw e;
      }
    },
  };
}
