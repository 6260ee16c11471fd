/**
 * The configured stores, built once at start and looked up by name for every request: the
 * default store answers at /dicomweb, every store at /stores/{name}/dicomweb. A store that cannot
 * be opened stops the start with its name in the message; a remote store whose upstream is down
 * does not (it reports itself unhealthy and its requests fail with 503).
 */
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { StoreConfig } from '../config/store-config';
import { DicomStore, StoreCapabilities, StoreHealth } from './dicom-store';
import { Counter, Registry } from 'prom-client';
import { METRICS } from '../metrics/metrics.module';
import { redisOptions } from '../config/redis-options';
import { createFederatedStore, createStore } from './store-factory';
import { UnknownStore } from './store-errors';

export interface StoreSummary {
  name: string;
  kind: string;
  default: boolean;
  capabilities: StoreCapabilities;
  health: StoreHealth;
}

export class StoreSetupFailed extends Error {
  constructor(config: StoreConfig, cause: unknown) {
    super(`store "${config.name}" (${config.kind}) cannot be set up: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StoreSetupFailed';
  }
}

@Injectable()
export class StoreRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('Stores');
  private readonly stores = new Map<string, DicomStore>();
  readonly defaultName: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(METRICS) metrics: Registry) {
    this.defaultName = config.defaultStore;
    const memberFailures = new Counter({
      name: 'dicomweb_gateway_federated_member_failures_total',
      help: 'Members of a federated store left out of an answer, by store, member and reason (timeout, error)',
      labelNames: ['store', 'member', 'reason'],
      registers: [metrics],
    });
    // Federated stores last: they are views over the others, built first.
    const ordered = [...config.stores.filter((s) => s.kind !== 'federated'), ...config.stores.filter((s) => s.kind === 'federated')];
    for (const storeConfig of ordered) {
      try {
        const store =
          storeConfig.kind === 'federated'
            ? createFederatedStore(storeConfig, {
                member: (name) => this.get(name),
                redis: config.redisUrl ? { options: redisOptions(config.redisUrl), keyPrefix: config.redisKeyPrefix } : undefined,
                memberFailures,
              })
            : createStore(storeConfig);
        this.stores.set(storeConfig.name, store);
      } catch (e) {
        // Those already open must not keep files or timers alive after a failed start.
        void this.closeAll();
        throw new StoreSetupFailed(storeConfig, e);
      }
    }
    if (!this.stores.has(this.defaultName)) throw new Error(`the default store "${this.defaultName}" is not configured`);
    this.logger.log(`stores: ${[...this.stores.values()].map((s) => `${s.name} (${s.kind})${s.name === this.defaultName ? ' [default]' : ''}`).join(', ')}`);
  }

  /** The store of that name, or the default one; UnknownStore (404) otherwise. */
  get(name?: string): DicomStore {
    const store = this.stores.get(name ?? this.defaultName);
    if (!store) {
      // The name comes from the URL: quoted only once known to be harmless.
      const shown = name !== undefined && /^[a-z0-9-]{1,63}$/.test(name) ? `"${name}"` : 'of that name';
      throw new UnknownStore(`no store ${shown} is configured here; GET /api/stores lists the stores`);
    }
    return store;
  }

  list(): StoreSummary[] {
    return [...this.stores.values()].map((store) => ({
      name: store.name,
      kind: store.kind,
      default: store.name === this.defaultName,
      capabilities: store.capabilities,
      health: store.health(),
    }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  private async closeAll(): Promise<void> {
    const open = [...this.stores.values()];
    this.stores.clear();
    await Promise.all(open.map((s) => s.close().catch((e) => this.logger.error(`closing store ${s.name}: ${(e as Error).message}`))));
  }
}
