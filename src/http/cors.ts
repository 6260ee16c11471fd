/**
 * CORS for browser viewers (OHIF and others served from another origin): the configured origins
 * get the Access-Control headers on every answer, errors included (a viewer otherwise shows a
 * network error instead of the reason), and preflights are answered without a credential. The
 * headers a DICOMweb client needs to read are exposed (Warning carries the reasons, ETag the
 * metadata validator, Retry-After when to come back).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CorsConfig } from '../config/security-config';

const EXPOSED = ['Warning', 'ETag', 'Retry-After', 'WWW-Authenticate', 'Content-Location', 'Location', 'Content-Length', 'Content-Type', 'X-Request-Id'];
const METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];

export function enableCors(app: NestFastifyApplication, config: CorsConfig): void {
  if (config.origins.length === 0) return;
  const any = config.origins.includes('*');
  app.enableCors({
    origin: any ? '*' : config.origins,
    methods: METHODS,
    exposedHeaders: EXPOSED,
    credentials: config.credentials,
    maxAge: config.maxAgeSeconds,
    // Set on every request before anything can fail, so that error answers carry them too.
    hook: 'onRequest',
    strictPreflight: false,
  });
}

/** What a request that @fastify/cors never sees needs to know of it (framework-errors.ts). */
export interface CorsRequest {
  method: string;
  origin?: string;
  /** Access-Control-Request-Method: set, the request is a preflight. */
  requestMethod?: string;
  /** Access-Control-Request-Headers of a preflight. */
  requestHeaders?: string;
}

/**
 * The CORS headers for an answer that @fastify/cors never sees (Fastify refuses some requests
 * before any hook runs): the same ones its hook would have set, preflight headers included, so
 * that the browser gets past the preflight and lets the page read the refusal that follows.
 */
export function corsHeadersFor(config: CorsConfig, request: CorsRequest): Record<string, string> {
  if (config.origins.length === 0) return {};
  const any = config.origins.includes('*');
  const allowed = any || (request.origin !== undefined && config.origins.includes(request.origin));
  const headers: Record<string, string> = any ? {} : { vary: 'Origin' };
  if (!allowed) return headers;
  headers['access-control-allow-origin'] = any ? '*' : request.origin!;
  if (config.credentials) headers['access-control-allow-credentials'] = 'true';
  headers['access-control-expose-headers'] = EXPOSED.join(', ');
  if (request.method === 'OPTIONS' && request.requestMethod !== undefined) {
    headers['access-control-allow-methods'] = METHODS.join(', ');
    if (request.requestHeaders !== undefined) headers['access-control-allow-headers'] = request.requestHeaders;
    headers['access-control-max-age'] = String(config.maxAgeSeconds);
    headers.vary = any ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers';
  }
  return headers;
}
