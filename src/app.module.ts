import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { GatewayConfig } from './config/gateway-config';
import { DicomwebModule } from './dicomweb/dicomweb.module';
import { DeliveriesModule } from './events/deliveries/deliveries.module';
import { SubscriptionsModule } from './events/subscriptions/subscriptions.module';
import { ForwardingModule } from './forwarding/forwarding.module';
import { OpsModule } from './ops/ops.module';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), AuthModule, AuditModule, DicomwebModule, OpsModule, ForwardingModule, SubscriptionsModule, DeliveriesModule],
    };
  }
}
