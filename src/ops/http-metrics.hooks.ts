/**
 * Counts every answer and times it, by route family and status (dicomweb_gateway_http_*): a
 * Fastify hook on the raw response, so answers streamed outside Fastify (WADO) are counted when
 * they really end.
 */
import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { auditedAction } from '../audit/audit-hooks';
import { DicomwebMetrics } from '../metrics/dicomweb-metrics';

export function routeFamily(method: string, route: string): string {
  const dicomweb = auditedAction(method, route);
  if (dicomweb && dicomweb !== 'admin') return dicomweb;
  if (route.startsWith('/api/')) return 'api';
  if (route.startsWith('/health/')) return 'health';
  if (route === '/metrics') return 'metrics';
  if (route.startsWith('/docs')) return 'docs';
  return 'other';
}

@Injectable()
export class HttpMetricsHooks implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly metrics: DicomwebMetrics,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', async (request, reply) => {
      const started = process.hrtime.bigint();
      const method = request.method.toUpperCase();
      const family = routeFamily(method, request.routeOptions?.url ?? '');
      reply.raw.once('close', () => {
        const status = reply.raw.headersSent ? String(reply.raw.statusCode) : 'aborted';
        this.metrics.requests.inc({ family, method, status });
        this.metrics.durations.observe({ family, status }, Number(process.hrtime.bigint() - started) / 1e9);
      });
    });
  }
}
