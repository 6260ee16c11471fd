/**
 * Metrics of the stores, read from their health when scraped: healthy or not, the circuit
 * breaker's state, and the failed calls to each upstream by kind (unavailable, timeout,
 * throttled, error, refused credentials).
 */
import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRICS } from '../metrics/metrics.module';
import { StoreRegistry } from '../stores/registry';

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;

@Injectable()
export class StoreMetrics {
  constructor(@Inject(METRICS) registry: Registry, stores: StoreRegistry) {
    new Gauge({
      name: 'dicomweb_gateway_store_healthy',
      help: '1 while a store reports itself healthy (a remote store: its last call and probe succeeded), else 0',
      labelNames: ['store', 'kind'],
      registers: [registry],
      collect() {
        for (const s of stores.list()) this.set({ store: s.name, kind: s.kind }, s.health.status === 'unhealthy' ? 0 : 1);
      },
    });
    new Gauge({
      name: 'dicomweb_gateway_upstream_circuit_state',
      help: 'Circuit breaker of a remote store: 0 closed, 1 half-open (one trial call), 2 open (calls refused at once)',
      labelNames: ['store'],
      registers: [registry],
      collect() {
        for (const s of stores.list()) if (s.health.circuit) this.set({ store: s.name }, CIRCUIT[s.health.circuit]);
      },
    });
    const seen = new Map<string, number>();
    new Counter({
      name: 'dicomweb_gateway_upstream_errors_total',
      help: 'Failed calls to the upstream of a remote store, by kind (unavailable, timeout, throttled, error, refused)',
      labelNames: ['store', 'kind'],
      registers: [registry],
      collect() {
        for (const s of stores.list()) {
          for (const [kind, count] of Object.entries(s.health.failures ?? {})) {
            const key = `${s.name}\u0000${kind}`;
            const delta = count - (seen.get(key) ?? 0);
            seen.set(key, count);
            // Touched with 0 too, so every series is there from the first scrape.
            this.inc({ store: s.name, kind }, Math.max(0, delta));
          }
        }
      },
    });
  }
}
