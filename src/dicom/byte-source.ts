/**
 * A queue of incoming chunks that a push parser reads from: small contiguous peeks for element
 * headers, copies for values kept in memory, and skips (no copy) for bulk values.
 *
 * It keeps only the chunks that still hold unread bytes, so what it retains is at most the value
 * currently being collected plus one chunk. Chunks are referenced, not copied: callers must not
 * reuse a chunk after handing it over (the usual stream contract).
 */

/** Longest header that must be readable in one piece: explicit VR with a 4-byte length (PS3.5 7.1.2). */
const MAX_PEEK = 16;
/** Values up to this size are copied byte by byte (see take()). */
const SMALL_COPY = 64;

export class ByteSource {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private headOffset = 0;
  private availableBytes = 0;
  private consumedBytes: number;
  private readonly scratch = Buffer.alloc(MAX_PEEK);

  /** After peek(): the buffer holding the peeked bytes, starting at the offset peek() returned. */
  window: Buffer = this.scratch;

  /** @param startPosition absolute offset of the first byte that will be pushed */
  constructor(startPosition = 0) {
    this.consumedBytes = startPosition;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.availableBytes += chunk.length;
  }

  /** Bytes pushed but not yet consumed. */
  get available(): number {
    return this.availableBytes;
  }

  /** Absolute offset of the next unread byte. */
  get position(): number {
    return this.consumedBytes;
  }

  /**
   * Makes the next n bytes (n <= 16, n <= available) readable as window[offset .. offset+n) without
   * consuming them. Copies only when they straddle two chunks.
   */
  peek(n: number): number {
    const head = this.chunks[0];
    if (head.length - this.headOffset >= n) {
      this.window = head;
      return this.headOffset;
    }
    let copied = 0;
    let from = this.headOffset;
    for (let i = 0; copied < n; i++) {
      const chunk = this.chunks[i];
      const k = Math.min(n - copied, chunk.length - from);
      chunk.copy(this.scratch, copied, from, from + k);
      copied += k;
      from = 0;
    }
    this.window = this.scratch;
    return 0;
  }

  /** A copy of the next n bytes (n <= available), not consumed. For small look-aheads of any size. */
  copyAhead(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let from = this.headOffset;
    for (let i = 0; copied < n; i++) {
      const chunk = this.chunks[i];
      const k = Math.min(n - copied, chunk.length - from);
      chunk.copy(out, copied, from, from + k);
      copied += k;
      from = 0;
    }
    return out;
  }

  /** Consumes up to n bytes without copying them; returns how many were consumed. */
  skip(n: number): number {
    let left = n;
    while (left > 0 && this.chunks.length > 0) {
      const rest = this.chunks[0].length - this.headOffset;
      if (rest > left) {
        this.headOffset += left;
        left = 0;
      } else {
        left -= rest;
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    const done = n - left;
    this.availableBytes -= done;
    this.consumedBytes += done;
    return done;
  }

  /** Consumes exactly n bytes (n <= available) and returns a copy, so no chunk stays referenced. */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    if (n === 0) return out;
    const head = this.chunks[0];
    if (n <= SMALL_COPY && head.length - this.headOffset > n) {
      // Most header values are a few bytes: a plain loop beats Buffer#copy's call overhead.
      for (let i = 0, from = this.headOffset; i < n; i++) out[i] = head[from + i];
      this.headOffset += n;
      this.availableBytes -= n;
      this.consumedBytes += n;
      return out;
    }
    let copied = 0;
    while (copied < n) {
      const chunk = this.chunks[0];
      const k = Math.min(n - copied, chunk.length - this.headOffset);
      chunk.copy(out, copied, this.headOffset, this.headOffset + k);
      copied += k;
      if (this.headOffset + k === chunk.length) {
        this.chunks.shift();
        this.headOffset = 0;
      } else {
        this.headOffset += k;
      }
    }
    this.availableBytes -= n;
    this.consumedBytes += n;
    return out;
  }

  /** Consumes everything buffered and returns it as views of the queued chunks (no copy). */
  drain(): Buffer[] {
    const out = this.chunks.splice(0, this.chunks.length);
    if (out.length > 0 && this.headOffset > 0) out[0] = out[0].subarray(this.headOffset);
    this.headOffset = 0;
    this.consumedBytes += this.availableBytes;
    this.availableBytes = 0;
    return out;
  }
}
