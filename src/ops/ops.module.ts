import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsController } from './metrics.controller';
import { StoresModule } from '../stores/stores.module';
import { HealthController } from './health.controller';
import { StoresController } from './stores.controller';

@Module({ imports: [StoresModule, CacheModule, MetricsModule], controllers: [HealthController, StoresController, MetricsController] })
export class OpsModule {}
