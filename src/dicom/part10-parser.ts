/**
 * Streaming DICOM Part-10 parser (PS3.10 7.1): preamble, File Meta Information, then the data set
 * in the transfer syntax the meta names. Header values, sequences and the small elements after
 * Pixel Data are kept in memory; Pixel Data and other large binary values are recorded by
 * position (BulkRef) and skipped, so a 2 GB upload passes through with constant memory.
 *
 * Push-driven: each write() parses what it can synchronously and resolves when the chunk is
 * consumed (for deflated data: when zlib has consumed it), which gives the caller backpressure.
 */
import { ByteSource } from './byte-source';
import { DatasetReader } from './dataset-reader';
import { MemoryBudget } from './memory-budget';
import { ParsedPart10, Tags } from './dataset';
import { InvalidDicom } from './errors';
import { InflatedSource } from './inflated-source';
import { TS, TransferSyntax, lookupTransferSyntax } from './transfer-syntax';
import { vrFromCode } from './vr-codes';
import { trimUid } from './uid';

export interface Part10ParserOptions {
  /** Binary values (VR OB OD OF OL OV OW UN) longer than this are recorded as `bulk` (BulkRef)
   *  instead of kept in memory. Default 1024. Pixel Data (7FE0,0010), Float Pixel Data
   *  (7FE0,0008), Double Float Pixel Data (7FE0,0009) are always bulk/encapsulated, never in
   *  memory. */
  bulkThreshold?: number;
  /** Upper bound of the total bytes of values kept in memory for one instance (defence against
   *  lying lengths); exceeded -> InvalidDicom 'too-large'. Default 64 MiB. A declared length is
   *  charged as soon as its header is read, and every element, item and fragment also counts a
   *  fixed 64 bytes of bookkeeping, so floods of tiny elements are bounded too. */
  maxInMemoryBytes?: number;
  /** Accept a data set without preamble and File Meta Information (as some legacy writers and
   *  DIMSE-based tools produce), read as Implicit or Explicit VR Little Endian depending on its
   *  first element. Default false: only Part-10 files. */
  acceptBareDataset?: boolean;
}

/**
 * Recognises a bare data set by its first element: a tag of group 0x0008 (where every composite
 * instance starts, after the File Meta group that such files lack), then either a valid explicit
 * VR code or an implicit 4-byte length.
 */
function bareDatasetSyntax(window: Buffer, at: number): TransferSyntax | undefined {
  if (window.readUInt16LE(at) !== 0x0008) return undefined;
  const code = window.readUInt16BE(at + 4);
  const explicit = vrFromCode(code) !== undefined;
  return lookupTransferSyntax(explicit ? TS.ExplicitVRLittleEndian : TS.ImplicitVRLittleEndian);
}

const PREAMBLE_LENGTH = 128;
const DICM = 0x4449434d; // "DICM" read big-endian
const RESOLVED = Promise.resolve();

export class Part10Parser {
  private readonly bulkThreshold: number;
  private readonly budget: MemoryBudget;
  private readonly file = new ByteSource(0);
  private stage: 'preamble' | 'meta' | 'dataset' = 'preamble';
  private meta: DatasetReader | undefined;
  private body: DatasetReader | undefined;
  private syntax: TransferSyntax | undefined;
  private inflated: InflatedSource | undefined;
  private inflatedBytes: ByteSource | undefined;
  private datasetOffset = 0;
  private fileLength = 0;
  private ended = false;
  private bare = false;
  private readonly acceptBareDataset: boolean;
  private hasFailed = false;
  private failure: unknown;

  constructor(options: Part10ParserOptions = {}) {
    this.bulkThreshold = options.bulkThreshold ?? 1024;
    this.acceptBareDataset = options.acceptBareDataset ?? false;
    this.budget = new MemoryBudget(options.maxInMemoryBytes ?? 64 * 1024 * 1024);
  }

  /** Bytes received but not parsed yet: one element header or one in-memory value at most, plus
   *  the rest of the last chunk. For monitoring and tests. */
  get bufferedBytes(): number {
    return this.file.available + (this.inflatedBytes?.available ?? 0);
  }

