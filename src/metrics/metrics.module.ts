import { Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DicomwebMetrics } from './dicomweb-metrics';

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
    { provide: DicomwebMetrics, inject: [METRICS], useFactory: (registry: Registry) => new DicomwebMetrics(registry) },
  ],
  exports: [METRICS, DicomwebMetrics],
})
export class MetricsModule {}
