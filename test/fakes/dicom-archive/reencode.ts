/**
 * The archive's own copy of an instance, as a cloud store that transcodes keeps one (HealthImaging
 * stores HTJ2K lossless with its own File Meta Information): read with dcmjs and written again,
 * native pixel data as Explicit VR Little Endian, with the fake's Implementation Class UID. The
 * content (attributes, pixel values) is the same; the bytes are not.
 */
import { readPart10, writePart10 } from './dcmjs-binding';

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const FAKE_IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.7999.1';

export function reencode(bytes: Buffer): Buffer {
  const file = readPart10(bytes);
  const syntax = String(file.meta['00020010']?.Value?.[0] ?? EXPLICIT_VR_LITTLE_ENDIAN);
  const meta = {
    ...file.meta,
    '00020010': { vr: 'UI', Value: [NATIVE.has(syntax) ? EXPLICIT_VR_LITTLE_ENDIAN : syntax] },
    '00020012': { vr: 'UI', Value: [FAKE_IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: ['FAKE_AHI_COPY'] },
  };
  return writePart10(meta, file.dict);
}
