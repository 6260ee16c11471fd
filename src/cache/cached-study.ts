/**
 * What the metadata cache keeps of one study of one store: the DICOM JSON of each instance known
 * (BulkDataURIs relative, as the stores hand them out), whether the upstream's full answer has
 * been merged in and when, and a version that changes with every write (so a copy held in memory
 * knows whether it is still current). Shared by the Redis and the in-process backends.
 */
import { createHash } from 'node:crypto';

export interface CachedInstance {
  series: string;
  sop: string;
  /** DICOM JSON text of the instance, BulkDataURIs relative ("bulkdata/<tag path>"). */
  json: string;
}

export interface CachedStudy {
  version: number;
  /** When the upstream's whole answer for the study was merged in (ms), if ever. */
  completeAt?: number;
  instances: Map<string, CachedInstance>;
  /** Hash of the content, for ETags. */
  contentHash: string;
}

/** The storage side of the cache (metadata-store-redis.ts, metadata-store-memory.ts). */
export interface StudyCacheBackend {
  readonly kind: 'redis' | 'memory';
  /** The study as cached, or undefined; `known` is the version the caller already holds. */
  get(store: string, study: string, known?: CachedStudy): Promise<CachedStudy | undefined>;
  /** Adds or replaces instances; `complete` marks the upstream's whole answer as merged in (and
   *  the study as confirmed); instances added otherwise make an unconfirmed study of it. */
  put(store: string, study: string, instances: CachedInstance[], complete: boolean): Promise<void>;
  /** Forgets a study (e.g. it grew past the per-study bound). */
  drop(store: string, study: string): Promise<void>;
  /** Runs `fill` for this study unless another request (or replica) already is; true if it ran. */
  singleFlight(store: string, study: string, fill: () => Promise<void>): Promise<boolean>;
  /** Studies known from uploads through the gateway that the upstream has not shown yet. */
  unconfirmed(store: string, limit: number): Promise<string[]>;
  status(): { kind: string; available: boolean; detail?: string };
  close(): Promise<void>;
}

export function contentHash(instances: Map<string, CachedInstance>): string {
  const hash = createHash('sha1');
  for (const sop of [...instances.keys()].sort()) hash.update(sop).update('\0').update(instances.get(sop)!.json).update('\0');
  return hash.digest('base64url');
}
