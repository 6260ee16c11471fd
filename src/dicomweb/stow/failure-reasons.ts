/**
 * PS3.18 Table 10.5.3-2 (Store Instances Response Failure Reason), with the DIMSE status of
 * PS3.4 for a duplicate SOP Instance, which the table leaves to the implementation.
 */
import { RejectionReason } from '../../ingest/rejection';

export const FailureReason = {
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  TransferSyntaxNotSupported: 0xc122,
} as const;

export function failureReasonFor(reason: RejectionReason): number {
  switch (reason) {
    case 'cannot-understand':
    case 'unsupported-media-type':
      return FailureReason.CannotUnderstand;
    case 'unsupported-transfer-syntax':
      return FailureReason.TransferSyntaxNotSupported;
    case 'does-not-match':
    case 'study-mismatch':
    case 'inconsistent-with-archive':
      return FailureReason.DataSetDoesNotMatchSopClass;
    case 'duplicate-conflict':
      return FailureReason.DuplicateSopInstance;
    case 'out-of-resources':
      return FailureReason.OutOfResources;
    case 'processing-failure':
      return FailureReason.ProcessingFailure;
  }
}

/** Failures that mean "the request conflicts with the target or the archive" (409 when nothing was stored). */
export function isConflict(reason: RejectionReason): boolean {
  return reason === 'study-mismatch' || reason === 'duplicate-conflict' || reason === 'inconsistent-with-archive';
}
