/**
 * A store in front of any standard DICOMweb server (PS3.18): Orthanc, dcm4chee, the Azure DICOM
 * service... Everything goes through one UpstreamClient (pool, time limits, credentials, retries,
 * circuit breaker); search, retrieve and store each have their own file. Its health is the outcome
 * of its last call and the state of its circuit, refreshed by a light probe at start and
 * periodically, which never delays the start: an upstream down at start makes this store
 * unhealthy and its requests fail with 503, not the gateway.
 */
import { Logger } from '@nestjs/common';
import { DicomwebStoreConfig } from '../../config/store-config';
import { BatchItemOutcome, DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { QidoQuery, QidoResult } from '../qido-query';
import { InstanceRef, MetadataEntry, RelayedAnswer, RetrieveScope, TransferSyntaxChoice } from '../wado-types';
import { UpstreamClient } from './upstream-client';
import { UpstreamMetadata } from './upstream-metadata';
import { UpstreamRetrieve } from './upstream-retrieve';
import { UpstreamSearch } from './upstream-search';
import { UpstreamStow } from './upstream-stow';

export class DicomwebStore implements DicomStore {
  readonly kind = 'dicomweb';
  readonly name: string;
  readonly capabilities: StoreCapabilities = { stow: true, qido: true, wado: true };
  readonly client: UpstreamClient;
  private readonly searcher: UpstreamSearch;
  private readonly metadataReader: UpstreamMetadata;
  private readonly retriever: UpstreamRetrieve;
  private readonly stower: UpstreamStow;
  private readonly probeTimer?: NodeJS.Timeout;
  private readonly logger: Logger;

  constructor(config: DicomwebStoreConfig) {
    this.name = config.name;
    this.logger = new Logger(`Store ${config.name}`);
    this.client = new UpstreamClient(config);
    this.searcher = new UpstreamSearch(this.client, config.percentEncodeQuery);
    this.metadataReader = new UpstreamMetadata(this.client);
    this.retriever = new UpstreamRetrieve(this.client, this.metadataReader);
    this.stower = new UpstreamStow(this.client, config.name, config.verifyDuplicates);
    void this.probe();
    if (config.healthCheckIntervalMs > 0) {
      this.probeTimer = setInterval(() => void this.probe(), config.healthCheckIntervalMs);
      this.probeTimer.unref();
    }
  }

  store(instance: IncomingInstance): Promise<StoreOutcome> {
    return this.stower.store(instance);
  }

  /** Several instances in one STOW-RS request (see DicomStore.storeBatch, upstream-stow-batch.ts). */
  storeBatch(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    return this.stower.storeBatch(instances);
  }

  search(query: QidoQuery): Promise<QidoResult> {
    return this.searcher.search(query);
  }

  metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    return this.metadataReader.metadata(scope);
  }

  retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<RelayedAnswer> {
    return this.retriever.retrieve(scope, want);
  }

  frames(ref: InstanceRef, want: TransferSyntaxChoice, numbers: number[]): Promise<RelayedAnswer> {
    return this.retriever.frames(ref, want, numbers);
  }

  bulkdata(ref: InstanceRef, tagPath: string, want: TransferSyntaxChoice): Promise<RelayedAnswer> {
    return this.retriever.bulkdata(ref, tagPath, want);
  }

  health(): StoreHealth {
    const last = this.client.last;
    const circuit = this.client.breaker.state;
    if (!last) return { status: 'unknown', detail: 'the upstream has not been reached yet', circuit };
    const healthy = last.ok && circuit !== 'open';
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      detail: healthy ? undefined : (last.detail ?? 'the upstream is failing'),
      checkedAt: last.at.toISOString(),
      circuit,
    };
  }

  async close(): Promise<void> {
    if (this.probeTimer) clearInterval(this.probeTimer);
    await this.client.close();
  }

  private async probe(): Promise<void> {
    const before = this.client.last?.ok;
    await this.client.probe();
    const now = this.client.last?.ok;
    if (now === false && before !== false) this.logger.warn(`upstream unhealthy: ${this.client.last?.detail}`);
    if (now === true && before === false) this.logger.log('upstream healthy again');
  }
}
