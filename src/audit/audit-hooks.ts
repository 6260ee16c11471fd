/**
 * Records every audited request when its answer ends (finished, or cut): the DICOMweb routes
 * (QIDO, WADO, STOW) and the administrative /api calls (changes, and reading the audit trail). A
 * Fastify hook on the raw response, so that answers streamed outside Fastify (WADO) are counted
 * too, with the bytes that really went out.
 */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/principal';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { isDicomwebRoute } from '../events/tokens/study-token.guard';
import { notedRequestBytes, notedStudies } from './audit-context';
import { AuditLog } from './audit-log';
import { AuditAction, outcomeOf } from './audit-record';

/** The action of an audited request, or undefined for one that is not audited. */
export function auditedAction(method: string, route: string): AuditAction | undefined {
  if (isDicomwebRoute(route)) {
    if (method === 'POST') return 'stow.store';
    if (/\/(studies|series|instances)$/.test(route)) return 'qido.search';
    if (route.endsWith('/metadata')) return 'wado.metadata';
    if (route.endsWith('/rendered') || route.endsWith('/thumbnail')) return 'wado.rendered';
    if (route.includes('/frames/')) return 'wado.frames';
    if (route.includes('/bulkdata/')) return 'wado.bulkdata';
    return 'wado.retrieve';
  }
  if (route.startsWith('/api/') && (method !== 'GET' || route === '/api/audit')) return 'admin';
  return undefined;
}

@Injectable()
export class AuditHooks implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly audit: AuditLog,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', async (request, reply) => this.watch(request, reply.raw));
  }

  private watch(request: FastifyRequest, raw: ServerResponse): void {
    const method = request.method.toUpperCase();
    const route = request.routeOptions?.url ?? '';
    const action = auditedAction(method, route);
    if (!action) return;
    const started = process.hrtime.bigint();
    const socket = request.raw.socket;
    const written = socket?.bytesWritten ?? 0;
    const read = socket?.bytesRead ?? 0;
    raw.once('close', () => {
      const params = (request.params ?? {}) as Record<string, unknown>;
      const studies = notedStudies(request);
      if (typeof params.study === 'string' && !studies.includes(params.study)) studies.unshift(params.study);
      const principal = principalOf(request);
      const status = raw.headersSent ? raw.statusCode : 0;
      this.audit.record({
        at: new Date().toISOString(),
        requestId: String(request.id),
        client: principal?.id ?? 'unauthenticated',
        clientKind: principal?.kind ?? 'none',
        address: this.addressOf(request),
        action,
        method,
        route,
        store: route.startsWith('/stores/') && typeof params.store === 'string' ? params.store : isDicomwebRoute(route) ? this.config.defaultStore : undefined,
        studies,
        status,
        outcome: outcomeOf(status, raw.writableFinished),
        bytes: action === 'stow.store' ? (notedRequestBytes(request) ?? Math.max(0, (socket?.bytesRead ?? 0) - read)) : Math.max(0, (socket?.bytesWritten ?? 0) - written),
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
  }

  /** The client's address: the socket's, or behind a trusted proxy the first X-Forwarded-For. */
  private addressOf(request: FastifyRequest): string {
    const forwarded = request.headers['x-forwarded-for'];
    if (this.config.trustProxy && typeof forwarded === 'string' && forwarded.trim() !== '') return forwarded.split(',')[0].trim().slice(0, 64);
    return request.raw.socket?.remoteAddress ?? 'unknown';
  }
}
