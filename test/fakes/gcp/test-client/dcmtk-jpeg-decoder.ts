/**
 * Reads back the JPEGs of the fake's rendered answers with an independent decoder: dcmtk (which
 * CI installs) wraps the file in DICOM (`img2dcm`, which also checks the JPEG's markers) and
 * decodes it with its IJG codec (`dcmj2pnm --write-raw-pnm`); the PGM/PPM it writes is parsed here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DecodedJpeg {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Buffer;
}

export function decodeJpegWithDcmtk(jpeg: Buffer): DecodedJpeg {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gcp-jpeg-'));
  try {
    writeFileSync(join(dir, 'in.jpg'), jpeg);
    execFileSync('img2dcm', [join(dir, 'in.jpg'), join(dir, 'in.dcm')], { stdio: 'pipe' });
    execFileSync('dcmj2pnm', ['--write-raw-pnm', join(dir, 'in.dcm'), join(dir, 'out.pnm')], { stdio: 'pipe' });
    const pnm = readFileSync(join(dir, 'out.pnm'));
    const header = /^(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pnm.toString('latin1', 0, 64));
    if (!header || header[4] !== '255') throw new Error('dcmj2pnm wrote no 8-bit PGM/PPM');
    const [width, height, channels] = [Number(header[2]), Number(header[3]), header[1] === 'P5' ? 1 : 3] as const;
    const pixels = pnm.subarray(header[0].length, header[0].length + width * height * channels);
    return { width, height, channels: channels as 1 | 3, pixels: Buffer.from(pixels) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest and the mean absolute difference between two images of the same size. */
export function imageDifference(a: Buffer, b: Buffer): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`images of ${a.length} and ${b.length} bytes`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}
