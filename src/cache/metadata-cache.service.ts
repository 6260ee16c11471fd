/**
 * Study metadata of remote stores, extracted once and cached (Redis when REDIS_URL is set, else a
 * small in-process cache), so that viewers get it fast while the upstream is slow or still
 * indexing. The embedded store is not cached: its own index answers faster than any cache.
 *
 * - Filled at ingest (every instance stored through the gateway, its DICOM JSON from the parse
 *   STOW already did) and on the first read of a study from the upstream (its whole study answer,
 *   one fetch for all concurrent readers, across replicas).
 * - A read is answered from the cache when the study's upstream answer was merged in no longer
 *   than `maxStalenessMs` ago. A study only known from uploads through the gateway (the upstream
 *   may still be indexing it) is answered from what the gateway knows at once, flagged with a
 *   Warning, while the upstream's answer is fetched in the background.
 * - Series and instance metadata are answered from the study's entry.
 * - The cache never fails a request: when its backend is unreachable, the upstream answers.
 */
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { METRICS } from '../metrics/metrics.module';
import { stringifyDicomJson } from '../dicom/dicom-json-stringify';
import { redisOptions } from '../config/redis-options';
import { DicomStore, IncomingInstance } from '../stores/dicom-store';
import { NotFound } from '../stores/store-errors';
import { MetadataEntry, RetrieveScope } from '../stores/wado-types';
import { QidoMatch, QidoQuery } from '../stores/qido-query';
import { matchesInStudy } from './unconfirmed-matches';
import { CachedInstance, CachedStudy, contentHash, StudyCacheBackend } from './cached-study';
import { MemoryStudyCache } from './metadata-store-memory';
import { RedisStudyCache } from './metadata-store-redis';

export interface CachedMetadata {
  entries: MetadataEntry[];
  /** Strong validator of the entries (the caller adds what else shapes the body). */
  contentHash: string;
  /** Served from uploads the upstream has not confirmed yet. */
  unconfirmed: boolean;
}

/** Most unconfirmed studies (the newest) looked at by one search. */
const UNCONFIRMED_SEARCHED = 100;
/** In-memory copies of studies read from Redis, checked against its version on each read. */
const NEAR_STUDIES = 256;

@Injectable()
export class MetadataCacheService implements OnApplicationShutdown {
  private readonly logger = new Logger('Metadata cache');
  private readonly backend: StudyCacheBackend;
  private readonly near = new Map<string, CachedStudy>();
  private readonly refreshing = new Set<string>();
  readonly stats = { hits: 0, misses: 0, fills: 0, bypassed: 0 };

