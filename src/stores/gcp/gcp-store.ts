/**
 * A store in front of a Google Cloud Healthcare DICOM store, through its DICOMweb paths
 * (`{endpoint}/v1/projects/{p}/locations/{l}/datasets/{d}/dicomStores/{s}/dicomWeb`) with OAuth2
 * tokens from google-auth-library (google-token-authorizer.ts). Google implements the standard
 * retrieve resources, so these are relayed; what differs is handled here:
 * - QIDO: Google's per-request maxima (5000 studies and series, 50000 instances) paged above it;
 *   keys it does not search on, and wildcard values, matched at the gateway or refused with 400;
 * - STOW: a conflicting duplicate is Google's 409 with FailureDetail, read as a conflict
 *   (gcp-stow-failures.ts), so no duplicate check is needed before storing (verifyDuplicates off
 *   by default);
 * - 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE are retried with backoff for every request; a 401
 *   is retried once with a new token; Google's JSON error objects become the reasons.
 */
import { GcpStoreConfig } from '../../config/store-config';
import { RelayingStore } from '../dicomweb/relaying-store';
import { UpstreamClient } from '../dicomweb/upstream-client';
import { UpstreamMetadata } from '../dicomweb/upstream-metadata';
import { UpstreamRetrieve } from '../dicomweb/upstream-retrieve';
import { UpstreamSearch } from '../dicomweb/upstream-search';
import { UpstreamStow } from '../dicomweb/upstream-stow';
import { gcpSupportsKey } from './gcp-search-keys';
import { interpretGoogleFailure } from './gcp-stow-failures';
import { GoogleTokenAuthorizer } from './google-token-authorizer';

export function gcpDicomWebRoot(config: GcpStoreConfig): string {
  return `${config.endpoint}/v1/projects/${config.project}/locations/${config.location}/datasets/${config.dataset}/dicomStores/${config.dicomStore}/dicomWeb`;
}

export class GcpStore extends RelayingStore {
  readonly kind = 'gcp';
  /** Instances of one STOW request in flight, hiding Google's round trip. */
  readonly stowConcurrency = 4;

  constructor(config: GcpStoreConfig) {
    const client = new UpstreamClient({ ...config, url: gcpDicomWebRoot(config), authorizer: new GoogleTokenAuthorizer(config), retryThrottled: true });
    const metadataReader = new UpstreamMetadata(client);
    super({
      name: config.name,
      client,
      searcher: new UpstreamSearch(client, {
        percentEncode: true,
        supportsKey: gcpSupportsKey,
        wildcards: false,
        maxPageSize: config.qidoMaxLimits,
        includeAllNative: true,
        describe: `Google Cloud Healthcare store "${config.name}"`,
      }),
      metadataReader,
      retriever: new UpstreamRetrieve(client, metadataReader),
      stower: new UpstreamStow(client, config.name, { verifyDuplicates: config.verifyDuplicates, interpretFailure: interpretGoogleFailure }),
      healthCheckIntervalMs: config.healthCheckIntervalMs,
      renders: true,
    });
  }
}
