/**
 * The in-process backend of the metadata cache, used without REDIS_URL (and by nothing else): an
 * LRU of studies bounded by the bytes of their JSON text. Single-flight holds within the process.
 */
import { CachedInstance, CachedStudy, contentHash, StudyCacheBackend } from './cached-study';

interface Entry {
  study: CachedStudy;
  bytes: number;
  expiresAt: number;
}

export class MemoryStudyCache implements StudyCacheBackend {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Promise<void>>();
  private totalBytes = 0;
  /** store -> study -> when it was first stored through the gateway, until confirmed. */
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(
    private readonly maxBytes: number,
    private readonly maxStudyBytes: number,
    private readonly ttlMs: number,
  ) {}

  async get(store: string, study: string): Promise<CachedStudy | undefined> {
    const key = `${store}\0${study}`;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.remove(key);
      return undefined;
    }
    this.entries.delete(key); // re-inserted last: the Map's order is the LRU order
    this.entries.set(key, entry);
    return entry.study;
  }

  async put(store: string, study: string, instances: CachedInstance[], complete: boolean): Promise<void> {
    const key = `${store}\0${study}`;
    const old = this.entries.get(key);
    const map = new Map(old?.study.instances);
    for (const i of instances) map.set(i.sop, i);
    let bytes = 0;
    for (const i of map.values()) bytes += i.json.length;
    this.remove(key);
    const pending = this.pending.get(store) ?? new Map<string, number>();
    this.pending.set(store, pending);
    if (complete) pending.delete(study);
    else if (!old?.study.completeAt && !pending.has(study)) pending.set(study, Date.now());
    if (bytes > this.maxStudyBytes) return; // too large to cache: served from the store
    const cached: CachedStudy = {
      version: (old?.study.version ?? 0) + 1,
      completeAt: complete ? Date.now() : old?.study.completeAt,
      instances: map,
      contentHash: contentHash(map),
    };
    this.entries.set(key, { study: cached, bytes, expiresAt: Date.now() + this.ttlMs });
    this.totalBytes += bytes;
    while (this.totalBytes > this.maxBytes && this.entries.size > 1) this.remove(this.entries.keys().next().value!);
  }

  async drop(store: string, study: string): Promise<void> {
    this.remove(`${store}\0${study}`);
  }

  async singleFlight(store: string, study: string, fill: () => Promise<void>): Promise<boolean> {
    const key = `${store}\0${study}`;
    const running = this.flights.get(key);
    if (running) {
      await running.catch(() => undefined);
      return false;
    }
    const flight = fill().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    await flight;
    return true;
  }

  async unconfirmed(store: string, limit: number): Promise<string[]> {
    const pending = [...(this.pending.get(store) ?? new Map<string, number>())].filter(([study]) => this.entries.has(`${store}\0${study}`));
    return pending.sort((a, b) => b[1] - a[1]).slice(0, limit).map(([study]) => study);
  }

  status(): { kind: string; available: boolean } {
    return { kind: this.kind, available: true };
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
