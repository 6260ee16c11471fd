/**
 * Where the Pixel Data of a stored file is, recorded at ingest so frames can later be read by
 * offset without parsing the file again.
 */
import { ParsedPart10, Tags } from '../../dicom/dataset';

export type PixelDataLocation =
  | { native: { offset: number; length: number } }
  | { encapsulated: { offsetTable: number[]; fragments: [number, number][] } };

export function locatePixelData(parsed: ParsedPart10): PixelDataLocation | undefined {
  // Offsets into an inflated data set do not address the file; such instances are read whole.
  if (parsed.deflated) return undefined;
  const el =
    parsed.dataset.get(Tags.PixelData) ??
    parsed.dataset.get(Tags.FloatPixelData) ??
    parsed.dataset.get(Tags.DoubleFloatPixelData);
  if (!el) return undefined;
  if (el.encapsulated) {
    return {
      encapsulated: {
        offsetTable: el.encapsulated.basicOffsetTable,
        fragments: el.encapsulated.fragments.map((f) => [f.offset, f.length]),
      },
    };
  }
  if (el.bulk) return { native: { offset: el.bulk.offset, length: el.bulk.length } };
  return undefined;
}
