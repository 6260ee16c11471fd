/**
 * The bytes of one stored instance in the transfer syntax negotiated for it: the stored file as
 * is; a data set stored without File Meta Information given one (PS3.10 7.1); a deflated data set
 * inflated under a new File Meta Information; or the data set re-encoded as Explicit VR Little
 * Endian (implicit VR, big endian, RLE decoded) by the encoder of dicom/. Only the first is of
 * known length up front.
 */
import { canEncodeExplicitLittleEndian, encodeExplicitLittleEndian } from '../../dicom/explicit-le-encoder';
import { InvalidDicom } from '../../dicom/errors';
import { readFileMeta } from '../../dicom/file-meta-reader';
import { inflateRaw } from '../../dicom/inflate-stream';
import { filePreambleAndMeta } from '../../dicom/part10-writer';
import { parseStoredInstance } from '../../dicom/stored-instance-parser';
import { TS } from '../../dicom/transfer-syntax';
import { StoredDataUnavailable } from '../../stores/store-errors';
import { OpenedBytes, StoredInstance } from '../../stores/wado-types';
import { PixelCodecs } from '../../pixels/pixel-codecs.service';
import { pixelTranscode } from './instance-transcoding';
import { AnswerBody } from './streamed-answer';

type Encoder = (file: OpenedBytes) => AsyncIterable<Buffer>;

/** Opens the stored bytes on first read and closes them when done or abandoned; a stored file
 *  that no longer parses is the store's fault (500), never the client's (400). */
function fromFile(instance: StoredInstance, encode: Encoder): () => AsyncIterable<Buffer> {
  return async function* () {
    const file = await instance.open();
    try {
      yield* encode(file);
    } catch (e) {
      if (e instanceof InvalidDicom) {
        throw new StoredDataUnavailable(`stored instance ${instance.ref.sopInstanceUid} cannot be re-encoded: ${e.message}`);
      }
      throw e;
    } finally {
      await file.close();
    }
  };
}

/** Where conversions of pixels go: the codec workers, and the store name for their cache. */
export interface PixelContext {
  codecs: PixelCodecs;
  store: string;
}

export function instanceBody(instance: StoredInstance, targetSyntax: string, pixels: PixelContext): AnswerBody {
  const stored = instance.transferSyntaxUid;
  const meta = (sourceMeta?: ReturnType<typeof readFileMeta>) =>
    filePreambleAndMeta({ sopClassUid: instance.sopClassUid, sopInstanceUid: instance.ref.sopInstanceUid, transferSyntaxUid: targetSyntax, sourceMeta });

  if (targetSyntax === stored && !instance.bareDataset) {
    // Sent unchanged: pooled read buffers, released as the socket writes them (streamed-answer.ts).
    return { length: instance.size, chunks: fromFile(instance, (file) => (file.streamToSend ?? file.stream)(0, file.size)) };
  }
  if (targetSyntax === stored && instance.bareDataset) {
    const head = meta();
    return {
      length: head.length + instance.size,
      chunks: fromFile(instance, async function* (file) {
        yield head;
        yield* file.stream(0, file.size);
      }),
    };
  }
  if (targetSyntax === TS.ExplicitVRLittleEndian && stored === TS.DeflatedExplicitVRLittleEndian) {
    // Inflated, a deflated data set is Explicit VR Little Endian byte for byte (PS3.5 A.5).
    return {
      chunks: fromFile(instance, async function* (file) {
        yield meta(readFileMeta(await file.read(0, instance.datasetOffset)));
        yield* inflateRaw(file.stream(instance.datasetOffset, file.size - instance.datasetOffset));
      }),
    };
  }
  // Pixels converted by the codecs, or (RLE decoding and the native syntaxes) by the encoder alone.
  const viaCodecs = targetSyntax !== TS.ExplicitVRLittleEndian || !canEncodeExplicitLittleEndian(stored) || stored === TS.RLELossless;
  return {
    chunks: fromFile(instance, async function* (file) {
      const parsed = await parseStoredInstance(file, { skip: instance.nativePixelData });
      const transcode = viaCodecs ? pixelTranscode(pixels.codecs, pixels.store, instance, parsed, targetSyntax) : undefined;
      yield* encodeExplicitLittleEndian({ parsed, source: file, sopClassUid: instance.sopClassUid, sopInstanceUid: instance.ref.sopInstanceUid, transcode });
    }),
  };
}
