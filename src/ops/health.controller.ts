import { Controller, Get } from '@nestjs/common';
import { MetadataCacheService } from '../cache/metadata-cache.service';
import { StoreRegistry } from '../stores/registry';

/**
 * Liveness and readiness. Ready means the gateway can serve: every store reports its health, but
 * an unhealthy remote store does not make the gateway unready (the others still answer, and that
 * store's requests fail cleanly with 503).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly stores: StoreRegistry,
    private readonly metadataCache: MetadataCacheService,
  ) {}

  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): { status: string; stores: Record<string, string>; metadataCache: ReturnType<MetadataCacheService['status']> } {
    const stores: Record<string, string> = {};
    for (const store of this.stores.list()) stores[store.name] = store.health.status;
    // A cache that is away slows metadata down but fails nothing: shown, not a reason to be unready.
    return { status: 'ok', stores, metadataCache: this.metadataCache.status() };
  }
}
