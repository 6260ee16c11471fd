/**
 * A PNG reader for tests (ISO/IEC 15948): non-interlaced grayscale, RGB, gray+alpha or RGBA,
 * 8 or 16 bits, every filter type, so it reads what Orthanc renders as well as what the gateway
 * does. Returns one 8-bit gray value per pixel (RGB averaged; 16-bit samples' high byte).
 */
import { inflateSync } from 'node:zlib';

export interface GrayImage {
  width: number;
  height: number;
  channels: number;
  gray: Uint8Array;
}

export function readPng(png: Buffer): GrayImage {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let depth = 8;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colorType = data[9];
      if (data[12] !== 0) throw new Error('interlaced PNG');
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  if (!channels || (depth !== 8 && depth !== 16)) throw new Error(`PNG color type ${colorType} depth ${depth} not read here`);
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const gray = new Uint8Array(width * height);
  const colors = channels >= 3 ? 3 : 1;
  for (let p = 0; p < width * height; p++) {
    let sum = 0;
    for (let s = 0; s < colors; s++) sum += out[p * bpp + (s * depth) / 8];
    gray[p] = Math.round(sum / colors);
  }
  return { width, height, channels, gray };
}

export function meanAndDeviation(values: Uint8Array): { mean: number; deviation: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, deviation: Math.sqrt(squares / values.length) };
}
