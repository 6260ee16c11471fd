/**
 * Prometheus gauges of edge forwarding, read from the outbox at scrape time (the same figures as
 * GET /api/forwarding), so that an operator can alert on a backlog that grows, parked instances
 * or a destination that stays paused.
 */
import { Gauge, Registry } from 'prom-client';
import type { ForwardingService } from './forwarding.service';

export function registerForwardingMetrics(registry: Registry, forwarding: ForwardingService): void {
  const gauge = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, value: number) => void) => void) =>
    new Gauge({
      name: `dicomweb_gateway_forward_${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read((labels, value) => this.set(labels, value));
      },
    });
  const each = (read: (d: ReturnType<ForwardingService['status']>['destinations'][number], set: (labels: Record<string, string>, value: number) => void) => void) =>
    (set: (labels: Record<string, string>, value: number) => void) => {
      for (const d of forwarding.status().destinations) read(d, set);
    };
  gauge('pending_instances', 'Instances waiting to be forwarded, by destination and priority', ['destination', 'priority'], each((d, set) => {
    for (const p of d.pending) set({ destination: d.destination, priority: p.priority }, p.instances);
  }));
  gauge('pending_bytes', 'Bytes waiting to be forwarded, by destination and priority', ['destination', 'priority'], each((d, set) => {
    for (const p of d.pending) set({ destination: d.destination, priority: p.priority }, p.bytes);
  }));
  gauge('oldest_pending_seconds', 'Age of the oldest instance waiting, by destination', ['destination'], each((d, set) => set({ destination: d.destination }, d.oldestPendingAgeSeconds ?? 0)));
  gauge('oldest_pending_by_priority_seconds', 'Age of the oldest instance waiting, by destination and priority', ['destination', 'priority'], each((d, set) => {
    for (const p of d.pending) set({ destination: d.destination, priority: p.priority }, p.oldestAgeSeconds);
  }));
  gauge('in_flight_instances', 'Instances being sent now, by destination', ['destination'], each((d, set) => set({ destination: d.destination }, d.inFlight)));
  gauge('failed_instances', 'Instances parked as failed (retryable by an operator), by destination', ['destination'], each((d, set) => set({ destination: d.destination }, d.failed)));
  gauge('destination_paused', '1 while a destination is unreachable and forwarding to it is paused', ['destination'], each((d, set) => set({ destination: d.destination }, d.pausedUntil ? 1 : 0)));
  gauge('redis_connected', '1 while the forwarding queues reach Redis', [], (set) => set({}, forwarding.status().redis === 'connected' ? 1 : 0));
}
