/**
 * The gateway's entry point: reads the configuration (a bad one exits 2 with every problem named,
 * as does a certificate file that cannot be used), builds the app, listens, and shuts down
 * gracefully on SIGTERM and SIGINT (http/graceful-shutdown.ts: exit 0, or 1 past the deadline).
 */
import { Logger } from '@nestjs/common';
import { createGateway } from './bootstrap';
import { ConfigError, GatewayConfig } from './config/gateway-config';
import { loadConfig } from './config/load-config';
import { GracefulShutdown } from './http/graceful-shutdown';

function exitOnConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  throw e;
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (e) {
    exitOnConfigError(e);
  }
  const app = await createGateway(config).catch(exitOnConfigError);
  new GracefulShutdown(app, config.security.server.shutdownTimeoutMs).install().listenForSignals();
  await app.listen({ host: config.host, port: config.port });
  const scheme = config.security.server.tls ? 'https' : 'http';
  new Logger('Gateway').log(`DICOMweb at ${scheme}://${config.host}:${config.port}/dicomweb (data in ${config.dataDir})`);
}

main().catch((e) => {
  process.stderr.write(`gateway failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
