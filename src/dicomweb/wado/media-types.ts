/**
 * The media types of WADO-RS payloads (PS3.18 8.7.3): DICOM instances, uncompressed bulk data,
 * and compressed frames by transfer syntax (dicom/frame-media-types.ts).
 */
import { TS } from '../../dicom/transfer-syntax';

export const DICOM = 'application/dicom';
export const OCTET_STREAM = 'application/octet-stream';
export const DICOM_JSON = 'application/dicom+json';

export { canonicalMediaType, frameMediaTypeOf } from '../../dicom/frame-media-types';

/** Transfer syntaxes PS3.18 8.7.3 forbids in web services: never produced, refused when asked. */
export function isForbiddenInWebServices(transferSyntaxUid: string): boolean {
  return transferSyntaxUid === TS.ImplicitVRLittleEndian || transferSyntaxUid === TS.ExplicitVRBigEndian;
}
