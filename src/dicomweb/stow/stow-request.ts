/**
 * What a STOW-RS request must look like before any byte of its body is read (PS3.18 10.5.1):
 * a multipart/related body of application/dicom parts, or one bare application/dicom instance.
 */
import { negotiate } from '../accept';
import { BadRequest, NotAcceptable, UnsupportedMediaType } from '../errors';
import { parseContentType } from '../multipart/content-type';

export type StowBody = { kind: 'multipart'; boundary: string } | { kind: 'single' };

export function classifyStowBody(contentTypeHeader: string | undefined): StowBody {
  const ct = parseContentType(contentTypeHeader);
  if (!ct) {
    throw new UnsupportedMediaType(
      'STOW-RS needs Content-Type multipart/related; type="application/dicom" (or application/dicom)',
    );
  }
  if (ct.mediaType === 'application/dicom') return { kind: 'single' };
  if (ct.mediaType !== 'multipart/related') {
    throw new UnsupportedMediaType(
      `Content-Type ${ct.mediaType} is not supported; send multipart/related; type="application/dicom"`,
    );
  }
  const type = ct.params.type?.toLowerCase();
  if (type !== 'application/dicom') {
    throw new UnsupportedMediaType(
      type
        ? `multipart/related type "${type}" is not supported; this server stores application/dicom parts`
        : 'multipart/related needs the type parameter: type="application/dicom"',
    );
  }
  const boundary = ct.params.boundary;
  if (!boundary || boundary.length > 70) {
    throw new BadRequest('multipart/related Content-Type without a valid boundary parameter (1 to 70 characters)');
  }
  return { kind: 'multipart', boundary };
}

export const STOW_RESPONSE_TYPES = ['application/dicom+json', 'application/json'];

export function stowResponseType(acceptHeader: string | undefined): string {
  const type = negotiate(acceptHeader, STOW_RESPONSE_TYPES);
  if (!type) throw new NotAcceptable('STOW-RS answers in application/dicom+json (or application/json) only');
  return type;
}
