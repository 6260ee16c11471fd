import { Module } from '@nestjs/common';
import { ForwardingModule } from '../forwarding/forwarding.module';
import { StoresModule } from '../stores/stores.module';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { EventsDatabaseModule } from './events-database.module';
import { StudyEventsController } from './study-events.controller';
import { StudyEventsService } from './study-events.service';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { TokensModule } from './tokens/tokens.module';

/** Study lifecycle and its events to subscribers (study-events.service.ts). */
@Module({
  imports: [EventsDatabaseModule, StoresModule, SubscriptionsModule, DeliveriesModule, TokensModule, ForwardingModule],
  controllers: [StudyEventsController],
  providers: [StudyEventsService],
  exports: [StudyEventsService],
})
export class EventsModule {}
