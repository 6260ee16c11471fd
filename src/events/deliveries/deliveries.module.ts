import { Module } from '@nestjs/common';
import { MetricsModule } from '../../metrics/metrics.module';
import { EventsDatabaseModule } from '../events-database.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { DeliveriesController } from './deliveries.controller';
import { DeliveryService } from './delivery.service';

/** Signed, retried webhook deliveries (delivery.service.ts) and their operator API. */
@Module({
  imports: [EventsDatabaseModule, SubscriptionsModule, MetricsModule],
  providers: [DeliveryService],
  controllers: [DeliveriesController],
  exports: [DeliveryService],
})
export class DeliveriesModule {}
