/**
 * A native frame (little endian, as the archive gives it) -> 8-bit display pixels, the way PS3.3
 * describes the grayscale pipeline: stored values (Bits Stored, Pixel Representation), the
 * Modality LUT as Rescale Slope/Intercept, then the VOI window - the `window=center,width[,function]`
 * of the request, else the instance's first Window Center/Width and VOI LUT Function, else the
 * frame's own minimum to maximum - with the LINEAR, LINEAR_EXACT or SIGMOID function (C.11.2.1.2),
 * and MONOCHROME1 inverted. RGB (8 bits, either planar configuration) is passed through unwindowed.
 */
import { ArchiveBadRequest } from '../dicom-archive/archive-errors';
import { DicomJsonDataset, firstNumber, firstText } from '../dicom-archive/dicom-json';

export type WindowFunction = 'linear' | 'linear-exact' | 'sigmoid';

export interface VoiWindow {
  center: number;
  width: number;
  fn: WindowFunction;
}

export interface RenderedPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Buffer;
}

/** `window=40,400` or `window=40,400,linear-exact` (PS3.18 8.3.5.1.3); undefined when absent. */
export function parseWindowParameter(value: string | undefined): VoiWindow | undefined {
  if (value === undefined) return undefined;
  const [c, w, f = 'linear', ...rest] = value.split(',').map((s) => s.trim());
  const center = Number(c);
  const width = Number(w);
  const fn = f.toLowerCase();
  if (rest.length > 0 || c === '' || w === '' || !Number.isFinite(center) || !Number.isFinite(width) || width <= 0) {
    throw new ArchiveBadRequest(`window must be "center,width[,function]" with a width above 0, not "${value}"`);
  }
  if (fn !== 'linear' && fn !== 'linear-exact' && fn !== 'sigmoid') throw new ArchiveBadRequest(`window function must be linear, linear-exact or sigmoid, not "${f}"`);
  if (fn === 'linear' && width < 1) throw new ArchiveBadRequest('a linear window needs a width of at least 1');
  return { center, width, fn };
}

/** One modality value -> 0..255 through the window (PS3.3 C.11.2.1.2.1-3). */
export function applyWindow(x: number, w: VoiWindow): number {
  let y: number;
  if (w.fn === 'linear') {
    const low = w.center - 0.5 - (w.width - 1) / 2;
    const high = w.center - 0.5 + (w.width - 1) / 2;
    y = x <= low ? 0 : x > high ? 255 : ((x - (w.center - 0.5)) / (w.width - 1) + 0.5) * 255;
  } else if (w.fn === 'linear-exact') {
    y = x <= w.center - w.width / 2 ? 0 : x > w.center + w.width / 2 ? 255 : ((x - w.center) / w.width + 0.5) * 255;
  } else {
    y = 255 / (1 + Math.exp((-4 * (x - w.center)) / w.width));
  }
  return Math.min(255, Math.max(0, Math.round(y)));
}

function instanceWindow(m: DicomJsonDataset): VoiWindow | undefined {
  const center = firstNumber(m, '00281050');
  const width = firstNumber(m, '00281051');
  if (center === undefined || width === undefined || width <= 0) return undefined;
  const fn = (firstText(m, '00281056') ?? 'LINEAR').toUpperCase();
  return { center, width: fn === 'LINEAR' ? Math.max(1, width) : width, fn: fn === 'LINEAR_EXACT' ? 'linear-exact' : fn === 'SIGMOID' ? 'sigmoid' : 'linear' };
}

export function renderFrame(m: DicomJsonDataset, frame: Buffer, requested: VoiWindow | undefined): RenderedPixels {
  const height = firstNumber(m, '00280010') ?? 0;
  const width = firstNumber(m, '00280011') ?? 0;
  const samples = firstNumber(m, '00280002') ?? 1;
  const bitsAllocated = firstNumber(m, '00280100') ?? 8;
  const photometric = (firstText(m, '00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  const count = width * height;
  if (samples === 3) {
    if (photometric !== 'RGB' || bitsAllocated !== 8) throw new ArchiveBadRequest(`the fake renders colour only as 8-bit RGB, not ${bitsAllocated}-bit ${photometric}`);
    if (frame.length < count * 3) throw new ArchiveBadRequest('the frame is shorter than Rows x Columns x 3');
    if ((firstNumber(m, '00280006') ?? 0) === 0) return { width, height, channels: 3, pixels: Buffer.from(frame.subarray(0, count * 3)) };
    const pixels = Buffer.alloc(count * 3);
    for (let p = 0; p < count; p++) for (let s = 0; s < 3; s++) pixels[p * 3 + s] = frame[s * count + p];
    return { width, height, channels: 3, pixels };
  }
  if (samples !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) throw new ArchiveBadRequest(`${photometric} with ${samples} samples per pixel cannot be rendered by the fake`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw new ArchiveBadRequest(`${bitsAllocated}-bit grayscale cannot be rendered by the fake`);
  const bytesPer = bitsAllocated / 8;
  if (frame.length < count * bytesPer) throw new ArchiveBadRequest('the frame is shorter than Rows x Columns');
  const bitsStored = firstNumber(m, '00280101') ?? bitsAllocated;
  const signed = (firstNumber(m, '00280103') ?? 0) === 1;
  const slope = firstNumber(m, '00281053') ?? 1;
  const intercept = firstNumber(m, '00281052') ?? 0;
  const mask = 2 ** bitsStored - 1;
  const values = new Float64Array(count);
  for (let p = 0; p < count; p++) {
    let raw = (bytesPer === 1 ? frame[p] : frame.readUInt16LE(p * 2)) & mask;
    if (signed && raw >= 2 ** (bitsStored - 1)) raw -= 2 ** bitsStored;
    values[p] = raw * slope + intercept;
  }
  let window = requested ?? instanceWindow(m);
  if (!window) {
    // No window anywhere: the frame's range, end to end.
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) (min = Math.min(min, v)), (max = Math.max(max, v));
    window = { center: (min + max) / 2, width: Math.max(max - min, 1e-9), fn: 'linear-exact' };
  }
  const pixels = Buffer.alloc(count);
  const invert = photometric === 'MONOCHROME1';
  for (let p = 0; p < count; p++) {
    const y = applyWindow(values[p], window);
    pixels[p] = invert ? 255 - y : y;
  }
  return { width, height, channels: 1, pixels };
}
