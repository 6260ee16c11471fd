import { Logger } from '@nestjs/common';
import { createGateway } from './bootstrap';
import { ConfigError } from './config/gateway-config';
import { loadConfig } from './config/load-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await createGateway(config);
  await app.listen({ host: config.host, port: config.port });
  new Logger('Gateway').log(`DICOMweb at http://${config.host}:${config.port}/dicomweb (data in ${config.dataDir})`);
}

main().catch((e) => {
  process.stderr.write(`gateway failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
