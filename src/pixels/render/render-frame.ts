/**
 * One native frame to a PNG or JPEG image, in a codec worker (PS3.18 8.3.5.1): grayscale through
 * the Modality LUT (rescale) and the VOI LUT function (window) of PS3.3 C.11.2.1.2 to 8 bits,
 * MONOCHROME1 inverted; color as RGB (YBR_FULL converted, PS3.3 C.7.6.3.1.2); then the source
 * region cropped and scaled to fit the viewport with its aspect kept (area averaging when
 * shrinking, bilinear when enlarging).
 */
import { FrameFormat } from '../frame-format';
import { encodeJpeg8 } from '../wasm-codecs';
import { encodePng } from './png-encoder';
import { RenderJob } from './render-job';

interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Buffer;
}

function sampleReader(pixels: Buffer, format: FrameFormat): (i: number) => number {
  const mask = format.bitsStored >= 32 ? 0xffffffff : (1 << format.bitsStored) - 1;
  const signed = format.pixelRepresentation === 1;
  const shift = 32 - format.bitsStored;
  if (format.bitsAllocated === 8) return signed ? (i) => ((pixels[i] & mask) << shift) >> shift : (i) => pixels[i] & mask;
  if (format.bitsAllocated === 16) return signed ? (i) => ((pixels.readUInt16LE(i * 2) & mask) << shift) >> shift : (i) => pixels.readUInt16LE(i * 2) & mask;
  if (format.bitsAllocated === 32) return signed ? (i) => pixels.readInt32LE(i * 4) : (i) => pixels.readUInt32LE(i * 4);
  throw new Error(`cannot render pixels of ${format.bitsAllocated} bits allocated`);
}

/** The VOI LUT function of PS3.3 C.11.2.1.2 (and C.11.2.1.3 for SIGMOID) into 0..255. */
function voiFunction(window: NonNullable<RenderJob['window']>): (x: number) => number {
  const { center: c, width: w } = window;
  if (window.function === 'sigmoid') return (x) => 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (window.function === 'linear-exact') {
    return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255);
  }
  const low = c - 0.5 - (w - 1) / 2;
  const high = c - 0.5 + (w - 1) / 2;
  return (x) => (x <= low ? 0 : x > high ? 255 : ((x - (c - 0.5)) / Math.max(w - 1, 1e-9) + 0.5) * 255);
}

function grayscale(pixels: Buffer, format: FrameFormat, job: RenderJob): Image8 {
  const count = format.rows * format.columns;
  const read = sampleReader(pixels, format);
  const { slope, intercept } = job.rescale;
  const values = new Float64Array(count);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = read(i) * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // Without a window of its own or the data set's, the frame's range is shown whole.
  const window = job.window ?? job.datasetWindow ?? { center: (min + max) / 2 + 0.5, width: Math.max(max - min + 1, 1), function: 'linear' as const };
  const voi = voiFunction(window);
  const invert = format.photometricInterpretation === 'MONOCHROME1';
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    const g = Math.round(voi(values[i]));
    out[i] = invert ? 255 - g : g;
  }
  return { width: format.columns, height: format.rows, channels: 1, pixels: out };
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function color(pixels: Buffer, format: FrameFormat): Image8 {
  if (format.samplesPerPixel !== 3) throw new Error(`cannot render ${format.samplesPerPixel} samples per pixel`);
  const count = format.rows * format.columns;
  const read = sampleReader(pixels, { ...format, pixelRepresentation: 0 });
  const down = Math.max(0, format.bitsStored - 8);
  const planar = format.planarConfiguration === 1;
  const at = (p: number, s: number) => read(planar ? s * count + p : p * 3 + s) >> down;
  const ybr = format.photometricInterpretation === 'YBR_FULL' || format.photometricInterpretation === 'YBR_FULL_422';
  const out = Buffer.alloc(count * 3);
  for (let p = 0; p < count; p++) {
    const a = at(p, 0);
    const b = at(p, 1);
    const c = at(p, 2);
    if (ybr) {
      // PS3.3 C.7.6.3.1.2, full range
      out[p * 3] = clamp8(a + 1.402 * (c - 128));
      out[p * 3 + 1] = clamp8(a - 0.344136 * (b - 128) - 0.714136 * (c - 128));
      out[p * 3 + 2] = clamp8(a + 1.772 * (b - 128));
    } else {
      out[p * 3] = a;
      out[p * 3 + 1] = b;
      out[p * 3 + 2] = c;
    }
  }
  return { width: format.columns, height: format.rows, channels: 3, pixels: out };
}

/** Crops to (sx, sy, sw, sh) and scales to fit width x height, aspect kept. */
function fit(image: Image8, viewport: RenderJob['viewport']): Image8 {
  if (!viewport) return image;
  const [sx, sy, sw, sh] = viewport.source ?? [0, 0, image.width, image.height];
  const x0 = Math.max(0, Math.min(image.width - 1, Math.floor(sx)));
  const y0 = Math.max(0, Math.min(image.height - 1, Math.floor(sy)));
  const w = Math.max(1, Math.min(image.width - x0, Math.round(sw)));
  const h = Math.max(1, Math.min(image.height - y0, Math.round(sh)));
  const scale = Math.min(viewport.width / w, viewport.height / h);
  const outW = Math.max(1, Math.round(w * scale));
  const outH = Math.max(1, Math.round(h * scale));
  const ch = image.channels;
  const out = Buffer.alloc(outW * outH * ch);
  const src = (x: number, y: number, c: number) => image.pixels[((y0 + y) * image.width + (x0 + x)) * ch + c];
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let c = 0; c < ch; c++) {
        let v: number;
        if (scale < 1) {
          // Area average of the source pixels this output pixel covers.
          const fx0 = Math.floor(ox / scale);
          const fy0 = Math.floor(oy / scale);
          const fx1 = Math.min(w, Math.max(fx0 + 1, Math.floor((ox + 1) / scale)));
          const fy1 = Math.min(h, Math.max(fy0 + 1, Math.floor((oy + 1) / scale)));
          let sum = 0;
          for (let y = fy0; y < fy1; y++) for (let x = fx0; x < fx1; x++) sum += src(x, y, c);
          v = sum / ((fx1 - fx0) * (fy1 - fy0));
        } else {
          const fx = Math.min(w - 1, Math.max(0, (ox + 0.5) / scale - 0.5));
          const fy = Math.min(h - 1, Math.max(0, (oy + 0.5) / scale - 0.5));
          const ix = Math.floor(fx);
          const iy = Math.floor(fy);
          const ax = fx - ix;
          const ay = fy - iy;
          const jx = Math.min(w - 1, ix + 1);
          const jy = Math.min(h - 1, iy + 1);
          v = (src(ix, iy, c) * (1 - ax) + src(jx, iy, c) * ax) * (1 - ay) + (src(ix, jy, c) * (1 - ax) + src(jx, jy, c) * ax) * ay;
        }
        out[(oy * outW + ox) * ch + c] = Math.round(v);
      }
    }
  }
  return { width: outW, height: outH, channels: ch, pixels: out };
}

export async function renderFrame(pixels: Buffer, format: FrameFormat, job: RenderJob): Promise<Buffer> {
  const image = fit(format.samplesPerPixel === 1 ? grayscale(pixels, format, job) : color(pixels, format), job.viewport);
  if (job.mediaType === 'image/png') return encodePng(image.pixels, image.width, image.height, image.channels);
  return encodeJpeg8(image.pixels, image.width, image.height, image.channels, job.quality);
}
