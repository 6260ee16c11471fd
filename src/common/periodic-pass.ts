/**
 * A pass that runs now and then every `intervalMs` (the forwarding reconciler and retention, the
 * webhook reconciler): a pass already under way is joined, never run twice at once, and stop()
 * waits for it to end.
 */
export class PeriodicPass<T> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
  ) {}

  /** `immediately`: one pass now, then every interval. */
  start(immediately: boolean): void {
    if (immediately) void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  runOnce(): Promise<T> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
