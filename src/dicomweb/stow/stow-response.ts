/**
 * Builds the STOW-RS answer (PS3.18 10.5.3): the status code of Table 10.5.3-1 and the
 * application/dicom+json body with Retrieve URL, Referenced SOP Sequence and Failed SOP Sequence.
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { RejectionReason } from '../../ingest/rejection';
import { failureReasonFor, isConflict } from './failure-reasons';

export interface StoredInstanceRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

export interface FailedPart {
  /** 1-based position of the part in the request, for the human reading the Warning header. */
  part: number;
  reason: RejectionReason;
  message: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
}

export interface StowOutcome {
  stored: StoredInstanceRef[];
  failed: FailedPart[];
  /** The request as a whole broke a limit (413), whatever was stored before that. */
  limitExceeded?: string;
  /** The multipart framing itself was broken (e.g. the client stopped sending). */
  framingError?: string;
  /** Things a client should know about instances that were stored (sent as Warning headers). */
  notes: string[];
}

export function stowStatus(outcome: StowOutcome): number {
  if (outcome.limitExceeded) return 413;
  const { stored, failed } = outcome;
  const hasFailure = failed.length > 0 || outcome.framingError !== undefined;
  if (stored.length > 0) return hasFailure ? 202 : 200;
  if (failed.length > 0 && failed.every((f) => isConflict(f.reason))) return 409;
  if (failed.length > 0 && failed.every((f) => f.reason === 'out-of-resources')) return 413;
  return 400;
}

function ui(value: string | undefined): { vr: string; Value?: string[] } {
  return value ? { vr: 'UI', Value: [value] } : { vr: 'UI' };
}

export function stowResponseBody(
  outcome: StowOutcome,
  urls: { study(studyUid: string): string; instance(ref: StoredInstanceRef): string },
  targetStudyUid?: string,
): DicomJsonObject {
  const body: DicomJsonObject = {};
  const studies = new Set(outcome.stored.map((s) => s.studyInstanceUid));
  const studyUid = targetStudyUid ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (studyUid) body['00081190'] = { vr: 'UR', Value: [urls.study(studyUid)] };
  if (outcome.failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: outcome.failed.map((f) => ({
        '00081150': ui(f.sopClassUid),
        '00081155': ui(f.sopInstanceUid),
        '00081197': { vr: 'US', Value: [failureReasonFor(f.reason)] },
      })),
    };
  }
  if (outcome.stored.length > 0) {
    body['00081199'] = {
      vr: 'SQ',
      Value: outcome.stored.map((s) => ({
        '00081150': ui(s.sopClassUid),
        '00081155': ui(s.sopInstanceUid),
        '00081190': { vr: 'UR', Value: [urls.instance(s)] },
      })),
    };
  }
  return body;
}
