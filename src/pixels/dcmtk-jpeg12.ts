/**
 * 12-bit JPEG (Extended, process 4) decoded by dcmtk's `dcmdjpeg`, the IJG 12-bit library that
 * PACS have used for decades: no maintained npm package reads 12-bit JPEG (libjpeg-turbo's
 * WebAssembly build is 8-bit). Used only when `dcmdjpeg` is installed (the container image has
 * it); otherwise such frames are answered 406 with the reason. It runs as a child process of a
 * codec worker: off the event loop, one frame per call, through temporary files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { elementHeader, filePreambleAndMeta, itemHeader, UNDEFINED_LENGTH } from '../dicom/part10-writer';
import { FrameFormat } from './frame-format';

const run = promisify(execFile);
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';

let found: boolean | undefined;

/** Whether `dcmdjpeg` is on the PATH (looked up once). */
export function dcmtkJpegAvailable(): boolean {
  found ??= (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'dcmdjpeg')));
  return found;
}

/** The sample precision of a JPEG codestream's first SOF marker (8 or 12), if it has one. */
export function jpegPrecision(codestream: Buffer): number | undefined {
  for (let at = 2; at + 5 <= codestream.length; ) {
    if (codestream[at] !== 0xff) return undefined;
    const marker = codestream[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return codestream[at + 4];
    at += 2 + codestream.readUInt16BE(at + 2);
  }
  return undefined;
}

function us(tag: number, value: number): Buffer {
  const v = Buffer.alloc(2);
  v.writeUInt16LE(value, 0);
  return Buffer.concat([elementHeader(tag, 'US', 2), v]);
}

function ui(tag: number, uid: string): Buffer {
  const v = Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
  return Buffer.concat([elementHeader(tag, 'UI', v.length), v]);
}

function cs(tag: number, text: string): Buffer {
  const v = Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1');
  return Buffer.concat([elementHeader(tag, 'CS', v.length), v]);
}

/** A minimal Part-10 file around one JPEG frame: what dcmdjpeg needs to decode it. */
function wrap(codestream: Buffer, format: FrameFormat): Buffer {
  const fragment = codestream.length % 2 ? Buffer.concat([codestream, Buffer.alloc(1)]) : codestream;
  const sop = '2.25.1';
  return Buffer.concat([
    filePreambleAndMeta({ sopClassUid: SECONDARY_CAPTURE, sopInstanceUid: sop, transferSyntaxUid: JPEG_EXTENDED }),
    ui(0x00080016, SECONDARY_CAPTURE),
    ui(0x00080018, sop),
    us(0x00280002, format.samplesPerPixel),
    cs(0x00280004, format.photometricInterpretation),
    ...(format.samplesPerPixel > 1 ? [us(0x00280006, 0)] : []),
    us(0x00280010, format.rows),
    us(0x00280011, format.columns),
    us(0x00280100, format.bitsAllocated),
    us(0x00280101, format.bitsStored),
    us(0x00280102, format.bitsStored - 1),
    us(0x00280103, format.pixelRepresentation),
    elementHeader(0x7fe00010, 'OB', UNDEFINED_LENGTH),
    itemHeader(0xfffee000, 0),
    itemHeader(0xfffee000, fragment.length),
    fragment,
    itemHeader(0xfffee0dd, 0),
  ]);
}

/** The native pixels dcmdjpeg wrote: the value of the Pixel Data element that ends its file. */
function pixelsOf(decoded: Buffer, length: number): Buffer | undefined {
  const padded = length + (length % 2);
  const header = decoded.length - padded - 12;
  if (header < 0) return undefined;
  const isPixelData = decoded.readUInt16LE(header) === 0x7fe0 && decoded.readUInt16LE(header + 2) === 0x0010 && decoded.toString('latin1', header + 4, header + 6) === 'OW' && decoded.readUInt32LE(header + 8) === padded;
  return isPixelData ? decoded.subarray(decoded.length - padded, decoded.length - padded + length) : undefined;
}

export class Jpeg12Refused extends Error {}

export async function decodeJpeg12(codestream: Buffer, format: FrameFormat): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-jpeg12-'));
  try {
    const input = join(dir, 'in.dcm');
    const output = join(dir, 'out.dcm');
    await writeFile(input, wrap(codestream, format));
    try {
      // Explicit VR Little Endian out, color converted to RGB as the other decoders give it.
      await run('dcmdjpeg', ['-q', '+te', input, output], { timeout: 30_000 });
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
      throw new Jpeg12Refused(`dcmdjpeg refused the codestream${stderr ? `: ${stderr.slice(0, 300)}` : ''}`);
    }
    const length = format.rows * format.columns * format.samplesPerPixel * 2;
    const pixels = pixelsOf(await readFile(output), length);
    if (!pixels) throw new Jpeg12Refused(`dcmdjpeg did not write ${length} bytes of native pixels`);
    return Buffer.from(pixels);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
