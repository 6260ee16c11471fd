import { Controller, Get } from '@nestjs/common';
import { StoreRegistry } from '../stores/registry';

/**
 * Liveness and readiness. Ready means the gateway can serve: every store reports its health, but
 * an unhealthy remote store does not make the gateway unready (the others still answer, and that
 * store's requests fail cleanly with 503).
 */
@Controller('health')
export class HealthController {
  constructor(private readonly stores: StoreRegistry) {}

  @Get('live')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): { status: string; stores: Record<string, string> } {
    const stores: Record<string, string> = {};
    for (const store of this.stores.list()) stores[store.name] = store.health.status;
    return { status: 'ok', stores };
  }
}
