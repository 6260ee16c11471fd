/**
 * What every store in front of a remote DICOMweb service has in common (Orthanc and other
 * PS3.18 servers, HealthImaging, Google Cloud Healthcare): one UpstreamClient, and the search,
 * metadata, retrieve and store parts built on it, each relaying its upstream's answers. A kind
 * differs by how its parts are configured (credentials, query rules, paging, dialect) and by what
 * it overrides (HealthImaging composes study retrieve and metadata, and has an import path).
 */
import { Logger } from '@nestjs/common';
import { BatchItemOutcome, DicomStore, IncomingInstance, StoreCapabilities, StoreHealth, StoreOutcome } from '../dicom-store';
import { QidoQuery, QidoResult } from '../qido-query';
import { InstanceList, InstanceRef, MetadataEntry, RelayedAnswer, RenderRequest, RetrieveScope, TransferSyntaxChoice } from '../wado-types';
import { UpstreamClient } from './upstream-client';
import { UpstreamHealth } from './upstream-health';
import { UpstreamMetadata } from './upstream-metadata';
import { renderedThroughUpstream } from './upstream-rendered';
import { UpstreamRetrieve } from './upstream-retrieve';
import { UpstreamSearch } from './upstream-search';
import { UpstreamStow } from './upstream-stow';

export interface RelayingParts {
  name: string;
  client: UpstreamClient;
  searcher: UpstreamSearch;
  metadataReader: UpstreamMetadata;
  retriever: UpstreamRetrieve;
  stower: UpstreamStow;
  healthCheckIntervalMs: number;
  /** The upstream has the rendered resources (PS3.18 10.4.1.1.3). */
  renders: boolean;
}

export abstract class RelayingStore implements DicomStore {
  abstract readonly kind: string;
  readonly name: string;
  readonly capabilities: StoreCapabilities = { stow: true, qido: true, wado: true };
  readonly client: UpstreamClient;
  protected readonly searcher: UpstreamSearch;
  protected readonly metadataReader: UpstreamMetadata;
  protected readonly retriever: UpstreamRetrieve;
  protected readonly stower: UpstreamStow;
  private readonly healthWatch: UpstreamHealth;
  readonly rendered?: (ref: InstanceRef, frame: number | undefined, render: RenderRequest) => Promise<RelayedAnswer>;

  constructor(parts: RelayingParts) {
    this.name = parts.name;
    this.client = parts.client;
    this.searcher = parts.searcher;
    this.metadataReader = parts.metadataReader;
    this.retriever = parts.retriever;
    this.stower = parts.stower;
    this.healthWatch = new UpstreamHealth(parts.client, parts.healthCheckIntervalMs, new Logger(`Store ${parts.name}`));
    if (parts.renders) this.rendered = (ref, frame, render) => renderedThroughUpstream(this.client, ref, frame, render);
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

  retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<RelayedAnswer | InstanceList> {
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
