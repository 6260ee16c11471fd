import { Module } from '@nestjs/common';
import { EventsDatabase } from '../events-database';
import { EVENTS_DB, EventsDatabaseModule } from '../events-database.module';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionStore } from './subscription-store';

/** Webhook subscriptions: the store (used by the event dispatcher and the delivery worker) and
 *  their /api routes. */
@Module({
  imports: [EventsDatabaseModule],
  providers: [{ provide: SubscriptionStore, inject: [EVENTS_DB], useFactory: (events: EventsDatabase) => new SubscriptionStore(events) }],
  controllers: [SubscriptionsController],
  exports: [SubscriptionStore],
})
export class SubscriptionsModule {}
