/**
 * A baseline JPEG writer (ITU-T T.81, sequential DCT, Huffman) for rendered frames, since Google
 * renders image/jpeg by default and the fake may not add an image package: 8-bit grayscale (one
 * component) or RGB as JFIF YCbCr without subsampling; the Annex K quantization tables scaled by
 * quality as the IJG library does, and the Annex K Huffman tables. Plain float DCT: the images are
 * small test frames, not a benchmark.
 */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
  30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LUMINANCE_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24,
  35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMINANCE_Q = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, ...Array(32).fill(99)];

interface HuffmanSpec {
  bits: number[]; // code counts for lengths 1..16
  values: number[];
}

const range = (n: number) => [...Array(n).keys()];
const DC_LUMINANCE: HuffmanSpec = { bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], values: range(12) };
const DC_CHROMINANCE: HuffmanSpec = { bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], values: range(12) };
const hex = (s: string) => s.trim().split(/\s+/).map((h) => parseInt(h, 16));
const AC_LUMINANCE: HuffmanSpec = {
  bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  values: hex(`01 02 03 00 04 11 05 12 21 31 41 06 13 51 61 07 22 71 14 32 81 91 a1 08 23 42 b1 c1 15 52 d1 f0 24 33 62 72 82 09 0a 16 17 18 19 1a 25 26 27 28
    29 2a 34 35 36 37 38 39 3a 43 44 45 46 47 48 49 4a 53 54 55 56 57 58 59 5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 83 84 85 86 87 88 89
    8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4 b5 b6 b7 b8 b9 ba c2 c3 c4 c5 c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da e1 e2
    e3 e4 e5 e6 e7 e8 e9 ea f1 f2 f3 f4 f5 f6 f7 f8 f9 fa`),
};
const AC_CHROMINANCE: HuffmanSpec = {
  bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  values: hex(`00 01 02 03 11 04 05 21 31 06 12 41 51 07 61 71 13 22 32 81 08 14 42 91 a1 b1 c1 09 23 33 52 f0 15 62 72 d1 0a 16 24 34 e1 25 f1 17 18 19 1a 26
    27 28 29 2a 35 36 37 38 39 3a 43 44 45 46 47 48 49 4a 53 54 55 56 57 58 59 5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 82 83 84 85 86 87
    88 89 8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4 b5 b6 b7 b8 b9 ba c2 c3 c4 c5 c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da
    e2 e3 e4 e5 e6 e7 e8 e9 ea f2 f3 f4 f5 f6 f7 f8 f9 fa`),
};

/** value -> [code, length], codes assigned in order of length (T.81 C.2). */
function codeTable(spec: HuffmanSpec): Map<number, [number, number]> {
  if (spec.values.length !== spec.bits.reduce((a, b) => a + b, 0)) throw new Error('Huffman table: counts and values disagree');
  const table = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < spec.bits[length - 1]; i++) table.set(spec.values[k++], [code++, length]);
    code <<= 1;
  }
  return table;
}

function scaledTable(base: number[], quality: number): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

class BitWriter {
  private readonly bytes: number[] = [];
  private buffer = 0;
  private count = 0;

  write(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.buffer = (this.buffer << 1) | ((code >>> i) & 1);
      if (++this.count === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.buffer);
    if (this.buffer === 0xff) this.bytes.push(0x00); // byte stuffing (F.1.2.3)
    this.buffer = 0;
    this.count = 0;
  }

  /** Pads the last byte with 1-bits (F.1.2.3). */
  finish(): Buffer {
    if (this.count > 0) this.write((1 << (8 - this.count)) - 1, 8 - this.count);
    return Buffer.from(this.bytes);
  }
}

const COS = range(64).map((i) => Math.cos(((2 * (i % 8) + 1) * Math.floor(i / 8) * Math.PI) / 16)); // COS[u*8+x]
const C = (u: number) => (u === 0 ? Math.SQRT1_2 : 1);

/** Forward DCT of a level-shifted 8x8 block (natural order, row-major), T.81 A.3.3. */
function fdct(block: Float64Array): Float64Array {
  const rows = new Float64Array(64);
  for (let y = 0; y < 8; y++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[u * 8 + x];
    rows[y * 8 + u] = s;
  }
  const out = new Float64Array(64);
  for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let y = 0; y < 8; y++) s += rows[y * 8 + u] * COS[v * 8 + y];
    out[v * 8 + u] = 0.25 * C(u) * C(v) * s;
  }
  return out;
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) (a >>= 1), n++;
  return n;
}

