/**
 * A gateway with a federated store over three real members: `site` (the embedded store), `pacs`
 * (a real Orthanc through the dicomweb adapter) and `cloud` (the Google Cloud Healthcare fake,
 * whose latency and outages the test controls). `everywhere` federates them in that order of
 * preference, writing to `site`; `view` federates them read-only. Study locations go to the real
 * Redis under a prefix of this run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { gcpStoreLines } from './gcp-gateway';
import { RunningOrthanc, startOrthanc } from './orthanc';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from './redis-keys';
import { makeTempDir } from './temp-dir';
import { RunningGateway, startInProcessGateway } from './test-gateway';

export interface FederatedSetup {
  gateway: RunningGateway;
  orthanc: RunningOrthanc;
  cloud: GcpFake;
  redisPrefix: string;
  /** /stores/<name>/dicomweb of the gateway. */
  url(store: string): string;
  close(): Promise<void>;
}

export async function startFederatedGateway(options: { memberTimeoutMs?: number; env?: Record<string, string> } = {}): Promise<FederatedSetup> {
  const orthanc = await startOrthanc();
  const cloud = await startGcpFake();
  const dir = makeTempDir('federated');
  const keyFile = join(dir.path, 'service-account.json');
  writeFileSync(keyFile, JSON.stringify(cloud.createServiceAccountKey()), { mode: 0o600 });
  const timeout = options.memberTimeoutMs ?? 1_000;
  const config = join(dir.path, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'defaultStore: everywhere',
      'stores:',
      '  - { name: site, kind: local }',
      '  - name: pacs',
      '    kind: dicomweb',
      `    url: ${orthanc.dicomwebUrl}`,
      '    percentEncodeQuery: false',
      '    healthCheckIntervalMs: 0',
      ...gcpStoreLines('cloud', cloud, keyFile, ['retries: { attempts: 1, baseDelayMs: 20, maxDelayMs: 50 }', 'circuitBreaker: { failureThreshold: 1000, openMs: 1000 }']),
      '  - name: everywhere',
      '    kind: federated',
      '    members: [site, pacs, cloud]',
      '    writeMember: site',
      `    memberTimeoutMs: ${timeout}`,
      '  - name: view',
      '    kind: federated',
      '    members: [cloud, pacs]',
      `    memberTimeoutMs: ${timeout}`,
      '',
    ].join('\n'),
  );
  const redisPrefix = uniqueRedisPrefix('federated');
  let gateway: RunningGateway;
  try {
    gateway = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: redisPrefix, ...(options.env ?? {}) });
  } catch (e) {
    await cloud.close();
    await orthanc.stop();
    dir.remove();
    throw e;
  }
  return {
    gateway,
    orthanc,
    cloud,
    redisPrefix,
    url: (store) => `${gateway.baseUrl}/stores/${store}/dicomweb`,
    close: async () => {
      await gateway.stop();
      await cloud.close();
      await orthanc.stop();
      await deleteRedisKeys(redisPrefix);
      dir.remove();
    },
  };
}
