/**
 * What rendering needs of an instance, read from its DICOM JSON (every store kind has that): the
 * pixel geometry (for stores that hand out frames without it) and the presentation attributes
 * of PS3.3 C.11.1 (Rescale) and C.11.2 (VOI window, its function), including those a multi-frame
 * image keeps in its functional groups (C.7.6.16: shared, else the frame's own).
 */
import { DicomJsonObject } from '../dicom/dicom-json';
import { getItems, getNumber, getString } from '../dicom/dicom-json-access';
import { PixelGeometry } from '../dicom/pixel-geometry';
import { RenderJob } from './render/render-job';

export function geometryFromJson(json: DicomJsonObject): PixelGeometry | undefined {
  const rows = getNumber(json, '00280010');
  const columns = getNumber(json, '00280011');
  const bitsAllocated = getNumber(json, '00280100');
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) return undefined;
  return {
    rows,
    columns,
    bitsAllocated,
    samplesPerPixel: getNumber(json, '00280002') ?? 1,
    planarConfiguration: getNumber(json, '00280006') ?? 0,
    numberOfFrames: Math.max(1, getNumber(json, '00280008') ?? 1),
    bitsStored: getNumber(json, '00280101') ?? bitsAllocated,
    pixelRepresentation: getNumber(json, '00280103') ?? 0,
    photometricInterpretation: getString(json, '00280004'),
  };
}

type VoiFunction = NonNullable<RenderJob['window']>['function'];

function voiFunction(text: string | undefined): VoiFunction {
  if (text === 'SIGMOID') return 'sigmoid';
  if (text === 'LINEAR_EXACT') return 'linear-exact';
  return 'linear';
}

/** The attribute from the top level, else the frame's functional group, else the shared one. */
function fromGroups(json: DicomJsonObject, frame: number, sequence: string, read: (item: DicomJsonObject) => number | string | undefined): number | string | undefined {
  const top = read(json);
  if (top !== undefined) return top;
  const perFrame = getItems(json, '52009230')[frame - 1];
  const shared = getItems(json, '52009229')[0];
  for (const group of [perFrame, shared]) {
    const item = group && getItems(group, sequence)[0];
    const value = item && read(item);
    if (value !== undefined) return value;
  }
  return undefined;
}

export function presentationFromJson(json: DicomJsonObject, frame: number): Pick<RenderJob, 'rescale' | 'datasetWindow'> {
  const num = (tag: string) => (item: DicomJsonObject) => getNumber(item, tag);
  const slope = fromGroups(json, frame, '00289145', num('00281053')) as number | undefined;
  const intercept = fromGroups(json, frame, '00289145', num('00281052')) as number | undefined;
  const center = fromGroups(json, frame, '00289132', num('00281050')) as number | undefined;
  const width = fromGroups(json, frame, '00289132', num('00281051')) as number | undefined;
  const fn = fromGroups(json, frame, '00289132', (item) => getString(item, '00281056')) as string | undefined;
  return {
    rescale: { slope: slope ?? 1, intercept: intercept ?? 0 },
    datasetWindow: center !== undefined && width !== undefined && width > 0 ? { center, width, function: voiFunction(fn) } : undefined,
  };
}
