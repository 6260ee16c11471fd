import { Module } from '@nestjs/common';
import { StoresModule } from '../stores/stores.module';
import { HealthController } from './health.controller';
import { StoresController } from './stores.controller';

@Module({ imports: [StoresModule], controllers: [HealthController, StoresController] })
export class OpsModule {}