interface Component {
  id: number;
  plane: Float64Array; // samples 0..255, width x height
  quant: number[];
  dc: Map<number, [number, number]>;
  ac: Map<number, [number, number]>;
  tableId: number;
  previousDc: number;
}

function encodeBlock(w: BitWriter, c: Component, block: Float64Array): void {
  const coefficients = fdct(block);
  const q = ZIGZAG.map((natural) => Math.round(coefficients[natural] / c.quant[natural]));
  const diff = q[0] - c.previousDc;
  c.previousDc = q[0];
  const dcCat = category(diff);
  w.write(...c.dc.get(dcCat)!);
  if (dcCat > 0) w.write(diff > 0 ? diff : diff + (1 << dcCat) - 1, dcCat);
  let run = 0;
  for (let k = 1; k < 64; k++) {
    if (q[k] === 0) {
      run++;
      continue;
    }
    while (run > 15) (w.write(...c.ac.get(0xf0)!), (run -= 16));
    const cat = category(q[k]);
    w.write(...c.ac.get((run << 4) | cat)!);
    w.write(q[k] > 0 ? q[k] : q[k] + (1 << cat) - 1, cat);
    run = 0;
  }
  if (run > 0) w.write(...c.ac.get(0x00)!);
}

function segment(marker: number, payload: number[]): Buffer {
  return Buffer.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload]);
}

const huffmanPayload = (tableClass: number, id: number, spec: HuffmanSpec) => [(tableClass << 4) | id, ...spec.bits, ...spec.values];

/** `pixels`: rows top to bottom, 1 (gray) or 3 (RGB) bytes per pixel. */
export function encodeJpeg(width: number, height: number, channels: 1 | 3, pixels: Buffer, quality = 90): Buffer {
  if (pixels.length !== width * height * channels) throw new Error(`JPEG: ${pixels.length} bytes for ${width}x${height}x${channels}`);
  const lq = scaledTable(LUMINANCE_Q, quality);
  const cq = scaledTable(CHROMINANCE_Q, quality);
  const planes = range(channels).map(() => new Float64Array(width * height));
  for (let p = 0; p < width * height; p++) {
    if (channels === 1) planes[0][p] = pixels[p];
    else {
      const [r, g, b] = [pixels[p * 3], pixels[p * 3 + 1], pixels[p * 3 + 2]];
      planes[0][p] = 0.299 * r + 0.587 * g + 0.114 * b;
      planes[1][p] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
      planes[2][p] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
    }
  }
  const components: Component[] = planes.map((plane, i) => ({
    id: i + 1,
    plane,
    quant: i === 0 ? lq : cq,
    dc: codeTable(i === 0 ? DC_LUMINANCE : DC_CHROMINANCE),
    ac: codeTable(i === 0 ? AC_LUMINANCE : AC_CHROMINANCE),
    tableId: i === 0 ? 0 : 1,
    previousDc: 0,
  }));
  const w = new BitWriter();
  const block = new Float64Array(64);
  for (let by = 0; by < height; by += 8) for (let bx = 0; bx < width; bx += 8) {
    for (const c of components) {
      // Edge blocks repeat the last row and column (A.2.4 leaves the padding to the encoder).
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = c.plane[Math.min(by + y, height - 1) * width + Math.min(bx + x, width - 1)] - 128;
      encodeBlock(w, c, block);
    }
  }
  const zigzag = (t: number[]) => ZIGZAG.map((n) => t[n]);
  const headers = [
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // JFIF 1.01, aspect 1:1
    segment(0xdb, [0x00, ...zigzag(lq), ...(channels === 3 ? [0x01, ...zigzag(cq)] : [])]),
    segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, channels, ...components.flatMap((c) => [c.id, 0x11, c.tableId])]),
    segment(0xc4, [
      ...huffmanPayload(0, 0, DC_LUMINANCE),
      ...huffmanPayload(1, 0, AC_LUMINANCE),
      ...(channels === 3 ? [...huffmanPayload(0, 1, DC_CHROMINANCE), ...huffmanPayload(1, 1, AC_CHROMINANCE)] : []),
    ]),
    segment(0xda, [channels, ...components.flatMap((c) => [c.id, (c.tableId << 4) | c.tableId]), 0, 63, 0]),
  ];
  return Buffer.concat([...headers, w.finish(), Buffer.from([0xff, 0xd9])]);
}
