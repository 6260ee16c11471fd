/**
 * The codecs themselves, as a codec worker runs them (never on the event loop): the WebAssembly
 * builds of OpenJPEG (JPEG 2000), OpenJPH (HTJ2K), CharLS (JPEG-LS) and libjpeg-turbo (JPEG
 * baseline and 8-bit extended) published by the Cornerstone project, its JPEG Lossless decoder,
 * and our RLE codec. Each module is instantiated on first use and kept.
 *
 * Decoded output is native: little endian, samples in Bits Allocated containers, color samples
 * interleaved (RLE keeps the stored Planar Configuration, as its decoder always has), signed
 * samples sign-extended past Bits Stored.
 */
import { Decoder as JpegLosslessDecoder } from '@cornerstonejs/jpeg-lossless-decoder-js';
import { encode as encodeJpeg } from 'jpeg-js';
import { decodeRleFrame } from '../dicom/rle-decoder';
import { CodecName } from './codec-catalog';
import { FrameFormat, nativeFrameBytes } from './frame-format';
import { encodeRleFrame } from './rle-encoder';
import { decodeJpeg12, Jpeg12Refused, jpegPrecision } from './dcmtk-jpeg12';

/** The emscripten/embind classes the Cornerstone codecs export (one shape for all four). */
interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
  isUsingColorTransform?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  delete(): void;
}
interface WasmEncoder {
  getDecodedBuffer(info: FrameInfo): Uint8Array;
  setQuality(lossless: boolean, quality: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}
interface WasmModule {
  [className: string]: new () => WasmDecoder & WasmEncoder;
}

const FACTORIES: Record<string, { path: string; decoder: string; encoder?: string }> = {
  openjpeg: { path: '@cornerstonejs/codec-openjpeg/wasmjs', decoder: 'J2KDecoder', encoder: 'J2KEncoder' },
  openjph: { path: '@cornerstonejs/codec-openjph/wasmjs', decoder: 'HTJ2KDecoder', encoder: 'HTJ2KEncoder' },
  charls: { path: '@cornerstonejs/codec-charls/wasmjs', decoder: 'JpegLSDecoder' },
  'libjpeg-turbo': { path: '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs', decoder: 'JPEGDecoder' },
};

const modules = new Map<string, Promise<WasmModule>>();

function wasmModule(name: string): Promise<WasmModule> {
  let module = modules.get(name);
  if (!module) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory = require(FACTORIES[name].path) as (options: object) => Promise<WasmModule>;
    // The libraries print progress ([INFO] lines) to standard output: not in our logs.
    module = factory({ print: () => undefined, printErr: () => undefined });
    modules.set(name, module);
  }
  return module;
}

/** A copy out of the WebAssembly heap (which the next call reuses), in its own ArrayBuffer so it
 *  can be transferred to the main thread. */
function copyOut(view: Uint8Array): Buffer {
  const own = new Uint8Array(view.length);
  own.set(view);
  return Buffer.from(own.buffer, 0, own.length);
}

export class CorruptFrame extends Error {}