  private readonly reads: Counter<'result'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.reads = new Counter({
      name: 'dicomweb_gateway_metadata_cache_reads_total',
      help: 'Metadata reads of remote stores by outcome: hit, unconfirmed (answered from uploads the upstream has not shown yet), miss (filled from the upstream), bypass (the cache could not help)',
      labelNames: ['result'],
      registers: [metrics],
    });
    const backend = () => this.backend;
    new Gauge({
      name: 'dicomweb_gateway_metadata_cache_available',
      help: '1 while the metadata cache backend (Redis, or in process) answers',
      registers: [metrics],
      collect() {
        this.set(backend().status().available ? 1 : 0);
      },
    });
    const c = config.metadataCache;
    this.backend = config.redisUrl
      ? new RedisStudyCache(redisOptions(config.redisUrl), { prefix: config.redisKeyPrefix, ttlMs: c.ttlMs, maxStudyBytes: c.maxStudyBytes, maxTotalBytes: c.maxTotalBytes })
      : new MemoryStudyCache(c.memoryMaxBytes, c.maxStudyBytes, c.ttlMs);
  }

  /** Remote stores only. */
  applies(store: DicomStore): boolean {
    // Not a federated view: what it answers depends on which members the client may read (its
    // remote members' metadata goes through them uncached).
    return store.kind !== 'local' && store.kind !== 'federated';
  }

  /** After an instance was stored into `store`: the study's entry learns it (never fails the upload). */
  async noteStored(store: DicomStore, instance: IncomingInstance): Promise<void> {
    if (!this.applies(store)) return;
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = instance.identity;
    try {
      await this.backend.put(store.name, studyInstanceUid, [{ series: seriesInstanceUid, sop: sopInstanceUid, json: stringifyDicomJson(instance.metadata) }], false);
    } catch (e) {
      this.logger.debug(`not cached at ingest: ${(e as Error).message}`);
    }
  }

  async metadata(store: DicomStore, scope: RetrieveScope): Promise<CachedMetadata> {
    const study = scope.studyInstanceUid;
    let cached = await this.read(store.name, study);
    if (cached && this.fresh(cached)) {
      this.count('hit');
      return this.select(cached, scope, false);
    }
    if (cached && cached.completeAt === undefined && cached.instances.size > 0) {
      // Known from uploads through the gateway only: answer now, ask the upstream meanwhile.
      this.count('unconfirmed');
      this.refreshInBackground(store, study);
      return this.select(cached, scope, true);
    }
    this.count('miss');
    try {
      await this.backend.singleFlight(store.name, study, () => this.fill(store, study));
    } catch (e) {
      // Some upstreams answer series or instance metadata but not a whole study's: ask for the
      // scope itself (NotFound again if it truly is not there).
      if (e instanceof NotFound && scope.level !== 'study') return this.bypass(store, scope);
      if (e instanceof NotFound || !isBackendError(e)) throw e;
      return this.bypass(store, scope);
    }
    cached = await this.read(store.name, study);
    // The fill did not stick (Redis away, a study too large to cache) or another request's fill
    // failed: the upstream answers this one directly.
    if (!cached || !this.fresh(cached)) return this.bypass(store, scope);
    return this.select(cached, scope, false);
  }

  /**
   * Matches of a search among the studies stored through the gateway that the upstream has not
   * shown yet (unconfirmed-matches.ts); their confirmation is asked for in the background. Never
   * fails the search: without the cache, there is nothing to add.
   */
  async unconfirmedMatches(store: DicomStore, query: QidoQuery): Promise<QidoMatch[]> {
    if (!this.applies(store)) return [];
    try {
      const studies = query.studyUid !== undefined ? [query.studyUid] : await this.backend.unconfirmed(store.name, UNCONFIRMED_SEARCHED);
      const matches: QidoMatch[] = [];
      for (const study of studies) {
        const cached = await this.read(store.name, study);
        if (!cached || cached.completeAt !== undefined) continue;
        this.refreshInBackground(store, study);
        matches.push(...matchesInStudy(query, cached));
      }
      return matches;
    } catch (e) {
      this.logger.debug(`unconfirmed studies not searched: ${(e as Error).message}`);
      return [];
    }
  }

  status(): { kind: string; available: boolean; detail?: string; hits: number; misses: number; fills: number; bypassed: number } {
    return { ...this.backend.status(), ...this.stats };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }

  private count(result: 'hit' | 'unconfirmed' | 'miss' | 'bypass'): void {
    this.reads.inc({ result });
    if (result === 'hit' || result === 'unconfirmed') this.stats.hits++;
    else if (result === 'miss') this.stats.misses++;
    else this.stats.bypassed++;
  }

  private fresh(cached: CachedStudy): boolean {
    return cached.completeAt !== undefined && Date.now() - cached.completeAt <= this.config.metadataCache.maxStalenessMs;
  }

  /** The whole study from the upstream, merged into the cache (instances known from uploads stay). */
  private async fill(store: DicomStore, study: string): Promise<void> {
    this.stats.fills++;
    const entries = await store.metadata({ level: 'study', studyInstanceUid: study });
    const instances: CachedInstance[] = [];
    for await (const e of entries) instances.push({ series: e.ref.seriesInstanceUid, sop: e.ref.sopInstanceUid, json: e.json });
    await this.backend.put(store.name, study, instances, true);
  }

  private refreshInBackground(store: DicomStore, study: string): void {
    const key = `${store.name}\0${study}`;
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    void this.backend
      .singleFlight(store.name, study, () => this.fill(store, study))
      .catch(() => undefined) // not indexed upstream yet (404), or away: the next read tries again
      .finally(() => this.refreshing.delete(key));
  }

  /** The cached study, through the near copy; undefined when absent or the backend is away. */
  private async read(storeName: string, study: string): Promise<CachedStudy | undefined> {
    const key = `${storeName}\0${study}`;
    try {
      const known = this.near.get(key);
      const cached = await this.backend.get(storeName, study, known);
      this.near.delete(key);
      if (cached) {
        this.near.set(key, cached);
        if (this.near.size > NEAR_STUDIES) this.near.delete(this.near.keys().next().value!);
      }
      return cached;
    } catch {
      return undefined;
    }
  }

  /** Straight from the store, when the cache cannot help. */
  private async bypass(store: DicomStore, scope: RetrieveScope): Promise<CachedMetadata> {
    this.count('bypass');
    const entries: MetadataEntry[] = [];
    for await (const e of await store.metadata(scope)) entries.push(e);
    const instances = new Map(entries.map((e) => [e.ref.sopInstanceUid, { series: e.ref.seriesInstanceUid, sop: e.ref.sopInstanceUid, json: e.json }]));
    return { entries, contentHash: contentHash(instances), unconfirmed: false };
  }

  private select(cached: CachedStudy, scope: RetrieveScope, unconfirmed: boolean): CachedMetadata {
    const study = scope.studyInstanceUid;
    const picked = [...cached.instances.values()].filter(
      (i) => scope.level === 'study' || (i.series === scope.seriesInstanceUid && (scope.level === 'series' || i.sop === scope.sopInstanceUid)),
    );
    if (picked.length === 0) {
      throw new NotFound(
        scope.level === 'study'
          ? `Study ${study} is not stored here`
          : scope.level === 'series'
            ? `Series ${scope.seriesInstanceUid} of study ${study} is not stored here`
            : `Instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${study} is not stored here`,
      );
    }
    picked.sort((a, b) => (a.series === b.series ? a.sop.localeCompare(b.sop) : a.series.localeCompare(b.series)));
    return {
      entries: picked.map((i) => ({ ref: { studyInstanceUid: study, seriesInstanceUid: i.series, sopInstanceUid: i.sop }, json: i.json })),
      contentHash: scope.level === 'study' ? cached.contentHash : `${cached.contentHash}.${scope.level}.${scope.level === 'series' ? scope.seriesInstanceUid : scope.sopInstanceUid}`,
      unconfirmed,
    };
  }
}

/** Failures of the cache's own backend (Redis), as opposed to the store's. */
function isBackendError(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? '';
  const message = (e as Error)?.message ?? '';
  return /Redis|ReplyError|MaxRetriesPerRequest/i.test(name) || /Stream isn't writeable|Connection is closed|enableOfflineQueue/i.test(message);
}
