import { Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** The Prometheus registry of this gateway (one per application, so that tests can run several). */
export const METRICS = Symbol('METRICS');

@Module({
  providers: [
    {
      provide: METRICS,
      useFactory: (): Registry => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry, prefix: 'dicomweb_gateway_' });
        return registry;
      },
    },
  ],
  exports: [METRICS],
})
export class MetricsModule {}
