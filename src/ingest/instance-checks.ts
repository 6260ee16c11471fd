/**
 * The checks an instance must pass before any store sees it: the identifying UIDs present and
 * well formed, consistent with the File Meta Information and the request, and the Pixel Data
 * complete. Data a PACS administrator would not want in the archive is refused here, once.
 */
import { DicomDataset, ParsedPart10, Tag, Tags } from '../dicom/dataset';
import { describeTag } from '../dicom/dictionary';
import { lookupTransferSyntax } from '../dicom/transfer-syntax';
import { isValidUid, trimUid } from '../dicom/uid';
import { InstanceIdentity } from '../stores/dicom-store';
import { InstanceRejected } from './rejection';

function asciiValue(dataset: DicomDataset, tag: Tag): string | undefined {
  const value = dataset.get(tag)?.value;
  return value ? trimUid(value.toString('latin1')).trim() : undefined;
}

function uintValue(dataset: DicomDataset, tag: Tag, littleEndian: boolean): number | undefined {
  const value = dataset.get(tag)?.value;
  if (!value || value.length < 2) return undefined;
  return littleEndian ? value.readUInt16LE(0) : value.readUInt16BE(0);
}

function requireUid(dataset: DicomDataset, tag: Tag, partial: Partial<InstanceIdentity>): string {
  const raw = asciiValue(dataset, tag);
  if (!raw) throw new InstanceRejected('does-not-match', `${describeTag(tag)} is missing or empty`, partial);
  if (!isValidUid(raw)) {
    throw new InstanceRejected('does-not-match', `${describeTag(tag)} is not a valid UID: ${JSON.stringify(raw.slice(0, 80))}`, partial);
  }
  return raw;
}

export function checkInstance(parsed: ParsedPart10, expectedStudyUid?: string): InstanceIdentity {
  const { dataset, meta } = parsed;
  const partial: Partial<InstanceIdentity> = {};
  // SOP Class and Instance first, so every later failure can name the instance in the response.
  const sopClassRaw = asciiValue(dataset, Tags.SOPClassUID);
  const sopInstanceRaw = asciiValue(dataset, Tags.SOPInstanceUID);
  if (sopClassRaw && isValidUid(sopClassRaw)) partial.sopClassUid = sopClassRaw;
  if (sopInstanceRaw && isValidUid(sopInstanceRaw)) partial.sopInstanceUid = sopInstanceRaw;

  const sopClassUid = requireUid(dataset, Tags.SOPClassUID, partial);
  const sopInstanceUid = requireUid(dataset, Tags.SOPInstanceUID, partial);
  const studyInstanceUid = requireUid(dataset, Tags.StudyInstanceUID, partial);
  const seriesInstanceUid = requireUid(dataset, Tags.SeriesInstanceUID, partial);
  partial.studyInstanceUid = studyInstanceUid;
  partial.seriesInstanceUid = seriesInstanceUid;

  const mediaSopInstance = asciiValue(meta, Tags.MediaStorageSOPInstanceUID);
  if (mediaSopInstance && mediaSopInstance !== sopInstanceUid) {
    throw new InstanceRejected(
      'does-not-match',
      `Media Storage SOP Instance UID (0002,0003) ${mediaSopInstance} differs from SOP Instance UID ${sopInstanceUid}`,
      partial,
    );
  }
  const mediaSopClass = asciiValue(meta, Tags.MediaStorageSOPClassUID);
  if (mediaSopClass && mediaSopClass !== sopClassUid) {
    throw new InstanceRejected(
      'does-not-match',
      `Media Storage SOP Class UID (0002,0002) ${mediaSopClass} differs from SOP Class UID ${sopClassUid}`,
      partial,
    );
  }
  if (expectedStudyUid !== undefined && studyInstanceUid !== expectedStudyUid) {
    throw new InstanceRejected(
      'study-mismatch',
      `Study Instance UID ${studyInstanceUid} differs from ${expectedStudyUid}, the study this request stores into (its URL or its study token)`,
      partial,
    );
  }
  checkPixelDataComplete(parsed, partial);
  return {
    studyInstanceUid,
    seriesInstanceUid,
    sopInstanceUid,
    sopClassUid,
    transferSyntaxUid: parsed.transferSyntaxUid,
  };
}

/**
 * A file cut exactly at an element boundary before or inside Pixel Data can look structurally
 * complete; the image attributes say how many pixel bytes there must be.
 */
function checkPixelDataComplete(parsed: ParsedPart10, partial: Partial<InstanceIdentity>): void {
  const { dataset, littleEndian } = parsed;
  const rows = uintValue(dataset, Tags.Rows, littleEndian);
  const columns = uintValue(dataset, Tags.Columns, littleEndian);
  const bitsAllocated = uintValue(dataset, Tags.BitsAllocated, littleEndian);
  const samples = uintValue(dataset, Tags.SamplesPerPixel, littleEndian) ?? 1;
  const pixel =
    dataset.get(Tags.PixelData) ?? dataset.get(Tags.FloatPixelData) ?? dataset.get(Tags.DoubleFloatPixelData);
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) return;
  if (!pixel) {
    throw new InstanceRejected('cannot-understand', 'incomplete instance: image attributes present but no Pixel Data', partial);
  }
  const framesText = asciiValue(dataset, Tags.NumberOfFrames);
  const frames = framesText && /^\s*\d+\s*$/.test(framesText) ? Math.max(1, Number(framesText)) : 1;
  if (pixel.encapsulated) {
    const ts = lookupTransferSyntax(parsed.transferSyntaxUid);
    const isVideo = ts?.frameMediaType?.startsWith('video/') ?? false;
    if (pixel.encapsulated.fragments.length === 0 || (!isVideo && pixel.encapsulated.fragments.length < frames)) {
      throw new InstanceRejected(
        'cannot-understand',
        `incomplete instance: ${pixel.encapsulated.fragments.length} pixel data fragment(s) for ${frames} frame(s)`,
        partial,
      );
    }
    return;
  }
  const length = pixel.bulk?.length ?? pixel.value?.length ?? 0;
  const expected = Math.ceil((rows * columns * samples * frames * bitsAllocated) / 8);
  if (length < expected) {
    throw new InstanceRejected(
      'cannot-understand',
      `incomplete instance: Pixel Data holds ${length} bytes, ${rows}x${columns}x${samples}x${frames} at ${bitsAllocated} bits needs ${expected}`,
      partial,
    );
  }
}