export async function decodeFrame(codec: CodecName, bytes: Buffer, format: FrameFormat): Promise<Buffer> {
  let decoded: Buffer;
  let bitsPerSample: number;
  if (codec === 'rle') return decodeRleFrame(bytes, { ...format, numberOfFrames: 1 });
  if (codec === 'libjpeg-turbo' && jpegPrecision(bytes) === 12) {
    try {
      return toNative(await decodeJpeg12(bytes, format), 16, format);
    } catch (e) {
      if (e instanceof Jpeg12Refused) throw new CorruptFrame(e.message);
      throw e;
    }
  }
  if (codec === 'jpeg-lossless') {
    const decoder = new JpegLosslessDecoder();
    let out: Uint8Array | Uint16Array;
    try {
      out = decoder.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, 0, bytes.length, format.bitsAllocated > 8 ? 2 : 1) as unknown as Uint8Array | Uint16Array;
    } catch (e) {
      throw new CorruptFrame(`the JPEG Lossless decoder refused the codestream: ${e instanceof Error ? e.message : String(e)}`);
    }
    decoded = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    bitsPerSample = format.bitsAllocated > 8 ? 16 : 8;
  } else {
    const module = await wasmModule(codec);
    const decoder = new module[FACTORIES[codec].decoder]();
    try {
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      try {
        decoder.decode();
      } catch (e) {
        throw new CorruptFrame(`the ${codec} decoder refused the codestream: ${describe(e, module)}`);
      }
      const info = decoder.getFrameInfo();
      if (info.width !== format.columns || info.height !== format.rows || info.componentCount !== format.samplesPerPixel) {
        throw new CorruptFrame(
          `the codestream is ${info.width}x${info.height} with ${info.componentCount} component(s), the data set says ${format.columns}x${format.rows} with ${format.samplesPerPixel}`,
        );
      }
      decoded = copyOut(decoder.getDecodedBuffer());
      bitsPerSample = info.bitsPerSample;
      if (codec === 'openjph' && info.componentCount > 1 && !usesColorTransform(bytes)) {
        decoded = fromOpenjphLineOrder(decoded, format, bitsPerSample > 8 ? 2 : 1);
      }
    } finally {
      decoder.delete();
    }
  }
  return toNative(decoded, bitsPerSample, format);
}

/** Widens 8-bit output into 16-bit containers and sign-extends signed samples past Bits Stored. */
function toNative(decoded: Buffer, bitsPerSample: number, format: FrameFormat): Buffer {
  const samples = format.rows * format.columns * format.samplesPerPixel;
  let out = decoded;
  if (format.bitsAllocated === 16 && bitsPerSample <= 8) {
    out = Buffer.alloc(samples * 2);
    for (let i = 0; i < samples; i++) out.writeUInt16LE(decoded[i], i * 2);
  } else if (format.bitsAllocated === 8 && bitsPerSample > 8) {
    throw new CorruptFrame(`the codestream has ${bitsPerSample}-bit samples, the data set allocates 8 bits`);
  }
  const expected = nativeFrameBytes(format);
  if (out.length < expected) throw new CorruptFrame(`the codestream decoded to ${out.length} bytes, a frame is ${expected}`);
  if (out.length > expected) out = out.subarray(0, expected);
  if (format.pixelRepresentation === 1 && format.bitsAllocated === 16 && format.bitsStored < 16) {
    const shift = 32 - format.bitsStored;
    for (let i = 0; i < samples; i++) out.writeInt16LE((out.readUInt16LE(i * 2) << shift) >> shift, i * 2);
  }
  return out;
}

export async function encodeFrame(codec: CodecName, pixels: Buffer, format: FrameFormat): Promise<Buffer> {
  if (codec === 'rle') return encodeRleFrame(pixels, format);
  const factory = FACTORIES[codec];
  if (!factory?.encoder) throw new Error(`no lossless ${codec} encoder`);
  const module = await wasmModule(codec);
  const encoder = new module[factory.encoder]();
  try {
    const info: FrameInfo = {
      width: format.columns,
      height: format.rows,
      bitsPerSample: format.bitsStored,
      componentCount: format.samplesPerPixel,
      isSigned: format.pixelRepresentation === 1,
      // No color transform: the Photometric Interpretation (RGB) stays true.
      isUsingColorTransform: false,
    };
    const input = encoder.getDecodedBuffer(info);
    const samples = interleaved(pixels, format);
    input.set(codec === 'openjph' && format.samplesPerPixel > 1 ? toOpenjphLineOrder(samples, format, format.bitsAllocated / 8) : samples);
    encoder.setQuality(true, 0);
    encoder.encode();
    return copyOut(encoder.getEncodedBuffer());
  } finally {
    encoder.delete();
  }
}

