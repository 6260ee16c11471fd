/**
 * GET requests under /dicomweb that no route matched. A path that tries to climb out (dot
 * segments, raw or percent-encoded), or carries NUL, quotes or markup, is a malformed request
 * (400); anything else is an unknown resource (404). Nothing here touches the store.
 */
import { BadRequest, ResourceNotFound } from '../errors';
import { quoted } from './wado-request';

function decodedOnce(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // a broken escape is itself malformed; the checks below see the raw text
  }
}

export function refuseUnmatchedPath(url: string): never {
  const path = url.split('?')[0];
  const decoded = decodedOnce(decodedOnce(path));
  const segments = decoded.split(/[\\/]/);
  if (segments.some((s) => s === '..' || s === '.') || /[\0"'<>`]/.test(decoded) || /%(?![0-9A-Fa-f]{2})/.test(path)) {
    throw new BadRequest(`malformed DICOMweb path ${quoted(path)}`);
  }
  throw new ResourceNotFound(`no DICOMweb resource at ${quoted(path)}`);
}
