import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { DicomStore } from './dicom-store';
import { LocalStore } from './local/local-store';
import { DEFAULT_STORE } from './store-tokens';

/** Builds the configured stores. For now: the embedded store under DATA_DIR, as the default. */
@Module({
  providers: [
    {
      provide: DEFAULT_STORE,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig): DicomStore => new LocalStore('default', join(config.dataDir, 'stores', 'default')),
    },
  ],
  exports: [DEFAULT_STORE],
})
export class StoresModule implements OnApplicationShutdown {
  constructor(@Inject(DEFAULT_STORE) private readonly store: DicomStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
