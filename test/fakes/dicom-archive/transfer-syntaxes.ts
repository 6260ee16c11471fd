/**
 * The transfer syntaxes the fake archive accepts (PS3.5 Section 10, Annex A) and what it can do
 * with each: a syntax outside this list is refused at ingest with 0xC122, as an archive that cannot
 * read it would. Encapsulated syntaxes are kept as they are; only RLE is decoded by the fake.
 */
export const TS = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** Uncompressed syntaxes: frames are the Pixel Data value cut by arithmetic. */
const NATIVE = new Set<string>([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.DeflatedExplicitVRLittleEndian, TS.ExplicitVRBigEndian]);

/** Encapsulated syntaxes (PS3.5 A.4) the archive stores and serves as they are. */
const ENCAPSULATED = new Set<string>([
  TS.RLELossless,
  '1.2.840.10008.1.2.4.50', // JPEG Baseline
  '1.2.840.10008.1.2.4.51', // JPEG Extended
  '1.2.840.10008.1.2.4.57', // JPEG Lossless
  '1.2.840.10008.1.2.4.70', // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.100', // MPEG2 MP@ML
  '1.2.840.10008.1.2.4.102', // MPEG-4 AVC/H.264
  '1.2.840.10008.1.2.4.110', // JPEG XL Lossless
  '1.2.840.10008.1.2.4.112', // JPEG XL
  '1.2.840.10008.1.2.4.201', // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
]);

export function isKnownTransferSyntax(uid: string): boolean {
  return NATIVE.has(uid) || ENCAPSULATED.has(uid);
}

export function isNativeTransferSyntax(uid: string): boolean {
  return NATIVE.has(uid);
}

export function isEncapsulatedTransferSyntax(uid: string): boolean {
  return ENCAPSULATED.has(uid);
}
