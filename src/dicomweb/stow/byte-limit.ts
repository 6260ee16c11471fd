import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through and fails the stream once more than `limit` bytes went by. */
export class ByteLimit extends Transform {
  bytes = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.exceeded = true;
      done(new Error(`request body larger than the limit of ${this.limit} bytes`));
      return;
    }
    done(null, chunk);
  }
}
