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
  /** The Failure Reason when it is not the reason's own, e.g. the one an upstream store gave. */
  failureReason?: number;
  /** The store's upstream was unreachable, too slow or failing (not the instance's fault). */
  outage?: { status: number; retryAfterSeconds?: number };
}

/** Retry-After of an answer that failed only because of the upstream (the longest asked). */
export function stowRetryAfter(outcome: StowOutcome): number | undefined {
  const seconds = outcome.failed.map((f) => f.outage?.retryAfterSeconds).filter((s): s is number => s !== undefined);
  return seconds.length > 0 ? Math.max(...seconds) : undefined;
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
  /** Bytes of the request body read (for the audit trail). */
  bytesRead?: number;
}

export function stowStatus(outcome: StowOutcome): number {
  if (outcome.limitExceeded) return 413;
  const { stored, failed } = outcome;
  const hasFailure = failed.length > 0 || outcome.framingError !== undefined;
  if (stored.length > 0) return hasFailure ? 202 : 200;
  // Nothing stored because the upstream is down: say so (503/504/502), as any other request would.
  const outage = failed[0]?.outage;
  if (outage && failed.every((f) => f.outage)) return outage.status;
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
        '00081197': { vr: 'US', Value: [f.failureReason ?? failureReasonFor(f.reason)] },
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
