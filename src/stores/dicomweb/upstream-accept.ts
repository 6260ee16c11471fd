/**
 * The Accept header sent upstream for a WADO-RS retrieve: the client's accepted representations,
 * each asked as multipart/related (every DICOMweb server produces that; a single-part answer is
 * unwrapped at the gateway), with their transfer syntax and q-value, so the upstream converts
 * natively. A range without transfer-syntax on application/dicom or application/octet-stream
 * means the standard's default, Explicit VR Little Endian (PS3.18 8.7.3), and is asked as such:
 * Orthanc otherwise answers as stored, even in the Implicit VR Little Endian that 8.7.3 keeps out
 * of web services.
 */
import { TransferSyntaxChoice } from '../wado-types';

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const DEFAULTS_TO_EXPLICIT = new Set(['application/dicom', 'application/octet-stream']);

export function upstreamAccept(want: TransferSyntaxChoice, defaultPayload: string): string {
  const out: string[] = [];
  for (const range of want.ranges ?? []) {
    if (range.q <= 0) continue;
    // '*/*' or 'image/*' name no payload a server can be asked for: its default payload then.
    const payload = range.payload.endsWith('/*') ? defaultPayload : range.payload;
    let text = `multipart/related; type="${payload}"`;
    const syntax = range.transferSyntax ?? (DEFAULTS_TO_EXPLICIT.has(payload) ? EXPLICIT_VR_LITTLE_ENDIAN : undefined);
    if (syntax) text += `; transfer-syntax=${syntax}`;
    if (range.q < 1) text += `; q=${Number(range.q.toFixed(3))}`;
    if (!out.includes(text)) out.push(text);
  }
  return out.length > 0 ? out.join(', ') : `multipart/related; type="${defaultPayload}"; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;
}
