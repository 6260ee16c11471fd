import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { StoreRegistry } from './registry';

/** The configured stores, by name (registry.ts). */
@Module({
  imports: [MetricsModule],
  providers: [StoreRegistry],
  exports: [StoreRegistry],
})
export class StoresModule {}
