/**
 * When the gateway converts pixels itself instead of its store's upstream, and what it says when
 * no conversion fits (wado.service.ts, rendered.service.ts).
 */
import { PixelGeometry } from '../../dicom/pixel-geometry';
import { lookupTransferSyntax } from '../../dicom/transfer-syntax';
import { cannotDecode } from '../../pixels/codec-catalog';
import { UpstreamError, UpstreamNotAcceptable } from '../../stores/store-errors';

/**
 * The upstream refused a conversion (406), or failed at it with a server error (Orthanc answers
 * 500 for a JPEG 2000 it cannot decode): the gateway then converts. Unreachable or slow upstreams
 * (UpstreamUnavailable 503, UpstreamTimeout 504) are not retried this way: asking again would
 * fail the same.
 */
export function upstreamCannotConvert(e: unknown): boolean {
  return e instanceof UpstreamNotAcceptable || e instanceof UpstreamError;
}

/** Why no conversion fits, for the 406 reason. */
export function conversionLimit(stored: string, pixel: PixelGeometry | undefined): string {
  const why = lookupTransferSyntax(stored)?.encapsulated ? cannotDecode(stored, pixel && { bitsStored: pixel.bitsStored ?? pixel.bitsAllocated, bitsAllocated: pixel.bitsAllocated, samplesPerPixel: pixel.samplesPerPixel }) : undefined;
  if (why) return `it cannot be decoded here: ${why}`;
  return 'the gateway converts pixels to native, RLE Lossless, JPEG 2000 Lossless and HTJ2K Lossless only, and never compresses lossily';
}
