import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { StoresModule } from '../stores/stores.module';
import { HealthController } from './health.controller';
import { StoresController } from './stores.controller';

@Module({ imports: [StoresModule, CacheModule], controllers: [HealthController, StoresController] })
export class OpsModule {}
