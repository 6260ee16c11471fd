/**
 * Authentication of every route (auth.guard.ts, a global guard), API keys and their admin routes.
 * The JWT authenticator exists only when an identity provider is configured (auth.jwt).
 */
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ComponentDatabase } from '../common/component-database';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { ApiKeys } from './api-keys';
import { ApiKeysController } from './api-keys.controller';
import { AuthGuard, JWT_AUTHENTICATOR } from './auth.guard';
import { JwtAuthenticator } from './jwt-authenticator';
import { RateLimitGuard } from './rate-limits';
import { SECURITY_DB, SecurityDatabaseModule } from './security-database';

@Module({
  imports: [SecurityDatabaseModule],
  controllers: [ApiKeysController],
  providers: [
    {
      provide: ApiKeys,
      inject: [SECURITY_DB, GATEWAY_CONFIG],
      useFactory: (db: ComponentDatabase, config: GatewayConfig) => new ApiKeys(db, config.security.auth.scopePrefix),
    },
    {
      provide: JWT_AUTHENTICATOR,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => {
        const auth = config.security.auth;
        return auth.jwt ? new JwtAuthenticator(auth.jwt, auth.scopePrefix) : undefined;
      },
    },
    { provide: APP_GUARD, useClass: AuthGuard },
    // After AuthGuard: limits are per authenticated client.
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [ApiKeys, SecurityDatabaseModule],
})
export class AuthModule {}
