/**
 * VRs the data dictionary leaves open (PS3.6 "US or SS", "OB or OW"), resolved for writing an
 * Implicit VR data set as Explicit VR, the way PS3.5 A.1 and the attribute definitions say:
 * pixel-valued attributes follow Pixel Representation (0028,0103), and Pixel Data is OW above
 * 8 bits allocated, OB otherwise (PS3.5 8.1.2, A.2).
 */
import { Tag, Tags } from './dataset';

/** "US or SS" attributes whose values are pixel values, so signed exactly when the pixels are.
 *  The LUT Descriptors, also "US or SS" in PS3.6, are written US: their first and third values
 *  are always unsigned (PS3.3 C.11.1.1.1) and that is how every reader takes them. */
const PIXEL_VALUED_US_OR_SS = new Set<Tag>([
  0x00189810, // Zero Velocity Pixel Value
  0x00221452, // Mapped Pixel Value
  0x00280071, // Perimeter Value (retired)
  0x00280104, // Smallest Valid Pixel Value (retired)
  0x00280105, // Largest Valid Pixel Value (retired)
  0x00280106, // Smallest Image Pixel Value
  0x00280107, // Largest Image Pixel Value
  0x00280108, // Smallest Pixel Value in Series
  0x00280109, // Largest Pixel Value in Series
  0x00280110, // Smallest Image Pixel Value in Plane (retired)
  0x00280111, // Largest Image Pixel Value in Plane (retired)
  0x00280120, // Pixel Padding Value
  0x00280121, // Pixel Padding Range Limit
  0x00409211, // Real World Value Last Value Mapped
  0x00409216, // Real World Value First Value Mapped
  0x00603004, // Histogram First Bin Value
  0x00603006, // Histogram Last Bin Value
]);

export interface PixelContext {
  /** Pixel Representation (0028,0103) of the top-level data set: 1 = signed. */
  pixelRepresentation?: number;
  /** Bits Allocated (0028,0100) of the data set holding the element. */
  bitsAllocated?: number;
}

/** The VR to write for an element read with implicit VR (whose VR came from the dictionary). */
export function explicitVrForImplicit(tag: Tag, dictionaryVr: string, context: PixelContext): string {
  if (PIXEL_VALUED_US_OR_SS.has(tag)) return context.pixelRepresentation === 1 ? 'SS' : 'US';
  if (tag === Tags.PixelData) return (context.bitsAllocated ?? 16) > 8 ? 'OW' : 'OB';
  return dictionaryVr;
}
