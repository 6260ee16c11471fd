/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5): everything after the File Meta Information is
 * one raw deflate stream (RFC 1951, no zlib header). This inflates it chunk by chunk and hands
 * each inflated piece to a callback at once, so nothing accumulates between zlib and the parser.
 */
import * as zlib from 'node:zlib';
import { InvalidDicom } from './errors';

export class InflatedSource {
  private readonly inflater = zlib.createInflateRaw({ chunkSize: 64 * 1024 });
  /** The first error: InvalidDicom for bad data; anything else (a bug) is passed on unchanged. */
  private failure: unknown;
  private hasFailed = false;
  private readonly failed: Promise<never>;
  private rejectFailed!: (error: unknown) => void;
  private readonly ended: Promise<void>;

  /**
   * @param onData receives each inflated piece; whatever it throws fails the stream
   * @param fileOffset where the deflated bytes start in the file, for error messages
   */
  constructor(
    onData: (chunk: Buffer) => void,
    private readonly fileOffset: number,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined); // observed through write()/end()
    this.ended = new Promise<void>((resolve) => this.inflater.once('end', resolve));
    this.inflater.on('data', (chunk: Buffer) => {
      if (this.hasFailed) return;
      try {
        onData(chunk);
      } catch (error) {
        this.fail(error);
      }
    });
    this.inflater.on('error', (error: NodeJS.ErrnoException) => {
      // Z_BUF_ERROR at the end: the deflate stream stopped before its final block.
      this.fail(
        error.code === 'Z_BUF_ERROR'
          ? new InvalidDicom('truncated', 'the deflated data set ends before the end of its deflate stream', this.fileOffset)
          : new InvalidDicom('malformed', `the deflated data set is not a valid raw deflate stream: ${error.message}`, this.fileOffset),
      );
    });
  }

  /** Resolves once zlib has consumed the chunk (and the parser has seen what it produced). */
  write(chunk: Buffer): Promise<void> {
    const written = new Promise<void>((resolve) => this.inflater.write(chunk, () => resolve()));
    return Promise.race([written, this.failed]).then(() => this.throwIfFailed());
  }

  /** Flushes zlib; resolves when every inflated byte has been delivered. */
  end(): Promise<void> {
    this.inflater.end();
    return Promise.race([this.ended, this.failed]).then(() => this.throwIfFailed());
  }

  private throwIfFailed(): void {
    if (this.hasFailed) throw this.failure;
  }

  private fail(error: unknown): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.failure = error;
    this.inflater.destroy();
    this.rejectFailed(this.failure);
  }
}
