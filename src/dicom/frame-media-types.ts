/**
 * The media type of one compressed frame in each transfer syntax (PS3.18 Table 8.7.3-5), with the
 * spellings clients actually send (dicomweb-client: image/x-dicom-rle, image/x-jls, image/jhc).
 */
import { TS } from './transfer-syntax';

const FRAME_MEDIA_TYPES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'image/jpeg',
  '1.2.840.10008.1.2.4.51': 'image/jpeg',
  '1.2.840.10008.1.2.4.57': 'image/jpeg',
  '1.2.840.10008.1.2.4.70': 'image/jpeg',
  '1.2.840.10008.1.2.4.80': 'image/jls',
  '1.2.840.10008.1.2.4.81': 'image/jls',
  '1.2.840.10008.1.2.4.90': 'image/jp2',
  '1.2.840.10008.1.2.4.91': 'image/jp2',
  '1.2.840.10008.1.2.4.92': 'image/jpx',
  '1.2.840.10008.1.2.4.93': 'image/jpx',
  '1.2.840.10008.1.2.4.201': 'image/jphc',
  '1.2.840.10008.1.2.4.202': 'image/jphc',
  '1.2.840.10008.1.2.4.203': 'image/jphc',
  '1.2.840.10008.1.2.4.100': 'video/mpeg',
  '1.2.840.10008.1.2.4.101': 'video/mpeg',
  '1.2.840.10008.1.2.4.102': 'video/mp4',
  '1.2.840.10008.1.2.4.103': 'video/mp4',
  '1.2.840.10008.1.2.4.104': 'video/mp4',
  '1.2.840.10008.1.2.4.105': 'video/mp4',
  '1.2.840.10008.1.2.4.106': 'video/mp4',
  [TS.RLELossless]: 'image/dicom-rle',
};

/** Other names clients use for the same media types. */
const ALIASES: Record<string, string> = {
  'image/x-dicom-rle': 'image/dicom-rle',
  'image/x-jls': 'image/jls',
  'image/jhc': 'image/jphc',
  'video/mpeg2': 'video/mpeg',
};

export function frameMediaTypeOf(transferSyntaxUid: string): string | undefined {
  return FRAME_MEDIA_TYPES[transferSyntaxUid];
}

export function canonicalMediaType(mediaType: string): string {
  return ALIASES[mediaType] ?? mediaType;
}

/** The transfer syntaxes whose frames have this media type, in the table's order. */
export function syntaxesOfFrameMediaType(mediaType: string): string[] {
  const canonical = canonicalMediaType(mediaType);
  return Object.entries(FRAME_MEDIA_TYPES)
    .filter(([, type]) => type === canonical)
    .map(([uid]) => uid);
}
