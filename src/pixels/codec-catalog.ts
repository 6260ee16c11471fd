/**
 * Which transfer syntaxes the gateway can decode to native pixels and encode from them, by which
 * codec (codec-worker.ts), and what PS3.3 C.7.6.1.1.5 asks of a lossy one (the Lossy Image
 * Compression Method, 0028,2114). The codecs are the WebAssembly builds the Cornerstone viewer
 * uses (OpenJPEG, OpenJPH, CharLS, libjpeg-turbo) and its JPEG Lossless decoder; RLE is ours.
 */
import { TS } from '../dicom/transfer-syntax';
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
  /** Most samples per pixel the codec handles correctly, with the reason for the limit. */
  maxSamples?: { samples: number; why: string };
}

/**
 * The OpenJPH WebAssembly build (2.4.11) interleaves the components of a color image wrongly,
 * both ways: its own round trip is exact, but what OpenJPH's command-line tools and OpenJPEG
 * write decodes to scrambled colors, and what it writes they decode so (test/e2e/wado-codecs).
 * Medical HTJ2K is overwhelmingly grayscale; color HTJ2K is refused rather than mangled.
 */
const OPENJPH_GRAYSCALE_ONLY = { samples: 1, why: 'the HTJ2K codec mishandles color images (its components come out interleaved wrongly), so only grayscale HTJ2K is converted' };

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
  [HTJ2K_LOSSLESS]: { maxSamples: OPENJPH_GRAYSCALE_ONLY, decoder: 'openjph', encoder: 'openjph', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.202': { maxSamples: OPENJPH_GRAYSCALE_ONLY, decoder: 'openjph', lossy: false, maxBitsStored: 16 },
  '1.2.840.10008.1.2.4.203': { maxSamples: OPENJPH_GRAYSCALE_ONLY, decoder: 'openjph', lossy: true, lossyMethod: 'ISO_15444_15', maxBitsStored: 16 },
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
  if (format.bitsStored > codec.maxBitsStored) return `its decoder handles at most ${codec.maxBitsStored} bits per sample, these have ${format.bitsStored}`;
  if (codec.maxSamples && format.samplesPerPixel > codec.maxSamples.samples) return codec.maxSamples.why;
  return undefined;
}

/** The syntaxes the gateway can encode native pixels of this format to. */
export function encodableSyntaxes(format: Pick<FrameFormat, 'bitsAllocated' | 'bitsStored' | 'samplesPerPixel'> | undefined): string[] {
  return Object.entries(CODECS)
    .filter(([, c]) => c.encoder !== undefined)
    .filter(([uid]) => {
      if (!format) return uid === TS.RLELossless;
      const codec = CODECS[uid];
      if (format.bitsAllocated === 1 || format.bitsAllocated > 16) return uid === TS.RLELossless && format.bitsAllocated !== 1;
      if (codec.maxSamples && format.samplesPerPixel > codec.maxSamples.samples) return false;
      return format.samplesPerPixel === 1 || format.samplesPerPixel === 3;
    })
    .map(([uid]) => uid);
}

export function isLossySyntax(syntax: string): boolean {
  return CODECS[syntax]?.lossy ?? false;
}
