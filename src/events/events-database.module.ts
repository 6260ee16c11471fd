import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { EventsDatabase } from './events-database';

export const EVENTS_DB = Symbol('EVENTS_DB');

/** DATA_DIR/events.sqlite, shared by the study tracker, the subscriptions and the deliveries. */
@Module({
  providers: [
    {
      provide: EVENTS_DB,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig): EventsDatabase => {
        mkdirSync(config.dataDir, { recursive: true });
        return new EventsDatabase(join(config.dataDir, 'events.sqlite'));
      },
    },
  ],
  exports: [EVENTS_DB],
})
export class EventsDatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(EVENTS_DB) private readonly events: EventsDatabase) {}

  onApplicationShutdown(): void {
    this.events.close();
  }
}
