/**
 * A store in front of any standard DICOMweb server (PS3.18): Orthanc, dcm4chee, the Azure DICOM
 * service... Everything goes through one UpstreamClient (pool, time limits, credentials, retries,
 * circuit breaker); search, retrieve and store each have their own file; health comes from
 * upstream-health.ts.
 */
import { Logger } from '@nestjs/common';
import { DicomwebStoreConfig } from '../../config/store-config';
import { BatchItemOutcome, DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { QidoQuery, QidoResult } from '../qido-query';
import { InstanceRef, MetadataEntry, RelayedAnswer, RetrieveScope, TransferSyntaxChoice } from '../wado-types';
import { headerAuthorizer } from './request-authorizer';
import { UpstreamClient } from './upstream-client';
import { UpstreamHealth } from './upstream-health';
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
  private readonly healthWatch: UpstreamHealth;

  constructor(config: DicomwebStoreConfig) {
    this.name = config.name;
    this.client = new UpstreamClient({ ...config, authorizer: headerAuthorizer(config.auth) });
    this.searcher = new UpstreamSearch(this.client, config.percentEncodeQuery);
    this.metadataReader = new UpstreamMetadata(this.client);
    this.retriever = new UpstreamRetrieve(this.client, this.metadataReader);
    this.stower = new UpstreamStow(this.client, config.name, config.verifyDuplicates);
    this.healthWatch = new UpstreamHealth(this.client, config.healthCheckIntervalMs, new Logger(`Store ${config.name}`));
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
    return this.healthWatch.current();
  }

  async close(): Promise<void> {
    this.healthWatch.stop();
    await this.client.close();
  }
}
