/** Builds one store from its configuration: the only place that knows every kind of store. */
import { Counter } from 'prom-client';
import { RedisOptions } from 'ioredis';
import { FederatedStoreConfig, StoreConfig } from '../config/store-config';
import { DicomStore } from './dicom-store';
import { DicomwebStore } from './dicomweb/dicomweb-store';
import { FederatedStore } from './federated/federated-store';
import { InProcessStudyLocations, RedisStudyLocations } from './federated/study-locations';
import { GcpStore } from './gcp/gcp-store';
import { HealthImagingStore } from './healthimaging/healthimaging-store';
import { LocalStore } from './local/local-store';

export function createStore(config: Exclude<StoreConfig, FederatedStoreConfig>): DicomStore {
  switch (config.kind) {
    case 'local':
      return new LocalStore(config.name, config.path);
    case 'dicomweb':
      return new DicomwebStore(config);
    case 'healthimaging':
      return new HealthImagingStore(config);
    case 'gcp':
      return new GcpStore(config);
  }
}

export interface FederationContext {
  /** An already built store (never a federated one: config validation forbids nesting). */
  member(name: string): DicomStore;
  /** Where study locations are remembered; in process without it. */
  redis?: { options: RedisOptions; keyPrefix: string };
  memberFailures: Counter<'store' | 'member' | 'reason'>;
}

export function createFederatedStore(config: FederatedStoreConfig, context: FederationContext): DicomStore {
  const locations = context.redis
    ? new RedisStudyLocations(context.redis.options, `${context.redis.keyPrefix}:federated:${config.name}`, config.locationTtlMs)
    : new InProcessStudyLocations(config.locationTtlMs);
  return new FederatedStore(config, {
    members: config.members.map((name) => context.member(name)),
    locations,
    onMemberFailure: (f) => context.memberFailures.inc({ store: config.name, member: f.member, reason: f.reason }),
  });
}
