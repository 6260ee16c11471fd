import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { StoresModule } from '../stores/stores.module';
import { ForwardingController } from './forwarding.controller';
import { ForwardingService } from './forwarding.service';

/** Edge store-and-forward (forwarding.service.ts); idle unless the config has an `edge` section. */
@Module({ imports: [StoresModule, MetricsModule], providers: [ForwardingService], controllers: [ForwardingController], exports: [ForwardingService] })
export class ForwardingModule {}
