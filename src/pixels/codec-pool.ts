/**
 * A pool of codec worker threads (codec-worker.ts), sized to the machine: every decode, encode
 * and render runs there, never on the event loop. Jobs wait in one queue, first come first
 * served; a worker that crashes or overruns its deadline is replaced and only its job fails.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CodecJob, CodecRequest, CodecResponse } from './codec-jobs';

/** The codestream could not be decoded: the stored data is bad, not the gateway. */
export class CorruptPixelData extends Error {}

export interface CodecPoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  size?: number;
  /** A job running longer than this is abandoned and its worker replaced. */
  jobTimeoutMs?: number;
  /** Called once per job with how it ended, for the metrics. */
  observe?: (op: CodecJob['op'], outcome: 'ok' | 'corrupt' | 'failed', seconds: number) => void;
}

interface Pending {
  id: number;
  job: CodecJob;
  resolve(bytes: Buffer): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  busy?: { pending: Pending; started: number; timer: NodeJS.Timeout };
}

const WORKER_SCRIPT = join(__dirname, 'codec-worker.js');

export class CodecPool {
  readonly size: number;
  private readonly timeoutMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: CodecPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.timeoutMs = options.jobTimeoutMs ?? 60_000;
  }

  /** Jobs waiting for a worker (not counting those running). */
  get waiting(): number {
    return this.queue.length;
  }

  run(job: CodecJob): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('the codec pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('the codec pool closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      const timer = setTimeout(() => this.abandon(slot!, `took longer than ${this.timeoutMs} ms`), this.timeoutMs);
      slot.busy = { pending, started: performance.now(), timer };
      const request: CodecRequest = { id: pending.id, job: pending.job };
      // The input is copied (structured clone): it may be a view into a shared read buffer.
      slot.worker.postMessage(request);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SCRIPT);
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (response: CodecResponse) => this.finish(slot, response));
    worker.on('error', (e) => this.abandon(slot, `crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) this.abandon(slot, `exited with code ${code}`);
    });
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot, response: CodecResponse): void {
    const busy = slot.busy;
    if (!busy || busy.pending.id !== response.id) return;
    clearTimeout(busy.timer);
    slot.busy = undefined;
    if (!response.ok && response.retire) this.retire(slot);
    const seconds = (performance.now() - busy.started) / 1000;
    if (response.ok) {
      this.options.observe?.(busy.pending.job.op, 'ok', seconds);
      busy.pending.resolve(Buffer.from(response.bytes.buffer, response.bytes.byteOffset, response.bytes.byteLength));
    } else {
      this.options.observe?.(busy.pending.job.op, response.corrupt ? 'corrupt' : 'failed', seconds);
      busy.pending.reject(response.corrupt ? new CorruptPixelData(response.message) : new Error(`codec ${busy.pending.job.op} failed: ${response.message}`));
    }
    this.dispatch();
  }

  /** Takes an idle worker out of the pool (a new one is started when a job needs it). */
  private retire(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
  }

  /** The worker is lost (crashed, exited, or stuck): its job fails, another worker takes its place. */
  private abandon(slot: Slot, why: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    void slot.worker.terminate();
    const busy = slot.busy;
    if (busy) {
      clearTimeout(busy.timer);
      this.options.observe?.(busy.pending.job.op, 'failed', (performance.now() - busy.started) / 1000);
      // A codestream that crashes or hangs the codec is bad data as far as the client can tell.
      busy.pending.reject(new CorruptPixelData(`the codec worker ${why} on this frame`));
    }
    if (!this.closed) this.dispatch();
  }
}
