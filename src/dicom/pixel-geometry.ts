/**
 * The image pixel attributes (PS3.3 C.7.6.3) that say how Pixel Data is laid out, read from a
 * parsed data set: what frame arithmetic, RLE decoding and byte order conversion need.
 */
import { DicomDataset, Tag, Tags } from './dataset';

export interface PixelGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  /** 0: samples interleaved per pixel (R1G1B1R2...), 1: one plane per sample (PS3.3 C.7.6.3.1.3). */
  planarConfiguration: number;
  /** Number of Frames (0028,0008); 1 when absent. */
  numberOfFrames: number;
  /** What codecs and rendering need besides the layout (absent in layouts stored by older
   *  versions, which are recomputed: instance-layout.ts). Bits Stored defaults to Bits Allocated. */
  bitsStored?: number;
  pixelRepresentation?: number;
  photometricInterpretation?: string;
}

export const PlanarConfiguration: Tag = 0x00280006;
export const PixelRepresentation: Tag = 0x00280103;
export const LossyImageCompression: Tag = 0x00282110;
export const PhotometricInterpretation: Tag = 0x00280004;
export const BitsStored: Tag = 0x00280101;

/** First value of a US attribute in the data set's byte order. */
export function readUs(dataset: DicomDataset, tag: Tag, littleEndian: boolean): number | undefined {
  const v = dataset.get(tag)?.value;
  if (!v || v.length < 2) return undefined;
  return littleEndian ? v.readUInt16LE(0) : v.readUInt16BE(0);
}

/** First value of a string attribute (CS, IS...), trimmed of padding. */
export function readText(dataset: DicomDataset, tag: Tag): string | undefined {
  const v = dataset.get(tag)?.value;
  if (!v) return undefined;
  const text = v.toString('latin1').split('\\')[0].replace(/[\0 ]+$/, '').trim();
  return text === '' ? undefined : text;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** The geometry of the data set's Pixel Data, or undefined when a required attribute is missing. */
export function pixelGeometry(dataset: DicomDataset, littleEndian: boolean): PixelGeometry | undefined {
  const rows = readUs(dataset, Tags.Rows, littleEndian);
  const columns = readUs(dataset, Tags.Columns, littleEndian);
  const bitsAllocated = readUs(dataset, Tags.BitsAllocated, littleEndian);
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) return undefined;
  const frames = readText(dataset, Tags.NumberOfFrames);
  const numberOfFrames = frames && /^\+?\d+$/.test(frames) ? Math.max(1, Number(frames)) : 1;
  return {
    rows,
    columns,
    samplesPerPixel: readUs(dataset, Tags.SamplesPerPixel, littleEndian) ?? 1,
    bitsAllocated,
    planarConfiguration: readUs(dataset, PlanarConfiguration, littleEndian) ?? 0,
    numberOfFrames,
    bitsStored: readUs(dataset, BitsStored, littleEndian) ?? bitsAllocated,
    pixelRepresentation: readUs(dataset, PixelRepresentation, littleEndian) ?? 0,
    ...optional('photometricInterpretation', readText(dataset, PhotometricInterpretation)),
  };
}

/** Bits of one native frame (Bits Allocated 1 packs pixels across byte boundaries, PS3.5 8.1.1). */
export function frameBits(g: PixelGeometry): number {
  return g.rows * g.columns * g.samplesPerPixel * g.bitsAllocated;
}

/** Bytes of one native frame as returned to a client (bit-packed frames rounded up). */
export function frameBytes(g: PixelGeometry): number {
  return Math.ceil(frameBits(g) / 8);
}