  /** Feed the next chunk. Resolves once the chunk is consumed; rejects with InvalidDicom as soon
   *  as the input is known to be bad (and every later call rejects with the same error). The
   *  chunk must not be modified afterwards. */
  write(chunk: Buffer | Uint8Array): Promise<void> {
    if (this.hasFailed) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error('Part10Parser.write() after end()'));
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.fileLength += buf.length;
    try {
      if (this.inflated) return this.guard(this.inflated.write(buf));
      this.file.push(buf);
      this.pump();
      if (this.inflated) return this.guard(this.feedInflater(this.file.drain()));
      return RESOLVED;
    } catch (error) {
      return Promise.reject(this.fail(error));
    }
  }

  /** End of input. Resolves with the result; rejects with InvalidDicom 'truncated' if the data
   *  ended inside an element, an undefined-length sequence or item, or encapsulated Pixel Data. */
  async end(): Promise<ParsedPart10> {
    if (this.hasFailed) throw this.failure;
    if (this.ended) throw new Error('Part10Parser.end() called twice');
    this.ended = true;
    try {
      if (this.stage === 'preamble') {
        throw new InvalidDicom('not-part10', `${this.fileLength} bytes: too short for the 128-byte preamble and "DICM"`, 0);
      }
      if (this.stage === 'meta') {
        this.meta!.finish();
        this.resolveTransferSyntax();
        throw new InvalidDicom('truncated', 'input ended after the File Meta Information: no data set', this.fileLength);
      }
      if (this.inflated) await this.inflated.end();
      const body = this.body!;
      body.finish();
      if (body.dataset.size === 0) {
        throw new InvalidDicom('truncated', 'the data set is empty', this.datasetOffset);
      }
      const syntax = this.syntax!;
      return {
        meta: this.meta!.dataset,
        dataset: body.dataset,
        transferSyntaxUid: syntax.uid,
        littleEndian: syntax.littleEndian,
        explicitVr: syntax.explicitVr,
        deflated: syntax.deflated,
        datasetOffset: this.datasetOffset,
        fileLength: this.fileLength,
        bareDataset: this.bare,
      };
    } catch (error) {
      throw this.fail(error);
    }
  }

  /** Advances through preamble and meta into the data set as far as the buffered bytes allow. */
  private pump(): void {
    if (this.stage === 'preamble') {
      if (this.file.available < PREAMBLE_LENGTH + 4) return;
      const head = this.file.copyAhead(PREAMBLE_LENGTH + 4);
      if (head.readUInt32BE(PREAMBLE_LENGTH) !== DICM) {
        const bare = this.acceptBareDataset ? bareDatasetSyntax(head, 0) : undefined;
        if (!bare) throw new InvalidDicom('not-part10', 'no "DICM" after the 128-byte preamble (PS3.10 7.1)', PREAMBLE_LENGTH);
        this.startBareDataset(bare);
        this.body!.advance();
        return;
      }
      this.file.skip(PREAMBLE_LENGTH + 4);
      this.stage = 'meta';
      // The File Meta Information is always Explicit VR Little Endian (PS3.10 7.1).
      this.meta = new DatasetReader(this.file, {
        explicitVr: true,
        littleEndian: true,
        bulkThreshold: this.bulkThreshold,
        budget: this.budget,
        onlyGroup: 0x0002,
      });
    }
    if (this.stage === 'meta') {
      let done: boolean;
      try {
        done = this.meta!.advance();
      } catch (error) {
        throw error instanceof InvalidDicom && error.kind === 'malformed'
          ? new InvalidDicom('bad-meta', `File Meta Information: ${error.message}`, error.offset)
          : error;
      }
      if (!done) return;
      this.startDataset();
    }
    if (this.stage === 'dataset' && !this.inflated) this.body!.advance();
  }

  /** A data set written without preamble and File Meta Information (legacy writers). */
  private startBareDataset(syntax: TransferSyntax): void {
    this.syntax = syntax;
    this.bare = true;
    this.datasetOffset = 0;
    this.stage = 'dataset';
    this.meta = new DatasetReader(new ByteSource(0), { explicitVr: true, littleEndian: true, bulkThreshold: this.bulkThreshold, budget: this.budget, onlyGroup: 0x0002 });
    this.body = new DatasetReader(this.file, {
      explicitVr: syntax.explicitVr,
      littleEndian: syntax.littleEndian,
      bulkThreshold: this.bulkThreshold,
      budget: this.budget,
    });
  }

  private startDataset(): void {
    const syntax = this.resolveTransferSyntax();
    this.syntax = syntax;
    this.datasetOffset = this.file.position;
    this.stage = 'dataset';
    const options = {
      explicitVr: syntax.explicitVr,
      littleEndian: syntax.littleEndian,
      bulkThreshold: this.bulkThreshold,
      budget: this.budget,
    };
    if (!syntax.deflated) {
      this.body = new DatasetReader(this.file, options);
      return;
    }
    // Offsets inside a deflated data set count from the start of the inflated bytes.
    const inflatedBytes = new ByteSource(0);
    const body = new DatasetReader(inflatedBytes, options);
    this.inflatedBytes = inflatedBytes;
    this.body = body;
    this.inflated = new InflatedSource((chunk) => {
      inflatedBytes.push(chunk);
      body.advance();
    }, this.datasetOffset);
  }

  private resolveTransferSyntax(): TransferSyntax {
    const element = this.meta!.dataset.get(Tags.TransferSyntaxUID);
    if (!element?.value) {
      throw new InvalidDicom('bad-meta', 'File Meta Information has no Transfer Syntax UID (0002,0010)', PREAMBLE_LENGTH + 4);
    }
    const uid = trimUid(element.value.toString('latin1'));
    const syntax = lookupTransferSyntax(uid);
    if (!syntax) throw new InvalidDicom('unsupported-transfer-syntax', `transfer syntax ${JSON.stringify(uid)} is not supported`);
    return syntax;
  }

  private async feedInflater(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) await this.inflated!.write(chunk);
  }

  /** Records a rejection so that every later call rejects the same way. */
  private guard(pending: Promise<void>): Promise<void> {
    return pending.catch((error: unknown) => {
      throw this.fail(error);
    });
  }

  private fail(error: unknown): unknown {
    if (!this.hasFailed) {
      this.hasFailed = true;
      this.failure = error;
    }
    return this.failure;
  }
}

/** Convenience for tests and small inputs. */
export async function parsePart10Buffer(buf: Buffer, options?: Part10ParserOptions): Promise<ParsedPart10> {
  const parser = new Part10Parser(options);
  await parser.write(buf);
  return parser.end();
}

/** Parses a whole stream, awaiting each chunk (the source is not read faster than parsed). */
export async function parsePart10Stream(
  source: AsyncIterable<Buffer | Uint8Array>,
  options?: Part10ParserOptions,
): Promise<ParsedPart10> {
  const parser = new Part10Parser(options);
  for await (const chunk of source) await parser.write(chunk);
  return parser.end();
}
