/**
 * DATA_DIR/security.sqlite: the API keys and the audit trail, each with its own tables and
 * migrations. Apart from events.sqlite, since the audit trail grows with every request.
 */
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ComponentDatabase } from '../common/component-database';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';

export const SECURITY_DB = Symbol('SECURITY_DB');

export function openSecurityDatabase(dataDir: string): ComponentDatabase {
  mkdirSync(dataDir, { recursive: true });
  return new ComponentDatabase(join(dataDir, 'security.sqlite'), 'security_migrations', 'security.sqlite');
}

@Module({
  providers: [{ provide: SECURITY_DB, inject: [GATEWAY_CONFIG], useFactory: (config: GatewayConfig) => openSecurityDatabase(config.dataDir) }],
  exports: [SECURITY_DB],
})
export class SecurityDatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(SECURITY_DB) private readonly db: ComponentDatabase) {}

  onApplicationShutdown(): void {
    this.db.close();
  }
}
