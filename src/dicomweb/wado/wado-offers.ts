/**
 * What the gateway can answer for a stored instance or its pixel data: the stored form (when
 * PS3.18 allows it in web services) and the conversions it knows (the encoders of dicom/):
 * Implicit VR Little Endian, Explicit VR Big Endian and Deflated to Explicit VR Little Endian,
 * RLE Lossless decoded to native. Other compressed syntaxes are offered only as stored, until
 * codecs exist.
 */
import { lookupTransferSyntax, TS } from '../../dicom/transfer-syntax';
import { DICOM, frameMediaTypeOf, isForbiddenInWebServices, OCTET_STREAM } from './media-types';
import { Offer } from './wado-negotiation';

/** Costs: as stored < a cheap rewrite < a re-encoding < a decompression. */
const AS_STORED = 0;
const REWRAP = 1;
const REENCODE = 2;
const DECODE = 3;

export function instanceOffers(storedSyntax: string, bareDataset: boolean): Offer[] {
  const offers: Offer[] = [];
  const add = (transferSyntaxUid: string, cost: number) => offers.push({ mediaType: DICOM, transferSyntaxUid, cost });
  const syntax = lookupTransferSyntax(storedSyntax);
  if (!isForbiddenInWebServices(storedSyntax)) add(storedSyntax, bareDataset ? REWRAP : AS_STORED);
  if (storedSyntax === TS.ExplicitVRLittleEndian) return offers;
  if (storedSyntax === TS.DeflatedExplicitVRLittleEndian) add(TS.ExplicitVRLittleEndian, REWRAP);
  else if (syntax && !syntax.encapsulated) add(TS.ExplicitVRLittleEndian, REENCODE);
  else if (storedSyntax === TS.RLELossless) add(TS.ExplicitVRLittleEndian, DECODE);
  return offers;
}

/** Offers for frames and Pixel Data bulk data (PS3.18 8.7.3.3, Tables 8.7.3-4 and -5). */
export function pixelOffers(storedSyntax: string, encapsulated: boolean): Offer[] {
  if (!encapsulated) return [{ mediaType: OCTET_STREAM, transferSyntaxUid: TS.ExplicitVRLittleEndian, cost: AS_STORED }];
  const offers: Offer[] = [{ mediaType: OCTET_STREAM, transferSyntaxUid: storedSyntax, cost: AS_STORED }];
  const own = frameMediaTypeOf(storedSyntax);
  if (own) offers.push({ mediaType: own, transferSyntaxUid: storedSyntax, cost: AS_STORED });
  // Encapsulated Uncompressed: each fragment is a native frame already.
  if (storedSyntax === TS.EncapsulatedUncompressedExplicitVRLittleEndian) {
    offers.push({ mediaType: OCTET_STREAM, transferSyntaxUid: TS.ExplicitVRLittleEndian, cost: AS_STORED });
  }
  if (storedSyntax === TS.RLELossless) offers.push({ mediaType: OCTET_STREAM, transferSyntaxUid: TS.ExplicitVRLittleEndian, cost: DECODE });
  return offers;
}

/** For a 406: what the client could ask for instead. */
export function describeOffers(offers: Offer[]): string {
  return offers.map((o) => `type="${o.mediaType}"; transfer-syntax=${o.transferSyntaxUid}`).join(' or ');
}

export function syntaxName(uid: string): string {
  const syntax = lookupTransferSyntax(uid);
  return syntax ? `${syntax.name} (${uid})` : uid;
}
