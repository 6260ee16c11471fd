/**
 * Builds the gateway application (used by main.ts and by the end-to-end tests).
 */
import 'reflect-metadata';
import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { GatewayConfig } from './config/gateway-config';
import { registerContentParsers } from './http/content-parsers';
import { enableCors } from './http/cors';

/** JSON bodies of the /api routes; DICOM bodies are streamed and limited by STOW itself. */
const JSON_BODY_LIMIT = 1024 * 1024;

const NEST_LEVELS: Record<GatewayConfig['logLevel'], LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  silent: [],
};

export async function createGateway(config: GatewayConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // UIDs are at most 64 characters; longer path parameters are answered 400 by our own checks.
    routerOptions: { maxParamLength: 1024 },
    requestIdHeader: 'x-request-id',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: NEST_LEVELS[config.logLevel],
    bufferLogs: false,
    // Our own parsers (http/content-parsers.ts): Nest's would read DICOM bodies.
    bodyParser: false,
  });
  registerContentParsers(app.getHttpAdapter().getInstance(), JSON_BODY_LIMIT);
  enableCors(app, config.security.cors);
  app.enableShutdownHooks();
  return app;
}
