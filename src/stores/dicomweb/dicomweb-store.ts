/**
 * A store in front of any standard DICOMweb server (PS3.18): Orthanc, dcm4chee, the Azure DICOM
 * service... Everything goes through one UpstreamClient (pool, time limits, credentials, retries,
 * circuit breaker); search, retrieve and store each have their own file (relaying-store.ts).
 */
import { DicomwebStoreConfig } from '../../config/store-config';
import { headerAuthorizer } from './request-authorizer';
import { RelayingStore } from './relaying-store';
import { UpstreamClient } from './upstream-client';
import { UpstreamMetadata } from './upstream-metadata';
import { UpstreamRetrieve } from './upstream-retrieve';
import { UpstreamSearch } from './upstream-search';
import { UpstreamStow } from './upstream-stow';

export class DicomwebStore extends RelayingStore {
  readonly kind = 'dicomweb';

  constructor(config: DicomwebStoreConfig) {
    const client = new UpstreamClient({ ...config, authorizer: headerAuthorizer(config.auth) });
    const metadataReader = new UpstreamMetadata(client);
    super({
      name: config.name,
      client,
      searcher: new UpstreamSearch(client, config.percentEncodeQuery),
      metadataReader,
      retriever: new UpstreamRetrieve(client, metadataReader),
      stower: new UpstreamStow(client, config.name, config.verifyDuplicates),
      healthCheckIntervalMs: config.healthCheckIntervalMs,
      renders: true,
    });
  }
}
