/**
 * Metrics of the DICOMweb traffic itself, shared by the handlers that produce them: requests by
 * route family and status with their durations (a hook on every request), STOW bytes and
 * instances by store and outcome, QIDO result sizes by level. In the gateway's one registry.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export class DicomwebMetrics {
  readonly requests: Counter<'family' | 'method' | 'status'>;
  readonly durations: Histogram<'family' | 'status'>;
  readonly stowBytes: Counter<'store'>;
  readonly stowInstances: Counter<'store' | 'outcome'>;
  readonly qidoResults: Histogram<'level'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'dicomweb_gateway_http_requests_total',
      help: 'HTTP requests answered, by route family (qido.search, wado.retrieve, wado.metadata, wado.frames, wado.bulkdata, wado.rendered, stow.store, api, health, metrics, docs, other), method and status',
      labelNames: ['family', 'method', 'status'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'dicomweb_gateway_http_request_duration_seconds',
      help: 'Time from a request to the end of its answer, by route family and status',
      labelNames: ['family', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.stowBytes = new Counter({ name: 'dicomweb_gateway_stow_bytes_total', help: 'Bytes of STOW-RS request bodies read, by store', labelNames: ['store'], registers: [registry] });
    this.stowInstances = new Counter({
      name: 'dicomweb_gateway_stow_instances_total',
      help: 'Instances of STOW-RS requests, by store and outcome (stored, failed)',
      labelNames: ['store', 'outcome'],
      registers: [registry],
    });
    this.qidoResults = new Histogram({
      name: 'dicomweb_gateway_qido_results',
      help: 'Results in one QIDO-RS answer, by level (study, series, instance)',
      labelNames: ['level'],
      buckets: [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
      registers: [registry],
    });
  }
}
