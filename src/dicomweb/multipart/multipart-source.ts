/**
 * Source side of the multipart reader: pulls one chunk at a time from a paused
 * Readable (SourcePuller) and runs it through the tokenizer only when the
 * previous chunk's tokens are used up (TokenStream), so the socket stays paused
 * until a consumer asks for more. Also lets go of the source when reading stops.
 */
import { Readable } from 'node:stream';
import { Limits, Token, Tokenizer } from './multipart-tokenizer';

const noop = (): void => undefined;

type Pulled = { chunk: Buffer } | { end: true; error?: Error };

/**
 * Uses 'data' events with pause() after each chunk rather than read(): read()
 * without a size concatenates everything buffered (a copy), 'data' hands over
 * the chunks as they came.
 */
export class SourcePuller {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private released = false;

  constructor(private readonly source: Readable) {
    if (source.readableEnded) this.ended = true;
    else if (source.errored) this.error = source.errored;
    else if (source.destroyed) this.error = new Error('multipart source was destroyed');
    source.pause();
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.on('error', this.onError);
    source.on('close', this.onClose);
  }

  /** undefined once released. */
  async next(): Promise<Pulled | undefined> {
    for (;;) {
      if (this.released) return undefined;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) return { chunk };
      if (this.error) return { end: true, error: this.error };
      if (this.ended) return { end: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.source.resume();
      });
    }
  }

  release(mode: 'drain' | 'destroy'): void {
    if (this.released) return;
    this.released = true;
    const source = this.source;
    source.off('data', this.onData);
    source.off('end', this.onEnd);
    source.off('error', this.onError);
    source.off('close', this.onClose);
    this.chunks.length = 0;
    this.notify();
    if (source.destroyed || source.readableEnded) return;
    source.on('error', noop); // a late socket error must not become an uncaught exception
    if (mode === 'destroy') source.destroy();
    else source.resume(); // no 'data' listener left: the rest is read and discarded
  }

  private readonly onData = (chunk: unknown): void => {
    this.chunks.push(toBuffer(chunk));
    this.source.pause();
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };

  private readonly onError = (error: Error): void => {
    this.error ??= error;
    this.notify();
  };

  private readonly onClose = (): void => {
    if (!this.ended && !this.error) this.error = new Error('multipart source closed before its end');
    this.notify();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), 'latin1'); // a source with setEncoding() is a caller bug; keep going byte-wise
}

/** Tokens in order, pulling a new source chunk only when the previous one is used up. */
export class TokenStream {
  private queue: Token[] = [];
  private head = 0;
  private readonly tokenizer: Tokenizer;

  constructor(
    private readonly puller: SourcePuller,
    boundary: string,
    limits: Limits,
  ) {
    this.tokenizer = new Tokenizer(boundary, limits, (token) => this.queue.push(token));
  }

  /** undefined after the last token, or once the source was released. */
  async next(): Promise<Token | undefined> {
    while (this.head === this.queue.length) {
      if (this.tokenizer.finished) return undefined;
      this.queue = [];
      this.head = 0;
      const pulled = await this.puller.next();
      if (pulled === undefined) return undefined;
      if ('chunk' in pulled) this.tokenizer.write(pulled.chunk);
      else this.tokenizer.finish(pulled.error);
    }
    return this.queue[this.head++];
  }
}
