/**
 * Accept negotiation of WADO-RS (PS3.18 8.7.3 and 8.7.5), as a pure function: the client's Accept
 * ranges on one side, what the server can produce for a resource (offers) on the other.
 *
 * - multipart/related; type="T"; transfer-syntax=X: T and X as asked. Without `type` the resource's
 *   default payload type (application/dicom for instances, application/octet-stream for frames and
 *   bulk data); `transfer-syntax=*` accepts any syntax.
 * - No transfer-syntax: the default of Tables 8.7.3-2/-4, Explicit VR Little Endian, for
 *   application/dicom and application/octet-stream; except that pixel data held only in lossy
 *   compressed form may be returned as stored (8.7.3, second paragraph). For a compressed image
 *   type (image/jpeg...) without transfer-syntax any syntax of that type is accepted: the standard's
 *   default (e.g. JPEG Lossless for image/jpeg) would refuse most stored JPEG for no benefit.
 * - A bare media type (application/dicom, image/jpeg) asks for a single-part answer, which is only
 *   possible for one instance, frame or value. Star-slash-star and multipart/* ask for the default
 *   representation (8.7.5): the default payload type in its default transfer syntax.
 * - q-values: each offer gets the q of the most specific range that matches it (RFC 9110 12.5.1);
 *   the best q wins, then the cheapest offer for the server (no conversion before conversion).
 */
import { MediaRange, parseAccept } from '../accept';
import { TS } from '../../dicom/transfer-syntax';
import { canonicalMediaType, DICOM, OCTET_STREAM } from './media-types';

export type PayloadKind = 'instance' | 'pixels';

export interface Representation {
  mediaType: string;
  transferSyntaxUid: string;
}

/** Something the server can produce; cost orders equally acceptable offers (0 = as stored). */
export interface Offer extends Representation {
  cost: number;
}

export interface WadoRange {
  multipart: boolean;
  /** Payload media type (canonical), or a wildcard such as "*\/*" or "image/*". */
  payload: string;
  /** As the client spelled the payload type, to echo it in the answer. */
  spelled: string;
  /** undefined: the default transfer syntax; "*": any. */
  transferSyntax?: string;
  q: number;
  /** From star-slash-star or multipart/*: least specific of all. */
  wildcard?: boolean;
}

export interface Selection extends Representation {
  multipart: boolean;
  /** The media type to write in the part (or body) Content-Type. */
  contentType: string;
}

function defaultPayload(kind: PayloadKind): string {
  return kind === 'instance' ? DICOM : OCTET_STREAM;
}

export function wadoRanges(accept: string | undefined, kind: PayloadKind): WadoRange[] {
  return parseAccept(accept).map((r: MediaRange): WadoRange => {
    const ts = r.params['transfer-syntax'];
    if (r.type === 'multipart/related') {
      const spelled = r.params.type?.toLowerCase() ?? defaultPayload(kind);
      return { multipart: true, payload: canonicalMediaType(spelled), spelled, transferSyntax: ts, q: r.q };
    }
    if (r.type === '*/*' || r.type === 'multipart/*') {
      const payload = defaultPayload(kind);
      return { multipart: true, payload, spelled: payload, q: r.q, wildcard: true };
    }
    return { multipart: false, payload: canonicalMediaType(r.type), spelled: r.type, transferSyntax: ts, q: r.q };
  });
}

function isWildcard(type: string): boolean {
  return type.endsWith('/*');
}

/** How specifically `range` matches `offer` (higher is more specific), or -1 for no match. */
function specificity(range: WadoRange, offer: Offer, lossyStoredSyntax: string | undefined): number {
  if (isWildcard(range.payload)) return offer.mediaType.startsWith(range.payload.slice(0, -1)) ? 1 : -1;
  if (range.payload !== offer.mediaType) return -1;
  const ts = range.transferSyntax;
  if (ts === '*') return 2;
  if (ts === undefined) {
    const level = range.wildcard ? 0 : 3;
    if (range.payload !== DICOM && range.payload !== OCTET_STREAM) return level;
    const ok = offer.transferSyntaxUid === TS.ExplicitVRLittleEndian || offer.transferSyntaxUid === lossyStoredSyntax;
    return ok ? level : -1;
  }
  return ts === offer.transferSyntaxUid ? 4 : -1;
}

/**
 * The representation to answer with, or undefined when nothing offered is acceptable (406).
 * @param singlePart whether a single-part answer is possible (one instance, frame or value)
 * @param lossyStoredSyntax the stored syntax when the pixel data exists only in lossy form
 */
export function selectRepresentation(ranges: WadoRange[], offers: Offer[], singlePart: boolean, lossyStoredSyntax?: string): Selection | undefined {
  let best: { offer: Offer; range: WadoRange; index: number } | undefined;
  offers.forEach((offer, index) => {
    let chosen: WadoRange | undefined;
    let chosenSpecificity = -1;
    for (const range of ranges) {
      if (!range.multipart && !singlePart) continue;
      const s = specificity(range, offer, lossyStoredSyntax);
      if (s > chosenSpecificity || (s === chosenSpecificity && s >= 0 && range.q > chosen!.q)) {
        chosen = range;
        chosenSpecificity = s;
      }
    }
    if (!chosen || chosenSpecificity < 0 || chosen.q <= 0) return;
    const better =
      !best ||
      chosen.q > best.range.q ||
      (chosen.q === best.range.q && (offer.cost < best.offer.cost || (offer.cost === best.offer.cost && index < best.index)));
    if (better) best = { offer, range: chosen, index };
  });
  if (!best) return undefined;
  const { offer, range } = best;
  // Echo the client's own spelling of a concrete type (image/x-dicom-rle stays so).
  const contentType = isWildcard(range.payload) ? offer.mediaType : range.spelled;
  return { mediaType: offer.mediaType, transferSyntaxUid: offer.transferSyntaxUid, multipart: range.multipart, contentType };
}

/** The transfer syntaxes a client accepts for a payload kind, for stores that convert natively. */
export function acceptableSyntaxes(ranges: WadoRange[]): string[] {
  const out: string[] = [];
  for (const r of [...ranges].sort((a, b) => b.q - a.q)) {
    if (r.q <= 0) continue;
    const ts = r.transferSyntax ?? (isWildcard(r.payload) ? '*' : TS.ExplicitVRLittleEndian);
    if (!out.includes(ts)) out.push(ts);
  }
  return out;
}
