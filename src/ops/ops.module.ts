import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsController } from './metrics.controller';
import { StoresModule } from '../stores/stores.module';
import { HealthController } from './health.controller';
import { HttpMetricsHooks } from './http-metrics.hooks';
import { StoreMetrics } from './store-metrics';
import { EventsDatabaseModule } from '../events/events-database.module';
import { SecurityDatabaseModule } from '../auth/security-database';
import { StoresController } from './stores.controller';
import { DocsController } from './docs.controller';

@Module({
  imports: [StoresModule, CacheModule, MetricsModule, EventsDatabaseModule, SecurityDatabaseModule],
  controllers: [HealthController, StoresController, MetricsController, DocsController],
  providers: [HttpMetricsHooks, StoreMetrics],
})
export class OpsModule {}
