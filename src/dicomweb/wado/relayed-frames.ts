/**
 * Frames of a remote store as the gateway's codecs need them, for what its upstream cannot
 * produce (HealthImaging holds HTJ2K and decodes nothing; Orthanc cannot decode JPEG 2000 and
 * renders it as a 500): the frames asked as stored (`transfer-syntax=*`), each part's syntax
 * read from its Content-Type, and the geometry from the instance's metadata. The result is a
 * StoredFrames like a local store's, so negotiation and conversion are the same for every store.
 */
import { Readable } from 'node:stream';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { getString } from '../../dicom/dicom-json-access';
import { syntaxesOfFrameMediaType } from '../../dicom/frame-media-types';
import { lookupTransferSyntax, TS } from '../../dicom/transfer-syntax';
import { geometryFromJson } from '../../pixels/presentation';
import { DicomStore } from '../../stores/dicom-store';
import { NotFound, UpstreamError } from '../../stores/store-errors';
import { InstanceRef, isRelayed, RelayedAnswer, StoredFrame, StoredFrames, TransferSyntaxChoice } from '../../stores/wado-types';
import { parseContentType } from '../multipart/content-type';
import { MultipartError, readMultipart } from '../multipart/multipart-reader';

/** Frames as the store holds them, whatever their syntax. */
export const FRAMES_AS_STORED: TransferSyntaxChoice = {
  acceptable: ['*'],
  ranges: [{ multipart: true, payload: 'application/octet-stream', transferSyntax: '*', q: 1 }],
};

/** The largest frame accepted from an upstream (a 4k x 4k x 3 x 16-bit frame is 96 MiB). */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** A frame part's transfer syntax: its `transfer-syntax` parameter, else by its media type. */
export function partSyntax(contentType: string | undefined): string {
  const parsed = parseContentType(contentType);
  const named = parsed?.params['transfer-syntax'];
  if (named && named !== '*') return named;
  const type = parsed?.mediaType ?? 'application/octet-stream';
  if (type === 'application/octet-stream') return TS.ExplicitVRLittleEndian;
  const syntax = syntaxesOfFrameMediaType(type)[0];
  if (!syntax) throw new UpstreamError(`the upstream sent a frame as ${type}, which names no transfer syntax`);
  return syntax;
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_FRAME_BYTES) throw new UpstreamError(`a frame from the upstream is larger than ${MAX_FRAME_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** The parts of a relayed answer, as labelled for the client (AHI's parts are relabelled). */
async function* framesOf(answer: RelayedAnswer, numbers: number[]): AsyncGenerator<{ syntax: string; frame: StoredFrame }> {
  const outer = parseContentType(answer.contentType);
  const label = (type: string | undefined) => (answer.relabel ? answer.relabel.part(type) : type);
  if (outer?.mediaType !== 'multipart/related' || !outer.params.boundary) {
    yield { syntax: partSyntax(label(answer.contentType)), frame: { number: numbers[0], bytes: await collect(answer.body) } };
    return;
  }
  let i = 0;
  try {
    for await (const part of readMultipart(answer.body, outer.params.boundary, { onStop: 'destroy' })) {
      if (i >= numbers.length) throw new UpstreamError(`the upstream answered more than the ${numbers.length} frame(s) asked`);
      yield { syntax: partSyntax(label(part.contentType)), frame: { number: numbers[i++], bytes: await collect(part.body) } };
    }
  } catch (e) {
    if (e instanceof MultipartError) throw new UpstreamError(`the upstream's multipart answer is broken: ${e.message}`);
    throw e;
  } finally {
    answer.discard();
  }
  if (i < numbers.length) throw new UpstreamError(`the upstream answered ${i} of the ${numbers.length} frame(s) asked`);
}

/** The DICOM JSON of one instance, from its store. */
export async function instanceJson(store: DicomStore, ref: InstanceRef): Promise<DicomJsonObject> {
  let entry: { json: string } | undefined;
  for await (const e of await store.metadata({ level: 'instance', ...ref })) entry ??= e;
  if (!entry) throw new NotFound(`Instance ${ref.sopInstanceUid} is not stored here`);
  return JSON.parse(entry.json) as DicomJsonObject;
}

/**
 * `known`: what the caller already has of the instance, so that it is not asked again: its DICOM
 * JSON, and the store's answer to the frames asked as stored (FRAMES_AS_STORED).
 */
export async function relayedFramesAsStored(store: DicomStore, ref: InstanceRef, numbers: number[], known: { json?: DicomJsonObject; answer?: RelayedAnswer } = {}): Promise<StoredFrames> {
  let json: DicomJsonObject;
  try {
    json = known.json ?? (await instanceJson(store, ref));
  } catch (e) {
    known.answer?.discard();
    throw e;
  }
  const pixel = geometryFromJson(json);
  if (!pixel) {
    known.answer?.discard();
    throw new NotFound(`Instance ${ref.sopInstanceUid} has no Pixel Data (no Rows, Columns or Bits Allocated), so no frames`);
  }
  const outside = numbers.find((n) => n > pixel.numberOfFrames);
  if (outside !== undefined) {
    known.answer?.discard();
    throw new NotFound(`Frame ${outside} does not exist: instance ${ref.sopInstanceUid} has ${pixel.numberOfFrames} frame(s)`);
  }
  const answer = known.answer ?? (await store.frames(ref, FRAMES_AS_STORED, numbers));
  if (!isRelayed(answer)) throw new Error('a relaying store answered frames with stored frames');
  const parts = framesOf(answer, numbers);
  // The first part says what the frames are stored as, before anything is negotiated.
  const first = await parts.next();
  if (first.done) throw new UpstreamError('the upstream answered no frame');
  const syntax = first.value.syntax;
  const encapsulated = lookupTransferSyntax(syntax)?.encapsulated === true && syntax !== TS.EncapsulatedUncompressedExplicitVRLittleEndian;
  const lossyFlag = getString(json, '00282110') === '01';
  return {
    instance: {
      ref,
      sopClassUid: getString(json, '00080016') ?? '',
      transferSyntaxUid: encapsulated ? syntax : TS.ExplicitVRLittleEndian,
      bareDataset: false,
      size: 0,
      datasetOffset: 0,
      lossy: lossyFlag,
      pixel,
      open: () => Promise.reject(new Error('frames relayed from an upstream have no stored file here')),
    },
    pixel: { ...pixel, vr: pixel.bitsAllocated > 8 ? 'OW' : 'OB' },
    encapsulated,
    littleEndian: true,
    async *read() {
      yield first.value.frame;
      for await (const next of parts) {
        if (next.syntax !== syntax) throw new UpstreamError(`the upstream sent frames in two transfer syntaxes (${syntax}, ${next.syntax})`);
        yield next.frame;
      }
    },
  };
}
