/**
 * Accept headers of HealthImaging's DICOMweb retrieve operations, as its developer guide describes
 * them: an instance is one `application/dicom` Part-10 body whose transfer-syntax parameter defaults
 * to Explicit VR Little Endian (`*` = as stored); frames are `multipart/related;
 * type=application/octet-stream` (type quoted or not) with the same transfer-syntax rule. Several
 * comma-separated ranges are tried in order; `*\/*` or no Accept means the default.
 */
import { MediaType, parseAccept } from '../dicom-archive/media-type';
import { TransferSyntaxWish } from '../dicom-archive/pixel-frames';
import { TS } from '../dicom-archive/transfer-syntaxes';

function wishOf(range: MediaType): TransferSyntaxWish {
  const ts = range.params['transfer-syntax'];
  return ts === undefined || ts === '' ? TS.ExplicitVRLittleEndian : ts;
}

function isAnything(range: MediaType): boolean {
  return range.mediaType === '*/*';
}

/** Transfer syntaxes an instance may be sent in, best first; empty: nothing the fake can send. */
export function instanceWishes(accept: string | undefined): TransferSyntaxWish[] {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return [TS.ExplicitVRLittleEndian];
  const wishes: TransferSyntaxWish[] = [];
  for (const range of ranges) {
    if (isAnything(range) || range.mediaType === 'application/*') wishes.push(TS.ExplicitVRLittleEndian);
    else if (range.mediaType === 'application/dicom') wishes.push(wishOf(range));
  }
  return wishes;
}

/** Transfer syntaxes frames may be sent in, best first. */
export function frameWishes(accept: string | undefined): TransferSyntaxWish[] {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return [TS.ExplicitVRLittleEndian];
  const wishes: TransferSyntaxWish[] = [];
  for (const range of ranges) {
    if (isAnything(range)) wishes.push(TS.ExplicitVRLittleEndian);
    else if (range.mediaType === 'multipart/related' && (range.params.type ?? 'application/octet-stream').toLowerCase() === 'application/octet-stream') wishes.push(wishOf(range));
  }
  return wishes;
}

/** Metadata, searches and STOW answers are DICOM JSON. */
export function acceptsDicomJson(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  return ranges.length === 0 || ranges.some((r) => ['*/*', 'application/*', 'application/dicom+json', 'application/json'].includes(r.mediaType));
}

/** How a bulk value may be sent: a plain octet-stream body, else a multipart of one part. */
export function bulkDataForms(accept: string | undefined): { octetStream: boolean; multipart: boolean } {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { octetStream: true, multipart: true };
  return {
    octetStream: ranges.some((r) => ['*/*', 'application/*', 'application/octet-stream'].includes(r.mediaType)),
    multipart: ranges.some((r) => r.mediaType === '*/*' || (r.mediaType === 'multipart/related' && (r.params.type ?? 'application/octet-stream') === 'application/octet-stream')),
  };
}