/**
 * The OpenJPH WebAssembly build (2.4.11) moves image lines between its buffer and the codestream
 * in component order (every line of component 0, then of component 1...) while it lays its buffer
 * out as interleaved lines (line k of the buffer is row k / C, sample k mod C). Its own round trip
 * is exact, so the fault only shows against other implementations: what ojph_compress and
 * OpenJPEG write decodes to scrambled colors and the reverse. These two functions undo it: the
 * lines are moved where the build will look for them. Codestreams with the reversible color
 * transform are read row by row (all components together) and come out right; ours never use it.
 */
function openjphLinePermutation(format: FrameFormat, bytes: number, toBuild: boolean, source: Buffer): Buffer {
  const { rows: h, columns: w, samplesPerPixel: c } = format;
  const out = Buffer.alloc(source.length);
  for (let line = 0; line < c * h; line++) {
    const component = Math.floor(line / h);
    const row = line % h;
    const bufferRow = Math.floor(line / c);
    const slot = line % c;
    for (let x = 0; x < w; x++) {
      const truth = ((row * w + x) * c + component) * bytes;
      const build = ((bufferRow * w + x) * c + slot) * bytes;
      if (toBuild) source.copy(out, build, truth, truth + bytes);
      else source.copy(out, truth, build, build + bytes);
    }
  }
  return out;
}

function toOpenjphLineOrder(pixels: Buffer, format: FrameFormat, bytes: number): Buffer {
  return openjphLinePermutation(format, bytes, true, pixels);
}

function fromOpenjphLineOrder(decoded: Buffer, format: FrameFormat, bytes: number): Buffer {
  return openjphLinePermutation(format, bytes, false, decoded);
}

/** The multiple component transform flag of the codestream's COD marker (ITU-T T.800 A.6.1). */
function usesColorTransform(codestream: Buffer): boolean {
  for (let at = 2; at + 4 <= codestream.length; ) {
    const marker = codestream.readUInt16BE(at);
    if (marker === 0xff90 || marker === 0xff93) break; // SOT, SOD: past the main header
    if (marker === 0xff52) return codestream[at + 8] === 1;
    at += 2 + codestream.readUInt16BE(at + 2);
  }
  return false;
}

/** Native color pixels stored plane by plane (Planar Configuration 1) as the codecs want them. */
function interleaved(pixels: Buffer, format: FrameFormat): Buffer {
  if (format.samplesPerPixel === 1 || format.planarConfiguration === 0) return pixels;
  const bytes = format.bitsAllocated / 8;
  const count = format.rows * format.columns;
  const out = Buffer.alloc(pixels.length);
  for (let s = 0; s < format.samplesPerPixel; s++) {
    for (let p = 0; p < count; p++) pixels.copy(out, (p * format.samplesPerPixel + s) * bytes, (s * count + p) * bytes, (s * count + p + 1) * bytes);
  }
  return out;
}

function describe(e: unknown, module: WasmModule): string {
  if (e instanceof Error) return e.message;
  // embind throws C++ exceptions as numbers (pointers); the modules can describe some.
  const getter = (module as unknown as { getExceptionMessage?: (p: unknown) => string[] }).getExceptionMessage;
  if (typeof e === 'number' && getter) {
    try {
      return getter(e).join(': ');
    } catch {
      /* fall through */
    }
  }
  return String(e);
}

/**
 * 8-bit grayscale or RGB pixels as a baseline JPEG (JFIF) of this quality (1-100), for /rendered,
 * by jpeg-js (pure JavaScript). Not libjpeg-turbo's WebAssembly encoder: it writes into a buffer
 * the size of the raw image and runs out of bounds when the JPEG is larger (images under about
 * 32 x 32, noisy ones at high quality), which corrupts the module.
 */
export function encodeJpeg8(pixels: Buffer, width: number, height: number, channels: 1 | 3, quality: number): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const at = p * channels;
    rgba[p * 4] = pixels[at];
    rgba[p * 4 + 1] = pixels[channels === 3 ? at + 1 : at];
    rgba[p * 4 + 2] = pixels[channels === 3 ? at + 2 : at];
    rgba[p * 4 + 3] = 255;
  }
  return encodeJpeg({ data: rgba, width, height }, quality).data;
}
