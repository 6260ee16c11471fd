import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SECURITY_DB } from '../auth/security-database';
import { MetadataCacheService } from '../cache/metadata-cache.service';
import { ComponentDatabase } from '../common/component-database';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { EventsDatabase } from '../events/events-database';
import { EVENTS_DB } from '../events/events-database.module';
import { LocalStore } from '../stores/local/local-store';
import { StoreRegistry } from '../stores/registry';
import { Check, diskCheck, sqliteCheck } from './readiness';

/**
 * Liveness (the process answers) and readiness (it can serve: readiness.ts). Ready answers 200,
 * not ready 503, both with every check and why.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly stores: StoreRegistry,
    private readonly metadataCache: MetadataCacheService,
    @Inject(EVENTS_DB) private readonly events: EventsDatabase,
    @Inject(SECURITY_DB) private readonly security: ComponentDatabase,
  ) {}

  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const sqlite: Record<string, Check> = { 'events.sqlite': sqliteCheck(this.events.db), 'security.sqlite': sqliteCheck(this.security.db) };
    const stores: Record<string, string> = {};
    for (const summary of this.stores.list()) {
      stores[summary.name] = summary.health.status;
      const store = this.stores.get(summary.name);
      if (store instanceof LocalStore) sqlite[`store ${summary.name}`] = sqliteCheck(store.index.db);
    }
    const disk = await diskCheck(this.config.dataDir, this.config.security.server.minFreeDiskBytes);
    const cache = this.metadataCache.status();
    const ready = disk.ok && Object.values(sqlite).every((c) => c.ok);
    if (!ready) reply.status(503);
    return {
      status: ready ? 'ok' : 'unavailable',
      checks: { sqlite, disk, redis: this.config.redisUrl ? { ok: cache.available, detail: cache.detail } : { ok: true, detail: 'not configured' } },
      stores,
      // A cache that is away slows metadata down but fails nothing: shown, not a reason to be unready.
      metadataCache: cache,
    };
  }
}
