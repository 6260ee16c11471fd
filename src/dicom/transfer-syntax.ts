/**
 * Transfer syntaxes the gateway knows (PS3.5 Annex A, PS3.6 Table A-1): how a data set is encoded,
 * and what WADO-RS can hand out for it.
 */
export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVr: boolean;
  littleEndian: boolean;
  deflated: boolean;
  /** Pixel Data is encapsulated (compressed fragments). */
  encapsulated: boolean;
  /** Media type of a single compressed frame (PS3.18 Table 8.7.3-2), for encapsulated syntaxes. */
  frameMediaType?: string;
}

export const TS = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

const list: TransferSyntax[] = [
  { uid: TS.ImplicitVRLittleEndian, name: 'Implicit VR Little Endian', explicitVr: false, littleEndian: true, deflated: false, encapsulated: false },
  { uid: TS.ExplicitVRLittleEndian, name: 'Explicit VR Little Endian', explicitVr: true, littleEndian: true, deflated: false, encapsulated: false },
  { uid: TS.EncapsulatedUncompressedExplicitVRLittleEndian, name: 'Encapsulated Uncompressed Explicit VR Little Endian', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'application/octet-stream' },
  { uid: TS.DeflatedExplicitVRLittleEndian, name: 'Deflated Explicit VR Little Endian', explicitVr: true, littleEndian: true, deflated: true, encapsulated: false },
  { uid: TS.ExplicitVRBigEndian, name: 'Explicit VR Big Endian (retired)', explicitVr: true, littleEndian: false, deflated: false, encapsulated: false },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jpeg' },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jpeg' },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jpeg' },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG Lossless, SV1', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jpeg' },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jls' },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Near-Lossless', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jls' },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 (Lossless Only)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jp2' },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jp2' },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K (Lossless Only)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jphc' },
  { uid: '1.2.840.10008.1.2.4.202', name: 'HTJ2K RPCL (Lossless Only)', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jphc' },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/jphc' },
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG2 Main Profile / Main Level', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'video/mpeg' },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264 High Profile', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'video/mp4' },
  { uid: TS.RLELossless, name: 'RLE Lossless', explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, frameMediaType: 'image/x-dicom-rle' },
];

const byUid = new Map(list.map((t) => [t.uid, t]));

export function lookupTransferSyntax(uid: string): TransferSyntax | undefined {
  return byUid.get(uid);
}

export function knownTransferSyntaxes(): readonly TransferSyntax[] {
  return list;
}
