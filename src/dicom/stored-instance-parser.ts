/**
 * Parses the header of an instance already on disk (to re-encode it). The native Pixel Data
 * range, known from ingest, is fed to the parser as zeros instead of being read: the parser only
 * skips over those bytes, so a transcode reads the pixel data once (when it copies it), not twice.
 */
import { ParsedPart10 } from './dataset';
import { Part10Parser } from './part10-parser';
import { RandomAccessBytes } from './random-access';

export interface StoredParseOptions {
  /** A byte range the parser will skip as a bulk value (native Pixel Data); not read. */
  skip?: { offset: number; length: number };
  /** Binary values above this size are left on disk (BulkRef); default 1024. */
  bulkThreshold?: number;
  /** Most header bytes held in memory; default 64 MiB. */
  maxInMemoryBytes?: number;
}

const ZEROS = Buffer.alloc(1024 * 1024);

async function* withoutSkippedRange(source: RandomAccessBytes, skip: StoredParseOptions['skip']): AsyncGenerator<Buffer> {
  if (!skip || skip.length === 0 || skip.offset + skip.length > source.size) {
    yield* source.stream(0, source.size);
    return;
  }
  yield* source.stream(0, skip.offset);
  for (let left = skip.length; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
  const after = skip.offset + skip.length;
  yield* source.stream(after, source.size - after);
}

export async function parseStoredInstance(source: RandomAccessBytes, options: StoredParseOptions = {}): Promise<ParsedPart10> {
  const parser = new Part10Parser({
    bulkThreshold: options.bulkThreshold ?? 1024,
    maxInMemoryBytes: options.maxInMemoryBytes,
    // The store keeps data sets sent without File Meta Information as they came (see README).
    acceptBareDataset: true,
  });
  for await (const chunk of withoutSkippedRange(source, options.skip)) await parser.write(chunk);
  return parser.end();
}
