/**
 * Part side of the multipart reader: one part's body Readable, fed from the
 * token stream only when its consumer wants data, plus skipping what the
 * consumer left unread and ending the body early when the reader stops.
 */
import { Readable } from 'node:stream';
import { TokenStream } from './multipart-source';
import { Token } from './multipart-tokenizer';
import { MultipartError, MultipartPart } from './multipart-types';

const noop = (): void => undefined;

export class PartController {
  readonly part: MultipartPart;
  private readonly body: Readable;
  private settled = false;
  private failure: MultipartError | undefined;
  private wantData = false;
  private pumping = false;
  private discarding = false;
  private movingOn = false;
  private stopped = false;
  private readonly done: Promise<void>;
  private markDone: () => void = noop;

  constructor(
    private readonly tokens: TokenStream,
    index: number,
    headers: Record<string, string>,
  ) {
    this.done = new Promise<void>((resolve) => {
      this.markDone = resolve;
    });
    this.body = new Readable({
      read: () => {
        this.wantData = true;
        void this.pump();
      },
      destroy: (error, callback) => {
        this.onBodyDestroyed();
        callback(error);
      },
    });
    // The generator reports the same error, so a consumer that attached no
    // 'error' listener to an ignored body must not crash the process.
    this.body.on('error', noop);
    this.part = { index, headers, contentType: headers['content-type'], body: this.body };
  }

  /** Waits for the part to be fully read (skipping what the consumer left); throws its error. */
  async finish(): Promise<void> {
    this.movingOn = true;
    if (!this.settled) {
      if (this.body.destroyed) this.startDiscarding();
      else this.body.resume(); // without 'data' listeners the rest is dropped; a pipe keeps its backpressure
      await this.done;
    }
    if (this.failure) throw this.failure;
  }

  /** The consumer stopped the generator: end the body now, without an 'end' event. */
  abort(): void {
    this.stopped = true;
    if (this.settled) return;
    this.settle();
    this.body.destroy();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return; // the running loop sees the updated flags
    this.pumping = true;
    try {
      while (!this.settled && !this.stopped && (this.discarding || (this.wantData && !this.body.destroyed))) {
        const token = await this.tokens.next();
        if (token === undefined || this.stopped) return;
        this.apply(token);
      }
    } finally {
      this.pumping = false;
    }
  }

  private apply(token: Token): void {
    switch (token.kind) {
      case 'body':
        if (!this.body.destroyed) this.wantData = this.body.push(token.data);
        return;
      case 'part-end':
        this.settle();
        if (!this.body.destroyed) this.body.push(null);
        return;
      case 'error':
        this.failure = token.error;
        this.settle();
        this.body.destroy(token.error);
        return;
      default:
        throw new Error(`multipart reader: unexpected '${token.kind}' token inside a part`);
    }
  }

  private onBodyDestroyed(): void {
    if (this.movingOn && !this.settled && !this.stopped) this.startDiscarding();
  }

  private startDiscarding(): void {
    this.discarding = true;
    void this.pump();
  }

  private settle(): void {
    this.settled = true;
    this.markDone();
  }
}
