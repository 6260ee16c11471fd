/**
 * Receives one instance from a byte stream: every chunk goes to a staging file and through the
 * Part-10 parser at the same pace (backpressure is kept), and is hashed on the way. The header is
 * parsed once here and handed on; no store parses again.
 */
import { createHash } from 'node:crypto';
import { FileHandle, open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { InvalidDicom } from '../dicom/errors';
import { Part10Parser } from '../dicom/part10-parser';
import { toDicomJson } from '../dicom/dicom-json';
import { IncomingInstance, IngestContext } from '../stores/dicom-store';
import { InstanceRejected } from './rejection';
import { StagingArea } from './staging-area';
import { checkInstance } from './instance-checks';
import { removeQuietly } from '../stores/local/durable-files';

export interface ReceiveOptions {
  maxInstanceBytes: number;
  maxHeaderBytes: number;
  inlineBinaryThreshold: number;
  /** When set (STOW to /studies/{uid}), an instance of another study is refused. */
  expectedStudyUid?: string;
  /** Who sent the instances (routing and priority at the edge). */
  context?: IngestContext;
}

export class InstanceReceiver {
  constructor(private readonly staging: StagingArea) {}

  /**
   * Consumes `body` completely (even when the instance is refused early, so the next multipart
   * part can be read) and returns the staged, parsed instance, or throws InstanceRejected.
   * The caller owns the staged file afterwards and must call `discard` when done with it.
   */
  async receive(body: Readable, options: ReceiveOptions): Promise<IncomingInstance> {
    // The body may fail before the loop below reads it (the request broke while the staging file
    // opens); with no listener that 'error' would be unhandled and end the process. The loop
    // still sees the failure: the iterator of an errored stream rejects with its error.
    body.on('error', ignoreHere);
    const path = this.staging.newFilePath();
    const file = await open(path, 'wx');
    const hash = createHash('sha256');
    const parser = new Part10Parser({
      bulkThreshold: options.inlineBinaryThreshold,
      maxInMemoryBytes: options.maxHeaderBytes,
      // Legacy writers send bare data sets; they are stored as sent (see README, STOW-RS).
      acceptBareDataset: true,
    });
    let size = 0;
    let rejection: InstanceRejected | undefined;
    let fileOpen = true;
    // Chunks are gathered and written with one writev per WRITE_BATCH_BYTES: each file write is a
    // round trip to the thread pool, and a socket delivers 64 KiB (or smaller multipart slices).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      await writeAll(file, batch);
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (rejection) continue; // drain the rest of the part, keep nothing
        size += chunk.length;
        if (size > options.maxInstanceBytes) {
          rejection = new InstanceRejected(
            'out-of-resources',
            `instance larger than the limit of ${options.maxInstanceBytes} bytes`,
          );
          pending = [];
          pendingBytes = 0;
          continue;
        }
        hash.update(chunk);
        try {
          await parser.write(chunk);
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= WRITE_BATCH_BYTES) await flush();
        } catch (e) {
          rejection = toRejection(e);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (!rejection) {
        try {
          await flush();
        } catch (e) {
          rejection = toRejection(e);
        }
      }
      if (rejection) throw rejection;
      let parsed;
      try {
        parsed = await parser.end();
      } catch (e) {
        throw toRejection(e);
      }
      await file.sync();
      await file.close();
      fileOpen = false;
      const identity = checkInstance(parsed, options.expectedStudyUid);
      const metadata = toDicomJson(parsed.dataset, {
        littleEndian: parsed.littleEndian,
        inlineBinaryThreshold: options.inlineBinaryThreshold,
        bulkDataUri: (tagPath) => `bulkdata/${tagPath}`,
      });
      return {
        identity,
        parsed,
        metadata,
        staged: { path, size, sha256: hash.digest('hex') },
        open: () => createReadStream(path),
        context: options.context,
      };
    } catch (e) {
      if (fileOpen) await file.close().catch(() => undefined);
      await removeQuietly(path);
      throw e;
    }
  }

  async discard(instance: IncomingInstance): Promise<void> {
    if (!instance.staged.moved) await removeQuietly(instance.staged.path);
  }
}

const WRITE_BATCH_BYTES = 1024 * 1024;

function ignoreHere(): void {
  /* the error is met where the body is read */
}

async function writeAll(file: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest);
    // A short write (rare on regular files) leaves the tail of one buffer and those after it.
    const next: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        next.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

function toRejection(e: unknown): InstanceRejected {
  if (e instanceof InstanceRejected) return e;
  if (e instanceof InvalidDicom) {
    if (e.kind === 'unsupported-transfer-syntax') return new InstanceRejected('unsupported-transfer-syntax', e.message);
    if (e.kind === 'too-large') return new InstanceRejected('out-of-resources', e.message);
    return new InstanceRejected('cannot-understand', `${describeKind(e.kind)}: ${e.message}`);
  }
  if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
    return new InstanceRejected('out-of-resources', 'no disk space left for staging');
  }
  throw e;
}

function describeKind(kind: InvalidDicom['kind']): string {
  switch (kind) {
    case 'not-part10':
      return 'not a DICOM Part-10 file';
    case 'bad-meta':
      return 'invalid File Meta Information';
    case 'truncated':
      return 'incomplete instance';
    default:
      return 'malformed DICOM';
  }
}
