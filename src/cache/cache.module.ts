import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { MetadataCacheService } from './metadata-cache.service';

/** The metadata cache (metadata-cache.service.ts): one instance for the whole gateway. */
@Module({ imports: [MetricsModule], providers: [MetadataCacheService], exports: [MetadataCacheService] })
export class CacheModule {}
