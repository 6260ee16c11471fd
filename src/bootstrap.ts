/**
 * Builds the gateway application (used by main.ts and by the end-to-end tests): the Fastify
 * adapter (HTTPS when certificate files are configured), pino as Nest's logger, one request id
 * per request in an AsyncLocalStorage context, the body parsers and CORS. Signals and graceful
 * shutdown are main.ts's (http/graceful-shutdown.ts): tests close the app themselves.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { GatewayConfig } from './config/gateway-config';
import { registerContentParsers } from './http/content-parsers';
import { enableCors } from './http/cors';
import { answerFrameworkErrors } from './http/framework-errors';
import { installBodyRateGuard, slowClientServerOptions } from './http/slow-clients';
import { readTlsFiles } from './http/tls-options';
import { LogOptions, PinoLoggerService } from './logging/pino-logger.service';
import { installRequestContext } from './logging/request-context.hooks';
import { REQUEST_ID_SERVER_OPTIONS } from './logging/request-id';

/** JSON bodies of the /api routes; DICOM bodies are streamed and limited by STOW itself. */
const JSON_BODY_LIMIT = 1024 * 1024;

export interface GatewayOptions {
  /** Where log lines go (tests); standard output by default. */
  logDestination?: LogOptions['destination'];
}

/** Throws ConfigError when the TLS files cannot be used (a configuration problem, as loadConfig's). */
export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<NestFastifyApplication> {
  const { tls, slowClients } = config.security.server;
  const serverOptions = slowClientServerOptions(slowClients);
  const adapter = new FastifyAdapter({
    // UIDs are at most 64 characters; longer path parameters are answered 400 by our own checks.
    routerOptions: { maxParamLength: 1024 },
    ...REQUEST_ID_SERVER_OPTIONS,
    // Fastify's own refusals (a malformed URL) with a reason and the CORS headers, as every other error.
    frameworkErrors: answerFrameworkErrors(config.security.cors),
    // Slow clients (http/slow-clients.ts): Node's headers deadline, and a socket idle timeout.
    http: serverOptions,
    connectionTimeout: slowClients.idleTimeoutMs,
    ...(tls ? { https: { ...readTlsFiles(tls), ...serverOptions } } : {}),
  });
  const logger = new PinoLoggerService({ level: config.logLevel, format: config.security.server.logFormat, destination: options.logDestination });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    bufferLogs: false,
    // A module that cannot start is thrown (main.ts prints it plainly and exits 1), not process.abort().
    abortOnError: false,
    // Our own parsers (http/content-parsers.ts): Nest's would read DICOM bodies.
    bodyParser: false,
  });
  // First of all hooks, so that every other hook and handler runs in the request's context.
  installRequestContext(app.getHttpAdapter().getInstance());
  installBodyRateGuard(app.getHttpAdapter().getInstance(), slowClients);
  registerContentParsers(app.getHttpAdapter().getInstance(), JSON_BODY_LIMIT);
  enableCors(app, config.security.cors);
  return app;
}
