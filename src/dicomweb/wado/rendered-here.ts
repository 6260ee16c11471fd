/**
 * Rendered images and thumbnails made by the gateway (PS3.18 10.4.1.1.3 and 10.7), for stores
 * that cannot render (the embedded store, HealthImaging) and upstreams that fail to (Orthanc on
 * JPEG 2000): the frame read as stored, converted to native pixels by the codecs (the decoded-
 * frame cache shared with frame retrieves), and rendered in a codec worker with the client's
 * parameters, else the data set's own window and rescale.
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { getNumber } from '../../dicom/dicom-json-access';
import { TS } from '../../dicom/transfer-syntax';
import { codecOf } from '../../pixels/codec-catalog';
import { frameFormatOf, PixelCodecs } from '../../pixels/pixel-codecs.service';
import { geometryFromJson, presentationFromJson } from '../../pixels/presentation';
import { RenderJob } from '../../pixels/render/render-job';
import { DicomStore } from '../../stores/dicom-store';
import { NotFound, UpstreamNotAcceptable } from '../../stores/store-errors';
import { InstanceRef, isRelayed, RelayedAnswer, RenderRequest, RetrieveScope, StoredFrames } from '../../stores/wado-types';
import { NotAcceptable } from '../errors';
import { frameBytesAs } from './frame-body';
import { FRAMES_AS_STORED, instanceJson, relayedFramesAsStored } from './relayed-frames';

const RENDERABLE = ['image/jpeg', 'image/png'] as const;
const DEFAULT_QUALITY = 90;
/** Thumbnails fit this box unless the client gives a viewport (PS3.18 10.7 leaves it to us). */
export const THUMBNAIL_SIZE = 128;

export interface RenderedImage {
  contentType: string;
  body: Buffer;
}

/** The frame as stored, with the instance's DICOM JSON already read (not asked again). A relaying
 *  store's answer is parsed as it is, not asked for twice. */
async function frameAsStored(store: DicomStore, ref: InstanceRef, frame: number, json: DicomJsonObject): Promise<StoredFrames> {
  let frames: StoredFrames | RelayedAnswer;
  try {
    frames = await store.frames(ref, FRAMES_AS_STORED, [frame]);
  } catch (e) {
    if (e instanceof UpstreamNotAcceptable) return relayedFramesAsStored(store, ref, [frame], { json });
    throw e;
  }
  return isRelayed(frames) ? relayedFramesAsStored(store, ref, [frame], { json, answer: frames }) : frames;
}

export async function renderHere(codecs: PixelCodecs, store: DicomStore, ref: InstanceRef, frame: number, render: RenderRequest): Promise<RenderedImage> {
  const mediaType = render.mediaTypes.find((t): t is (typeof RENDERABLE)[number] => (RENDERABLE as readonly string[]).includes(t));
  if (!mediaType) throw new NotAcceptable(`rendered images are made here as ${RENDERABLE.join(' or ')} only; the Accept header takes neither`);
  const json = await instanceJson(store, ref);
  const frames = await frameAsStored(store, ref, frame, json);
  if (frame > frames.pixel.numberOfFrames) throw new NotFound(`Frame ${frame} does not exist: instance ${ref.sopInstanceUid} has ${frames.pixel.numberOfFrames} frame(s)`);
  let native: Buffer | undefined;
  for await (const stored of frames.read([frame])) native = await frameBytesAs(codecs, store.name, frames, stored, TS.ExplicitVRLittleEndian);
  if (!native) throw new NotFound(`frame ${frame} of instance ${ref.sopInstanceUid} was not read`);
  const format = frameFormatOf(frames.pixel);
  // Decoders other than RLE give interleaved RGB for the YBR color spaces.
  const codec = frames.encapsulated ? codecOf(frames.instance.transferSyntaxUid) : undefined;
  if (codec && codec.decoder !== 'rle' && format.samplesPerPixel === 3) {
    format.photometricInterpretation = 'RGB';
    format.planarConfiguration = 0;
  }
  const job: RenderJob = {
    mediaType,
    quality: render.quality ?? DEFAULT_QUALITY,
    window: render.window,
    viewport: render.viewport,
    ...presentationFromJson(json, frame),
  };
  return { contentType: mediaType, body: await codecs.render(native, format, job) };
}

/** The instance a study or series thumbnail shows: of the series with images (lowest Series
 *  Number first), the middle one by Instance Number. */
export async function representativeInstance(store: DicomStore, scope: RetrieveScope): Promise<InstanceRef> {
  if (scope.level === 'instance') return scope;
  const candidates: { ref: InstanceRef; series: number; instance: number }[] = [];
  for await (const entry of await store.metadata(scope)) {
    const json = JSON.parse(entry.json) as DicomJsonObject;
    if (!geometryFromJson(json)) continue;
    candidates.push({ ref: entry.ref, series: getNumber(json, '00200011') ?? Number.MAX_SAFE_INTEGER, instance: getNumber(json, '00200013') ?? 0 });
  }
  if (candidates.length === 0) throw new NotFound(`the ${scope.level} has no instance with pixel data to make a thumbnail of`);
  candidates.sort((a, b) => a.series - b.series || a.ref.seriesInstanceUid.localeCompare(b.ref.seriesInstanceUid) || a.instance - b.instance);
  const series = candidates.filter((c) => c.ref.seriesInstanceUid === candidates[0].ref.seriesInstanceUid);
  return series[Math.floor((series.length - 1) / 2)].ref;
}
