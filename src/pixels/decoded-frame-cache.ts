/**
 * The most recently used converted frames, bounded by their total bytes, so that a viewer
 * scrolling back and forth through a series does not decode a frame twice. Conversions of the
 * same frame asked for at once share one decode. Stored instances never change, so an entry
 * cannot go stale; an instance deleted and stored again under the same UID is not possible
 * without its bytes being the same (the stores refuse replacements).
 */
export class DecodedFrameCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.bytes;
  }

  async get(key: string, produce: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const running = this.inFlight.get(key);
    if (running) {
      this.hits++;
      return running;
    }
    this.misses++;
    const promise = produce().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    const value = await promise;
    this.remember(key, value);
    return value;
  }

  private remember(key: string, value: Buffer): void {
    // One frame may take at most an eighth of the cache, so a huge one cannot flush the rest.
    if (this.maxBytes === 0 || value.length > this.maxBytes / 8 || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= old.length;
    }
  }
}
