/**
 * A gateway in front of the Google Cloud Healthcare fake (test/fakes/gcp): the fake started with
 * the given options, a service account key made for it and written to a key file, and an
 * in-process gateway whose store `gcp` points at the fake's Healthcare API and token endpoint
 * with that key file, as a real deployment points at Google with its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcpFake, GcpFakeOptions, ServiceAccountKey, startGcpFake } from '../fakes/gcp';
import { makeTempDir } from './temp-dir';
import { RunningGateway, startInProcessGateway } from './test-gateway';

export interface GcpSetup {
  fake: GcpFake;
  key: ServiceAccountKey;
  gateway: RunningGateway;
  /** The store's DICOMweb root through the gateway. */
  dicomweb: string;
  close(): Promise<void>;
}

export interface GcpStoreOptions {
  /** The key the gateway uses (default: a new one the fake knows, allowed on the store). */
  key?: (fake: GcpFake) => ServiceAccountKey;
  /** YAML lines added to the store's entry (indented by four spaces). */
  storeLines?: string[];
  env?: Record<string, string>;
}

/** A `gcp` store entry of the gateway's YAML pointing at the fake (list item lines, indented
 *  for a `stores:` list); `extra` are more keys of the entry. */
export function gcpStoreLines(name: string, fake: GcpFake, keyFile: string, extra: string[] = []): string[] {
  return [
    `  - name: ${name}`,
    '    kind: gcp',
    `    project: ${fake.project}`,
    `    location: ${fake.location}`,
    `    dataset: ${fake.dataset}`,
    `    dicomStore: ${fake.dicomStore}`,
    `    credentials: { keyFile: "${keyFile}" }`,
    `    endpoint: ${fake.origin}`,
    `    tokenUrl: ${fake.tokenUrl}`,
    '    healthCheckIntervalMs: 0',
    ...extra.map((line) => `    ${line}`),
  ];
}

export async function startGcpGateway(fakeOptions: GcpFakeOptions = {}, store: GcpStoreOptions = {}): Promise<GcpSetup> {
  const fake = await startGcpFake(fakeOptions);
  const dir = makeTempDir('gcp-gateway');
  const key = store.key ? store.key(fake) : fake.createServiceAccountKey();
  const keyFile = join(dir.path, 'service-account.json');
  writeFileSync(keyFile, JSON.stringify(key, null, 2), { mode: 0o600 });
  const config = join(dir.path, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'defaultStore: local',
      'stores:',
      '  - { name: local, kind: local }',
      ...gcpStoreLines('gcp', fake, keyFile, ['retries: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 }', ...(store.storeLines ?? [])]),
      '',
    ].join('\n'),
  );
  let gateway: RunningGateway;
  try {
    gateway = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), ...(store.env ?? {}) });
  } catch (e) {
    await fake.close();
    dir.remove();
    throw e;
  }
  return {
    fake,
    key,
    gateway,
    dicomweb: `${gateway.baseUrl}/stores/gcp/dicomweb`,
    close: async () => {
      await gateway.stop();
      await fake.close();
      dir.remove();
    },
  };
}
