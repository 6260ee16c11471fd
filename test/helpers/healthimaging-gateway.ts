/**
 * A gateway in front of the HealthImaging fake (test/fakes/healthimaging): the fake started with
 * the given options, and an in-process gateway whose store `ahi` points at its three endpoints
 * with the fake's test credentials, as a real deployment would point at AWS's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HealthImagingFake, HealthImagingFakeOptions, startHealthImagingFake } from '../fakes/healthimaging';
import { makeTempDir } from './temp-dir';
import { RunningGateway, startInProcessGateway } from './test-gateway';

export interface HealthImagingSetup {
  fake: HealthImagingFake;
  gateway: RunningGateway;
  /** The store's DICOMweb root through the gateway. */
  dicomweb: string;
  close(): Promise<void>;
}

export interface HealthImagingStoreOptions {
  /** YAML lines added to the store's entry (indented by four spaces), or made from the fake. */
  storeLines?: string[] | ((fake: HealthImagingFake) => string[]);
  /** Credentials other than the fake's own (a wrong secret, the denied identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The region the gateway signs for (default the fake's). */
  region?: string;
  env?: Record<string, string>;
}

export async function startHealthImagingGateway(fakeOptions: HealthImagingFakeOptions = {}, store: HealthImagingStoreOptions = {}): Promise<HealthImagingSetup> {
  const fake = await startHealthImagingFake(fakeOptions);
  const dir = makeTempDir('ahi-gateway');
  const credentials = store.credentials ?? fake.credentials;
  const config = join(dir.path, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'defaultStore: local',
      'stores:',
      '  - { name: local, kind: local }',
      '  - name: ahi',
      '    kind: healthimaging',
      `    region: ${store.region ?? fake.region}`,
      `    datastoreId: ${fake.datastoreId}`,
      '    endpoints:',
      `      dicomweb: ${fake.dicomwebEndpoint}`,
      `      control: ${fake.controlEndpoint}`,
      `      s3: ${fake.s3Endpoint}`,
      '    credentials:',
      `      accessKeyId: ${credentials.accessKeyId}`,
      '      secretAccessKeyEnv: TEST_AWS_SECRET',
      ...(credentials.sessionToken ? ['      sessionTokenEnv: TEST_AWS_SESSION_TOKEN'] : []),
      '    healthCheckIntervalMs: 0',
      '    retries: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 }',
      ...(typeof store.storeLines === 'function' ? store.storeLines(fake) : (store.storeLines ?? [])).map((line) => `    ${line}`),
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = {
    CONFIG_FILE: config,
    DATA_DIR: join(dir.path, 'data'),
    TEST_AWS_SECRET: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { TEST_AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    ...(store.env ?? {}),
  };
  let gateway: RunningGateway;
  try {
    gateway = await startInProcessGateway(env);
  } catch (e) {
    await fake.close();
    dir.remove();
    throw e;
  }
  return {
    fake,
    gateway,
    dicomweb: `${gateway.baseUrl}/stores/ahi/dicomweb`,
    close: async () => {
      await gateway.stop();
      await fake.close();
      dir.remove();
    },
  };
}
