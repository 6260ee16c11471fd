/**
 * Accept headers of the DICOM store as Google's conformance statement lists them (reference 2.2):
 *  - study, series, instance: `multipart/related; type="application/dicom"; transfer-syntax=...`
 *    (default 1.2.840.10008.1.2.1, `*` = as stored); an instance also as single-part
 *    `application/dicom; transfer-syntax=...` (Google's extension);
 *  - frames: `multipart/related; type="application/octet-stream"` (default ELE, `*` as stored) or
 *    `multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.50`;
 *  - bulk data: `multipart/related; type="application/octet-stream"`;
 *  - metadata and searches: DICOM JSON; STOW answers: DICOM JSON when asked, else DICOM XML;
 *  - rendered: image/jpeg (the default) or image/png.
 * Ranges are tried in the order written (q-values are not honoured); type quoted or not.
 */
import { MediaType, parseAccept } from '../dicom-archive/media-type';
import { TS } from '../dicom-archive/transfer-syntaxes';

export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

export interface RetrieveWish {
  form: 'multipart' | 'single';
  /** '*' or a transfer syntax UID. */
  transferSyntax: string;
}

function syntaxOf(range: MediaType, fallback: string): string {
  const ts = range.params['transfer-syntax'];
  return ts === undefined || ts === '' ? fallback : ts;
}

function rootType(range: MediaType, fallback: string): string {
  return (range.params.type ?? fallback).toLowerCase();
}

const isAny = (r: MediaType) => r.mediaType === '*/*';

/** Study, series or instance retrieve; `single` only where an instance is retrieved. */
export function retrieveWishes(accept: string | undefined, allowSinglePart: boolean): RetrieveWish[] {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return [{ form: 'multipart', transferSyntax: TS.ExplicitVRLittleEndian }];
  const wishes: RetrieveWish[] = [];
  for (const r of ranges) {
    if (isAny(r)) wishes.push({ form: 'multipart', transferSyntax: TS.ExplicitVRLittleEndian });
    else if (r.mediaType === 'multipart/related' && rootType(r, 'application/dicom') === 'application/dicom') wishes.push({ form: 'multipart', transferSyntax: syntaxOf(r, TS.ExplicitVRLittleEndian) });
    else if (allowSinglePart && r.mediaType === 'application/dicom') wishes.push({ form: 'single', transferSyntax: syntaxOf(r, TS.ExplicitVRLittleEndian) });
  }
  return wishes;
}

export interface FrameWish {
  partType: 'application/octet-stream' | 'image/jpeg';
  transferSyntax: string;
}

export function frameWishes(accept: string | undefined): FrameWish[] {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return [{ partType: 'application/octet-stream', transferSyntax: TS.ExplicitVRLittleEndian }];
  const wishes: FrameWish[] = [];
  for (const r of ranges) {
    if (isAny(r)) wishes.push({ partType: 'application/octet-stream', transferSyntax: TS.ExplicitVRLittleEndian });
    if (r.mediaType !== 'multipart/related') continue;
    const type = rootType(r, 'application/octet-stream');
    if (type === 'application/octet-stream') wishes.push({ partType: type, transferSyntax: syntaxOf(r, TS.ExplicitVRLittleEndian) });
    else if (type === 'image/jpeg' && syntaxOf(r, JPEG_BASELINE) === JPEG_BASELINE) wishes.push({ partType: type, transferSyntax: JPEG_BASELINE });
  }
  return wishes;
}

export function acceptsBulkData(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  return ranges.length === 0 || ranges.some((r) => isAny(r) || (r.mediaType === 'multipart/related' && rootType(r, 'application/octet-stream') === 'application/octet-stream'));
}

const JSON_TYPES = ['*/*', 'application/*', 'application/dicom+json', 'application/json'];

export function acceptsDicomJson(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  return ranges.length === 0 || ranges.some((r) => JSON_TYPES.includes(r.mediaType));
}

/** STOW answers: JSON only when asked for; Google's default is DICOM XML (reference 2.3). */
export function stowAnswerForm(accept: string | undefined): 'json' | 'xml' | undefined {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'xml';
  for (const r of ranges) {
    if (r.mediaType === 'application/dicom+json' || r.mediaType === 'application/json') return 'json';
    if (r.mediaType === 'application/dicom+xml' || r.mediaType === 'application/xml' || r.mediaType === '*/*' || r.mediaType === 'application/*') return 'xml';
  }
  return undefined;
}

/** Rendered media types, best first: Google renders JPEG unless PNG is asked for. */
export function renderedWishes(accept: string | undefined): ('image/jpeg' | 'image/png')[] {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return ['image/jpeg'];
  const wishes: ('image/jpeg' | 'image/png')[] = [];
  for (const r of ranges) {
    if (r.mediaType === 'image/png') wishes.push('image/png');
    else if (r.mediaType === 'image/jpeg' || r.mediaType === 'image/*' || isAny(r)) wishes.push('image/jpeg');
  }
  return wishes;
}
