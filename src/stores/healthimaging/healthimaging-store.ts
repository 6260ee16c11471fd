/**
 * A store in front of an AWS HealthImaging datastore, through its SigV4-signed DICOMweb endpoints
 * (dicom-medical-imaging.{region}.amazonaws.com/datastore/{id}), with what HealthImaging lacks
 * composed at the gateway so a client gets the whole standard API:
 * - QIDO: the keys it does not match on are matched at the gateway, or refused (400) when its
 *   results cannot carry them; pages beyond its 1000 results per request are asked in several;
 *   includefield lists over its 50 become includefield=all (healthimaging-search-keys.ts).
 * - WADO: instance, instance and series metadata, frames and bulk data are relayed; study and
 *   series retrieve are composed of instance retrieves (InstanceList, dicomweb/wado), study
 *   metadata of its series' (composed-scope.ts); frames are asked and labelled in its dialect
 *   (healthimaging-accept.ts), so HTJ2K frames reach a client that accepts image/jphc as such.
 * - STOW: through its DICOMweb STOW (batches split below 1 GB per request), or, with
 *   `stow: import-job` (and for single instances over the STOW limit), through S3 and a DICOM
 *   import job (healthimaging-import.ts).
 * - Throttling (429) is retried with backoff for every request; access denied is a 502 with
 *   HealthImaging's reason; refusals and conflicts are per instance.
 */
import { HealthImagingStoreConfig } from '../../config/store-config';
import { BatchItemOutcome, IncomingInstance, StoreOutcome } from '../dicom-store';
import { instancesInScope, studyMetadataBySeries } from '../composed-scope';
import { InstanceList, MetadataEntry, RelayedAnswer, RetrieveScope, TransferSyntaxChoice } from '../wado-types';
import { RelayingStore } from '../dicomweb/relaying-store';
import { UpstreamClient } from '../dicomweb/upstream-client';
import { UpstreamMetadata } from '../dicomweb/upstream-metadata';
import { UpstreamRetrieve, WadoDialect } from '../dicomweb/upstream-retrieve';
import { UpstreamSearch } from '../dicomweb/upstream-search';
import { UpstreamStow } from '../dicomweb/upstream-stow';
import { stowRequestBytes } from '../dicomweb/stow-protocol';
import { StorageFull } from '../store-errors';
import { awsCredentials } from './aws-credentials';
import { framesAccept, framesRelabel, instanceAccept } from './healthimaging-accept';
import { HealthImagingImport } from './healthimaging-import';
import { healthImagingSupportsKey } from './healthimaging-search-keys';
import { compareHeldContent } from './held-instance-comparison';
import { SigV4Authorizer } from './sigv4-authorizer';

const DIALECT: WadoDialect = {
  instanceAccept,
  framesAccept,
  framesRelabel,
  bulkAccept: () => 'application/octet-stream, multipart/related; type=application/octet-stream',
};

export class HealthImagingStore extends RelayingStore {
  readonly kind = 'healthimaging';
  /** Instances of one STOW request in flight: hides the round trip of DICOMweb STOW, and lets the
   *  import path put a request's instances into few jobs. */
  readonly stowConcurrency: number;
  private readonly importer?: HealthImagingImport;

  constructor(private readonly config: HealthImagingStoreConfig) {
    const credentials = awsCredentials(config.credentials);
    const client = new UpstreamClient({
      ...config,
      url: `${config.endpoints.dicomweb}/datastore/${config.datastoreId}`,
      authorizer: new SigV4Authorizer(config.region, credentials),
      retryThrottled: true,
    });
    const metadataReader = new UpstreamMetadata(client);
    const stower = new UpstreamStow(client, config.name, {
      verifyDuplicates: config.verifyDuplicates,
      maxRequestBytes: config.maxStowRequestBytes,
      storedBytesAccept: 'application/dicom; transfer-syntax=*',
      // HealthImaging transcodes what it stores: an identical re-upload differs in its bytes.
      compareContent: (instance) => compareHeldContent(client, metadataReader, instance),
    });
    super({
      name: config.name,
      client,
      searcher: new UpstreamSearch(client, {
        percentEncode: true,
        supportsKey: healthImagingSupportsKey,
        maxPageSize: config.qidoLimits.maxLimit,
        maxOffset: config.qidoLimits.maxOffset,
        maxIncludeFields: config.qidoLimits.maxIncludeFields,
        includeAllNative: true,
        describe: `HealthImaging store "${config.name}"`,
      }),
      metadataReader,
      retriever: new UpstreamRetrieve(client, metadataReader, DIALECT),
      stower,
      healthCheckIntervalMs: config.healthCheckIntervalMs,
      renders: false,
    });
    this.stowConcurrency = config.stow === 'import-job' ? Math.min(64, config.importJob?.maxInstancesPerJob ?? 64) : 4;
    if (config.importJob) this.importer = new HealthImagingImport(config, config.importJob, credentials, stower);
  }

  override store(instance: IncomingInstance): Promise<StoreOutcome> {
    if (this.viaImport(instance)) return this.importer!.store(instance);
    if (this.tooLarge(instance)) return Promise.reject(this.tooLargeError(instance));
    return this.stower.store(instance);
  }

  /** A batch split between DICOMweb STOW and the import path, each outcome in its place. */
  override async storeBatch(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const outcomes: BatchItemOutcome[] = new Array<BatchItemOutcome>(instances.length);
    const direct: number[] = [];
    const imported: number[] = [];
    instances.forEach((instance, i) => {
      if (this.viaImport(instance)) imported.push(i);
      else if (this.tooLarge(instance)) outcomes[i] = { ok: false, error: this.tooLargeError(instance) };
      else direct.push(i);
    });
    const [stowed, viaJob] = await Promise.all([
      direct.length > 0 ? this.stower.storeBatch(direct.map((i) => instances[i])) : Promise.resolve([]),
      imported.length > 0 ? this.importer!.storeBatch(imported.map((i) => instances[i])) : Promise.resolve([]),
    ]);
    direct.forEach((index, k) => (outcomes[index] = stowed[k]));
    imported.forEach((index, k) => (outcomes[index] = viaJob[k]));
    return outcomes;
  }

  /** Study metadata is composed of its series' (HealthImaging has none at the study level). */
  override async metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    if (scope.level !== 'study') return this.metadataReader.metadata(scope);
    const entries = await studyMetadataBySeries(this, scope.studyInstanceUid);
    return (async function* () {
      yield* entries;
    })();
  }

  /** Study and series retrieve are composed of instance retrieves (none at those levels). */
  override async retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<RelayedAnswer | InstanceList> {
    if (scope.level === 'instance') return this.retriever.retrieve(scope, want);
    return { kind: 'instance-list', instances: await instancesInScope(this, scope) };
  }

  override async close(): Promise<void> {
    this.importer?.close();
    await super.close();
  }

  private viaImport(instance: IncomingInstance): boolean {
    return this.importer !== undefined && (this.config.stow === 'import-job' || this.tooLarge(instance));
  }

  private tooLarge(instance: IncomingInstance): boolean {
    return stowRequestBytes([instance]) > this.config.maxStowRequestBytes;
  }

  private tooLargeError(instance: IncomingInstance): StorageFull {
    return new StorageFull(
      `instance ${instance.identity.sopInstanceUid} (${instance.staged.size} bytes) is larger than HealthImaging store "${this.name}" ` +
        `takes in one STOW request (${this.config.maxStowRequestBytes} bytes); configure its importJob to store it through S3`,
    );
  }
}
