import { Module } from '@nestjs/common';
import { MetadataCacheService } from './metadata-cache.service';

/** The metadata cache (metadata-cache.service.ts): one instance for the whole gateway. */
@Module({ providers: [MetadataCacheService], exports: [MetadataCacheService] })
export class CacheModule {}
