/** The audit trail: the log in security.sqlite, the hooks that fill it, GET /api/audit. */
import { BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { SecurityDatabaseModule, SECURITY_DB } from '../auth/security-database';
import { ComponentDatabase } from '../common/component-database';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { AuditController } from './audit.controller';
import { AuditHooks } from './audit-hooks';
import { AuditLog } from './audit-log';

@Module({
  imports: [SecurityDatabaseModule],
  controllers: [AuditController],
  providers: [
    { provide: AuditLog, inject: [SECURITY_DB, GATEWAY_CONFIG], useFactory: (db: ComponentDatabase, config: GatewayConfig) => new AuditLog(db, config.security.audit.jsonLinesFile) },
    AuditHooks,
  ],
  exports: [AuditLog],
})
export class AuditModule implements BeforeApplicationShutdown {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  /** Before any module closes its databases (security.sqlite among them). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.audit.flushNow();
  }
}
