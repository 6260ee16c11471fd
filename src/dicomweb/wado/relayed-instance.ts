/**
 * An instance of a remote store converted by the gateway, for what its upstream cannot produce
 * (HealthImaging and Orthanc decode no JPEG 2000): the instance fetched as stored
 * (`transfer-syntax=*`) and spooled to a file in the staging folder as it arrives, so memory
 * stays flat whatever its size, then served like an instance of the embedded store, and the
 * file deleted when its answer ends.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LossyImageCompression, pixelGeometry, readText } from '../../dicom/pixel-geometry';
import { parseStoredInstance } from '../../dicom/stored-instance-parser';
import { InvalidDicom } from '../../dicom/errors';
import { JPEG_BASELINE, JPEG_EXTENDED } from '../../pixels/codec-catalog';
import { DicomStore } from '../../stores/dicom-store';
import { UpstreamError } from '../../stores/store-errors';
import { InstanceRef, isRelayed, OpenedBytes, RelayedAnswer, StoredInstance, TransferSyntaxChoice } from '../../stores/wado-types';
import { parseContentType } from '../multipart/content-type';
import { instanceBody, PixelContext } from './instance-body';
import { AnswerBody } from './streamed-answer';
import { MultipartError, readMultipart } from '../multipart/multipart-reader';

const AS_STORED: TransferSyntaxChoice = { acceptable: ['*'], ranges: [{ multipart: true, payload: 'application/dicom', transferSyntax: '*', q: 1 }] };
const CHUNK = 1024 * 1024;

export interface SpooledInstance {
  instance: StoredInstance;
  /** Deletes the spooled file (once; later calls do nothing). */
  release(): Promise<void>;
}

/** Writes the one instance of a relayed answer (its first part when multipart) to `path`. The
 *  part is written inside the reader's loop: leaving the loop closes the rest of the answer. */
async function spoolInstance(answer: RelayedAnswer, path: string): Promise<number> {
  const write = async (body: Readable) => {
    const file = createWriteStream(path, { flags: 'wx' });
    await pipeline(body, file);
    return file.bytesWritten;
  };
  const outer = parseContentType(answer.contentType);
  if (outer?.mediaType !== 'multipart/related' || !outer.params.boundary) return write(answer.body);
  try {
    for await (const part of readMultipart(answer.body, outer.params.boundary, { onStop: 'destroy' })) return await write(part.body);
  } catch (e) {
    if (e instanceof MultipartError) throw new UpstreamError(`the upstream's multipart answer is broken: ${e.message}`);
    throw e;
  }
  throw new UpstreamError('the upstream answered no instance');
}

async function openFile(path: string, size: number): Promise<OpenedBytes> {
  const handle = await open(path, 'r');
  const read = async (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`bytes ${offset}..${offset + length} are past the end (${size})`);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead < length) throw new RangeError(`the spooled instance ended at ${offset + bytesRead}`);
    return buffer;
  };
  return {
    size,
    read,
    async *stream(offset: number, length: number) {
      for (let at = offset; at < offset + length; at += CHUNK) yield await read(at, Math.min(CHUNK, offset + length - at));
    },
    close: () => handle.close(),
  };
}

export async function spoolRelayedInstance(store: DicomStore, ref: InstanceRef, stagingDir: string): Promise<SpooledInstance> {
  const answer = await store.retrieve({ level: 'instance', ...ref }, AS_STORED);
  if (!isRelayed(answer)) throw new Error('a relaying store answered an instance with stored instances');
  const path = join(stagingDir, `relayed-${randomUUID()}.dcm`);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await unlink(path).catch(() => undefined);
  };
  try {
    const size = await spoolInstance(answer, path);
    const bytes = await openFile(path, size);
    let parsed;
    try {
      parsed = await parseStoredInstance(bytes);
    } catch (e) {
      if (e instanceof InvalidDicom) throw new UpstreamError(`the upstream's instance ${ref.sopInstanceUid} does not parse: ${e.message}`);
      throw e;
    } finally {
      await bytes.close();
    }
    const pixel = pixelGeometry(parsed.dataset, parsed.littleEndian);
    const instance: StoredInstance = {
      ref,
      sopClassUid: readText(parsed.dataset, 0x00080016) ?? '',
      transferSyntaxUid: parsed.transferSyntaxUid,
      bareDataset: parsed.datasetOffset === 0,
      size,
      datasetOffset: parsed.datasetOffset,
      // As the embedded store decides it (instance-layout.ts): flagged, or a JPEG DCT process.
      lossy: readText(parsed.dataset, LossyImageCompression) === '01' || parsed.transferSyntaxUid === JPEG_BASELINE || parsed.transferSyntaxUid === JPEG_EXTENDED,
      pixel,
      open: () => openFile(path, size),
    };
    return { instance, release };
  } catch (e) {
    answer.discard();
    await release();
    throw e;
  }
}

/** The answer body of a spooled instance in `targetSyntax`; it deletes the spool file when it ends. */
export function spooledInstanceBody(spooled: SpooledInstance, targetSyntax: string, pixels: PixelContext): AnswerBody {
  const inner = instanceBody(spooled.instance, targetSyntax, pixels);
  return {
    length: inner.length,
    async *chunks() {
      try {
        yield* inner.chunks();
      } finally {
        await spooled.release();
      }
    },
  };
}
