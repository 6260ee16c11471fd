/**
 * Turns the bytes of one Part-10 file into what the archive indexes, or into a PS3.18 failure
 * reason (PS3.4 C-STORE status codes, as STOW-RS reports them in FailureReason (0008,1197)):
 *   0xC000 cannot understand (not Part 10, or dcmjs cannot parse it),
 *   0xC122 transfer syntax not supported,
 *   0xA900 data set does not match SOP class (here: a required UID is missing).
 */
import { readPart10 } from './dcmjs-binding';
import { BulkDataLocation, DicomJsonDataset, firstNumber, firstText, toDicomJson } from './dicom-json';
import { T } from './dicom-tags';
import { readPart10Header } from './part10-header';
import { isKnownTransferSyntax } from './transfer-syntaxes';

export const FAILURE = {
  CannotUnderstand: 0xc000,
  TransferSyntaxNotSupported: 0xc122,
  DataSetDoesNotMatchSopClass: 0xa900,
} as const;

export interface ParsedInstance {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  /** Top-level and nested attributes; bulk values carry their opaque key as BulkDataURI. */
  metadata: DicomJsonDataset;
  bulk: BulkDataLocation[];
  hasPixelData: boolean;
  numberOfFrames: number;
}

export type ParseOutcome = { ok: true; instance: ParsedInstance } | { ok: false; failureReason: number; message: string };

const REQUIRED_UIDS: [string, string][] = [
  [T.StudyInstanceUID, 'StudyInstanceUID'],
  [T.SeriesInstanceUID, 'SeriesInstanceUID'],
  [T.SOPInstanceUID, 'SOPInstanceUID'],
  [T.SOPClassUID, 'SOPClassUID'],
];

export function parseInstance(bytes: Buffer, bulkThresholdBytes: number): ParseOutcome {
  const header = readPart10Header(bytes);
  if (!header.ok) return { ok: false, failureReason: FAILURE.CannotUnderstand, message: `not a DICOM Part-10 file: ${header.problem}` };
  if (!isKnownTransferSyntax(header.transferSyntaxUid)) {
    return { ok: false, failureReason: FAILURE.TransferSyntaxNotSupported, message: `transfer syntax ${header.transferSyntaxUid} is not supported` };
  }
  let converted: ReturnType<typeof toDicomJson>;
  try {
    converted = toDicomJson(readPart10(bytes).dict, bulkThresholdBytes);
  } catch (error) {
    return { ok: false, failureReason: FAILURE.CannotUnderstand, message: `the data set cannot be parsed: ${(error as Error).message}` };
  }
  const metadata = converted.dataset;
  const uids = new Map<string, string>();
  for (const [tag, keyword] of REQUIRED_UIDS) {
    const uid = firstText(metadata, tag);
    if (!uid) return { ok: false, failureReason: FAILURE.DataSetDoesNotMatchSopClass, message: `DICOM attribute ${keyword} does not exist` };
    uids.set(tag, uid);
  }
  return {
    ok: true,
    instance: {
      studyInstanceUid: uids.get(T.StudyInstanceUID)!,
      seriesInstanceUid: uids.get(T.SeriesInstanceUID)!,
      sopInstanceUid: uids.get(T.SOPInstanceUID)!,
      sopClassUid: uids.get(T.SOPClassUID)!,
      transferSyntaxUid: header.transferSyntaxUid,
      metadata,
      bulk: converted.bulk,
      hasPixelData: metadata[T.PixelData] !== undefined,
      numberOfFrames: firstNumber(metadata, T.NumberOfFrames) ?? 1,
    },
  };
}
