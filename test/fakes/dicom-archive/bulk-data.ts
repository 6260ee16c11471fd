/**
 * The value behind a BulkDataURI of the metadata, found by its opaque key: the bytes of the value,
 * little endian; for Pixel Data the native bytes, or, when encapsulated, its frames (one part each
 * on the wire, as PS3.18 B.10 shows).
 */
import { ArchiveNotFound } from './archive-errors';
import { DcmjsDataset, DcmjsElement, readPart10 } from './dcmjs-binding';
import { StoredInstance } from './dicom-archive';
import { binaryBytes } from './dicom-json';
import { T } from './dicom-tags';
import { storedFrames } from './pixel-frames';
import { TS, isEncapsulatedTransferSyntax } from './transfer-syntaxes';

export type BulkDataAnswer =
  | { kind: 'value'; vr: string; bytes: Buffer }
  | { kind: 'frames'; transferSyntaxUid: string; frames: Buffer[] };

const SWAP_WIDTH: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

function elementAt(dict: DcmjsDataset, path: string): DcmjsElement | undefined {
  const steps = path.split('/');
  let dataset: DcmjsDataset | undefined = dict;
  for (let i = 0; i < steps.length - 1; i += 2) {
    dataset = (dataset?.[steps[i]]?.Value?.[Number(steps[i + 1])] as DcmjsDataset | undefined) ?? undefined;
  }
  return dataset?.[steps[steps.length - 1]];
}

function littleEndian(bytes: Buffer, vr: string, storedUid: string): Buffer {
  const width = SWAP_WIDTH[vr];
  if (storedUid !== TS.ExplicitVRBigEndian || !width || bytes.length % width !== 0) return bytes;
  const copy = Buffer.from(bytes);
  return width === 2 ? copy.swap16() : width === 4 ? copy.swap32() : copy.swap64();
}

export function instanceBulkData(instance: StoredInstance, key: string, bytes: Buffer): BulkDataAnswer {
  const location = instance.bulk.get(key);
  if (!location) throw new ArchiveNotFound(`bulk data ${key} not found in instance ${instance.sopInstanceUid}`);
  const dict = readPart10(bytes).dict;
  const element = elementAt(dict, location.path);
  if (!element) throw new ArchiveNotFound(`bulk data ${key} not found in instance ${instance.sopInstanceUid}`);
  const stored = instance.transferSyntaxUid;
  if (location.path === T.PixelData && isEncapsulatedTransferSyntax(stored)) {
    return { kind: 'frames', transferSyntaxUid: stored, frames: storedFrames(dict, stored) };
  }
  return { kind: 'value', vr: location.vr, bytes: littleEndian(binaryBytes(element), location.vr, stored) };
}
