/**
 * The gateway's own SQLite file for study events (DATA_DIR/events.sqlite): study lifecycle,
 * subscriptions, deliveries, each component with its own tables and migrations.
 */
import { ComponentDatabase } from '../common/component-database';

export type { Migration } from '../common/component-database';

export class EventsDatabase extends ComponentDatabase {
  constructor(path: string) {
    // A subscription created or an event recorded survives power loss once acknowledged.
    super(path, 'events_migrations', 'events.sqlite');
  }
}
