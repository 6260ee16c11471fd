/**
 * Which transfer syntaxes the gateway can decode to native pixels and encode from them, by which
 * codec (codec-worker.ts), and what PS3.3 C.7.6.1.1.5 asks of a lossy one (the Lossy Image
 * Compression Method, 0028,2114). The codecs are the WebAssembly builds the Cornerstone viewer
 * uses (OpenJPEG, OpenJPH, CharLS, libjpeg-turbo) and its JPEG Lossless decoder; RLE is ours.
 */
import { TS } from '../dicom/transfer-syntax';
import { dcmtkJpegAvailable } from './dcmtk-jpeg12';
import { FrameFormat } from './frame-format';

export type CodecName = 'rle' | 'libjpeg-turbo' | 'jpeg-lossless' | 'charls' | 'openjpeg' | 'openjph';

interface SyntaxCodec {
  decoder: CodecName;
  /** The pixels are (or may be) lossy compressed: decoding keeps them flagged as such. */
  lossy: boolean;
  /** Lossy Image Compression Method (0028,2114) of PS3.3 C.7.6.1.1.5.1, for lossy syntaxes. */
  lossyMethod?: string;
  /** Also produced by the gateway (lossless encoders only). */
  encoder?: CodecName;
  /** Most bits per sample the decoder handles (libjpeg-turbo: 8, so 12-bit JPEG Extended is not). */
  maxBitsStored: number;
  /** Color images smaller than this (rows and columns) are not encoded: OpenJPH's WebAssembly
   *  build writes codestreams of tiny color images that other decoders refuse. */
  minColorSizeToEncode?: number;
}


export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
export const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
export const HTJ2K_LOSSLESS = '1.2.840.10008.1.2.4.201';

const CODECS: Record<string, SyntaxCodec> = {
  [TS.RLELossless]: { decoder: 'rle', encoder: 'rle', lossy: false, maxBitsStored: 32 },
  [JPEG_BASELINE]: { decoder: 'libjpeg-turbo', lossy: true, lossyMethod: 'ISO_10918_1', maxBitsStored: 8 },
  [JPEG_EXTENDED]: { decoder: 'libjpeg-turbo', lossy: true, lossyMethod: 'ISO_10918_1', maxBitsStored: 8 },
  '1.2.840.10008.1.2.4.57': { decoder: 'jpeg-lossless', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.70': { decoder: 'jpeg-lossless', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.80': { decoder: 'charls', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.81': { decoder: 'charls', lossy: true, lossyMethod: 'ISO_14495_1', maxBitsStored: 16 },
  [JPEG_2000_LOSSLESS]: { decoder: 'openjpeg', encoder: 'openjpeg', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.91': { decoder: 'openjpeg', lossy: true, lossyMethod: 'ISO_15444_1', maxBitsStored: 16 },
  [HTJ2K_LOSSLESS]: { decoder: 'openjph', encoder: 'openjph', minColorSizeToEncode: 16, lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.202': { decoder: 'openjph', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.203': { decoder: 'openjph', lossy: true, lossyMethod: 'ISO_15444_15', maxBitsStored: 16 },
};

export function codecOf(syntax: string): SyntaxCodec | undefined {
  return CODECS[syntax];
}

/** Why frames of this syntax and format cannot be decoded, or undefined when they can. */
export function cannotDecode(syntax: string, format: Pick<FrameFormat, 'bitsStored' | 'bitsAllocated' | 'samplesPerPixel'> | undefined): string | undefined {
  const codec = CODECS[syntax];
  if (!codec) return 'the gateway has no decoder for it';
  if (!format) return undefined;
  if (format.bitsAllocated === 1) return 'single-bit pixels are never compressed';
  // 12-bit JPEG goes to dcmtk's dcmdjpeg when it is installed (dcmtk-jpeg12.ts).
  const twelveBitJpeg = codec.decoder === 'libjpeg-turbo' && format.bitsStored <= 12 && dcmtkJpegAvailable();
  if (format.bitsStored > codec.maxBitsStored && !twelveBitJpeg) {
    return `its decoder handles at most ${codec.maxBitsStored} bits per sample, these have ${format.bitsStored}${codec.decoder === 'libjpeg-turbo' ? ' (12-bit JPEG needs dcmtk\'s dcmdjpeg installed)' : ''}`;
  }
  return undefined;
}

/** The syntaxes the gateway can encode native pixels of this format to. */
export function encodableSyntaxes(format: (Pick<FrameFormat, 'bitsAllocated' | 'bitsStored' | 'samplesPerPixel'> & Partial<Pick<FrameFormat, 'rows' | 'columns'>>) | undefined): string[] {
  return Object.entries(CODECS)
    .filter(([, c]) => c.encoder !== undefined)
    .filter(([uid]) => {
      if (!format) return uid === TS.RLELossless;
      const codec = CODECS[uid];
      if (format.bitsAllocated === 1 || format.bitsAllocated > 16) return uid === TS.RLELossless && format.bitsAllocated !== 1;
      const small = Math.min(format.rows ?? Infinity, format.columns ?? Infinity) < (codec.minColorSizeToEncode ?? 0);
      if (format.samplesPerPixel > 1 && small) return false;
      return format.samplesPerPixel === 1 || format.samplesPerPixel === 3;
    })
    .map(([uid]) => uid);
}

export function isLossySyntax(syntax: string): boolean {
  return CODECS[syntax]?.lossy ?? false;
}
