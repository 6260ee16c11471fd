/**
 * What a codec worker needs to render one native frame as an image (PS3.18 8.3.5.1, 10.4.1.1.3):
 * the output type, the presentation parameters the client gave, and the data set's own
 * presentation attributes to fall back on (PS3.3 C.11.1 Modality LUT, C.11.2 VOI LUT).
 */
export interface RenderJob {
  mediaType: 'image/png' | 'image/jpeg';
  /** 1-100 for JPEG. */
  quality: number;
  /** The client's window (PS3.18 8.3.5.1.4), else the data set's first, else the frame's range. */
  window?: { center: number; width: number; function: 'linear' | 'linear-exact' | 'sigmoid' };
  datasetWindow?: { center: number; width: number; function: 'linear' | 'linear-exact' | 'sigmoid' };
  /** Rescale Slope and Intercept (0028,1053 / 0028,1052); 1 and 0 when absent. */
  rescale: { slope: number; intercept: number };
  /** Output size (fit inside, aspect kept) and the source region (sx, sy, sw, sh) to render. */
  viewport?: { width: number; height: number; source?: [number, number, number, number] };
}
