import { Logger, Module } from '@nestjs/common';
import { join } from 'node:path';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { InstanceReceiver } from './instance-receiver';
import { StagingArea } from './staging-area';

@Module({
  providers: [
    {
      provide: StagingArea,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => {
        const area = new StagingArea(join(config.dataDir, 'staging'));
        const swept = area.sweep();
        if (swept > 0) new Logger('Ingest').warn(`removed ${swept} unfinished upload(s) left by an earlier stop`);
        return area;
      },
    },
    { provide: InstanceReceiver, inject: [StagingArea], useFactory: (area: StagingArea) => new InstanceReceiver(area) },
  ],
  exports: [InstanceReceiver],
})
export class IngestModule {}
