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

export function enableCors(app: NestFastifyApplication, config: CorsConfig): void {
  if (config.origins.length === 0) return;
  const any = config.origins.includes('*');
  app.enableCors({
    origin: any ? '*' : config.origins,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: EXPOSED,
    credentials: config.credentials,
    maxAge: config.maxAgeSeconds,
    // Set on every request before anything can fail, so that error answers carry them too.
    hook: 'onRequest',
    strictPreflight: false,
  });
}
