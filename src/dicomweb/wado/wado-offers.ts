/**
 * What the gateway can answer for a stored instance or its pixel data: the stored form (when
 * PS3.18 allows it in web services) and the conversions it knows: Implicit VR Little Endian,
 * Explicit VR Big Endian and Deflated to Explicit VR Little Endian (the encoders of dicom/);
 * every compressed syntax the codecs decode (pixels/codec-catalog.ts) to native; and native or
 * decodable pixels to the syntaxes they encode (RLE, JPEG 2000 and HTJ2K lossless).
 */
import { PixelGeometry } from '../../dicom/pixel-geometry';
import { lookupTransferSyntax, TS } from '../../dicom/transfer-syntax';
import { cannotDecode, encodableSyntaxes } from '../../pixels/codec-catalog';
import { DICOM, frameMediaTypeOf, isForbiddenInWebServices, OCTET_STREAM } from './media-types';
import { Offer } from './wado-negotiation';

/** Costs: as stored < a cheap rewrite < a re-encoding < a decompression < a compression < both. */
const AS_STORED = 0;
const REWRAP = 1;
const REENCODE = 2;
const DECODE = 3;
const ENCODE = 4;
const TRANSCODE = 5;

/** Pixels the codecs can decode: the stored syntax is encapsulated and its decoder takes them. */
function decodable(storedSyntax: string, pixel: PixelGeometry | undefined): boolean {
  return lookupTransferSyntax(storedSyntax)?.encapsulated === true && cannotDecode(storedSyntax, pixel && { bitsStored: pixel.bitsStored ?? pixel.bitsAllocated, bitsAllocated: pixel.bitsAllocated, samplesPerPixel: pixel.samplesPerPixel }) === undefined;
}

/** What native pixels of this geometry can be encoded to (YBR_FULL_422 native pixels are
 *  subsampled and go to no codec). */
function encodable(pixel: PixelGeometry | undefined): string[] {
  if (pixel?.photometricInterpretation === 'YBR_FULL_422') return [];
  return encodableSyntaxes(pixel && { bitsAllocated: pixel.bitsAllocated, bitsStored: pixel.bitsStored ?? pixel.bitsAllocated, samplesPerPixel: pixel.samplesPerPixel, rows: pixel.rows, columns: pixel.columns });
}

/**
 * `pixel`: the instance's pixel geometry when known (undefined: no Pixel Data known, so only the
 * conversions that do not touch pixels, and decoding as the syntax allows).
 */
export function instanceOffers(storedSyntax: string, bareDataset: boolean, pixel?: PixelGeometry): Offer[] {
  const offers: Offer[] = [];
  const add = (transferSyntaxUid: string, cost: number) => {
    if (!offers.some((o) => o.transferSyntaxUid === transferSyntaxUid)) offers.push({ mediaType: DICOM, transferSyntaxUid, cost });
  };
  const syntax = lookupTransferSyntax(storedSyntax);
  if (!isForbiddenInWebServices(storedSyntax)) add(storedSyntax, bareDataset ? REWRAP : AS_STORED);
  if (storedSyntax === TS.DeflatedExplicitVRLittleEndian) add(TS.ExplicitVRLittleEndian, REWRAP);
  else if (syntax && !syntax.encapsulated) {
    if (storedSyntax !== TS.ExplicitVRLittleEndian) add(TS.ExplicitVRLittleEndian, REENCODE);
    if (pixel) for (const target of encodable(pixel)) add(target, ENCODE);
  } else if (decodable(storedSyntax, pixel)) {
    add(TS.ExplicitVRLittleEndian, DECODE);
    if (pixel) for (const target of encodable({ ...pixel, photometricInterpretation: 'RGB' })) add(target, TRANSCODE);
  }
  return offers;
}

/** Offers for frames and Pixel Data bulk data (PS3.18 8.7.3.3, Tables 8.7.3-4 and -5). */
export function pixelOffers(storedSyntax: string, encapsulated: boolean, pixel?: PixelGeometry): Offer[] {
  const offers: Offer[] = [];
  const add = (mediaType: string, transferSyntaxUid: string, cost: number) => {
    if (!offers.some((o) => o.mediaType === mediaType && o.transferSyntaxUid === transferSyntaxUid)) offers.push({ mediaType, transferSyntaxUid, cost });
  };
  const encodings = (cost: number, of: PixelGeometry | undefined) => {
    for (const target of encodable(of)) add(frameMediaTypeOf(target) ?? OCTET_STREAM, target, cost);
  };
  if (!encapsulated) {
    add(OCTET_STREAM, TS.ExplicitVRLittleEndian, AS_STORED);
    if (pixel) encodings(ENCODE, pixel);
    return offers;
  }
  add(OCTET_STREAM, storedSyntax, AS_STORED);
  const own = frameMediaTypeOf(storedSyntax);
  if (own) add(own, storedSyntax, AS_STORED);
  // Encapsulated Uncompressed: each fragment is a native frame already.
  if (storedSyntax === TS.EncapsulatedUncompressedExplicitVRLittleEndian) {
    add(OCTET_STREAM, TS.ExplicitVRLittleEndian, AS_STORED);
    if (pixel) encodings(ENCODE, pixel);
  } else if (decodable(storedSyntax, pixel)) {
    add(OCTET_STREAM, TS.ExplicitVRLittleEndian, DECODE);
    if (pixel) encodings(TRANSCODE, { ...pixel, photometricInterpretation: 'RGB' });
  }
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
