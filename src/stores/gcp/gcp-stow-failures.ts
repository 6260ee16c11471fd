/**
 * Google's STOW failures (Cloud Healthcare answers a duplicate SOP Instance UID with other bytes
 * with 409 and a Failed SOP Sequence item whose Failure Reason is 272, processing failure, and
 * whose private FailureDetail (0009,0097), creator GOOGLE, says why: "An instance already exists
 * in this DICOM Store with the same Study/Series/SOPInstance UID, but the DICOM files differ"):
 * that one is a conflict (0x0111), the first copy kept; any other item keeps the standard reading,
 * with Google's detail added to the reason.
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { InstanceConflict, UpstreamRefused } from '../store-errors';
import { FailureInterpreter } from '../dicomweb/stow-protocol';

const FAILURE_REASON = '00081197';
const GOOGLE_FAILURE_DETAIL = '00090097';

export const interpretGoogleFailure: FailureInterpreter = (item, _reply, named) => {
  const detail = failureDetail(item);
  if (detail && /already exists|files differ|checksum mismatch/i.test(detail)) {
    return new InstanceConflict(`${named} holds another instance with this SOP Instance UID (${detail.slice(0, 200)}); the gateway refuses to replace instances`);
  }
  if (!detail) return undefined;
  const reason = Number(item[FAILURE_REASON]?.Value?.[0] ?? 0x0110);
  return new UpstreamRefused(`${named} refused the instance (failure reason 0x${reason.toString(16).toUpperCase().padStart(4, '0')}): ${detail.slice(0, 200)}`, reason);
};

/** Google's FailureDetail, by its tag, else any text value of the item that explains. */
function failureDetail(item: DicomJsonObject): string | undefined {
  const own = item[GOOGLE_FAILURE_DETAIL]?.Value?.[0];
  if (typeof own === 'string' && own.trim() !== '') return own.trim();
  for (const [key, attr] of Object.entries(item)) {
    if (key.startsWith('0009') && (attr.vr === 'LT' || attr.vr === 'LO' || attr.vr === 'ST' || attr.vr === 'UT')) {
      const text = attr.Value?.[0];
      if (typeof text === 'string' && text.length > 20) return text.trim();
    }
  }
  return undefined;
}
