/**
 * The Accept headers HealthImaging's DICOMweb retrieves understand, from what the client accepts
 * (developer guide, "Retrieving"), and the labels of its answers as the client asked for them:
 * - an instance is asked as a single part, `application/dicom; transfer-syntax=...`: Explicit VR
 *   Little Endian when the client named none (PS3.18 8.7.3), `*` for as stored;
 * - frames are asked as `multipart/related; type=application/octet-stream; transfer-syntax=...`,
 *   whatever image type the client wants: a client asking for image/jphc gets HealthImaging's
 *   HTJ2K frames (1.2.840.10008.1.2.4.201-203) by their transfer syntaxes, and the parts are then
 *   labelled image/jphc (its answers call every part application/octet-stream).
 * Several ranges are sent in the client's order, with their q-values.
 */
import { canonicalMediaType, frameMediaTypeOf, syntaxesOfFrameMediaType } from '../../dicom/frame-media-types';
import { RelayedAnswer, TransferSyntaxChoice } from '../wado-types';

const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const OCTET_STREAM = 'application/octet-stream';

function qText(q: number): string {
  return q < 1 ? `; q=${Number(q.toFixed(3))}` : '';
}

function accepted(want: TransferSyntaxChoice) {
  return (want.ranges ?? []).filter((r) => r.q > 0);
}

export function instanceAccept(want: TransferSyntaxChoice): string {
  const out: string[] = [];
  for (const range of accepted(want)) {
    const syntax = range.transferSyntax ?? EXPLICIT_VR_LITTLE_ENDIAN;
    const text = `application/dicom; transfer-syntax=${syntax}${qText(range.q)}`;
    if (!out.includes(text)) out.push(text);
  }
  return out.length > 0 ? out.join(', ') : `application/dicom; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;
}

/** The transfer syntaxes one accepted range stands for, on HealthImaging's frame resource. */
function frameSyntaxes(payload: string, transferSyntax: string | undefined): string[] {
  if (transferSyntax) return [transferSyntax];
  if (payload === OCTET_STREAM || payload === '*/*') return [EXPLICIT_VR_LITTLE_ENDIAN];
  if (payload.endsWith('/*')) return ['*'];
  return syntaxesOfFrameMediaType(payload);
}

export function framesAccept(want: TransferSyntaxChoice): string {
  const out: string[] = [];
  for (const range of accepted(want)) {
    for (const syntax of frameSyntaxes(canonicalMediaType(range.payload), range.transferSyntax)) {
      const text = `multipart/related; type=${OCTET_STREAM}; transfer-syntax=${syntax}${qText(range.q)}`;
      if (!out.includes(text)) out.push(text);
    }
  }
  return out.length > 0 ? out.join(', ') : `multipart/related; type=${OCTET_STREAM}; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;
}

/** Each frame part labelled with its syntax's image type when the client accepts that type. */
export function framesRelabel(want: TransferSyntaxChoice): NonNullable<RelayedAnswer['relabel']> {
  const ranges = accepted(want).map((r) => canonicalMediaType(r.payload));
  const takes = (type: string) => ranges.some((p) => p === type || p === '*/*' || (p === 'image/*' && type.startsWith('image/')));
  const first = ranges[0];
  return {
    outer: first && !first.endsWith('/*') ? first : OCTET_STREAM,
    part(contentType) {
      const syntax = /transfer-syntax\s*=\s*"?([0-9.]{1,64})"?/i.exec(contentType ?? '')?.[1];
      const image = syntax ? frameMediaTypeOf(syntax) : undefined;
      const type = image && takes(image) ? image : OCTET_STREAM;
      return syntax ? `${type}; transfer-syntax=${syntax}` : type;
    },
  };
}
