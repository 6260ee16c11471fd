/**
 * The config file of an edge gateway for tests and the bench: the embedded store "spool" (the
 * default) and a dicomweb store "orthanc" as the one destination, with fast-failing upstream
 * settings; each caller adds what its case needs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface EdgeConfigParts {
  /** Merged over the dicomweb store's settings. */
  store?: Record<string, unknown>;
  /** Merged over the destination's settings. */
  destination?: Record<string, unknown>;
  /** Merged over the `edge` section. */
  edge?: Record<string, unknown>;
}

/** Writes `<dir>/gateway.yaml` and returns its path. */
export function writeEdgeGatewayConfig(dir: string, destinationUrl: string, parts: EdgeConfigParts = {}): string {
  const config = {
    defaultStore: 'spool',
    stores: [
      { name: 'spool', kind: 'local', path: join(dir, 'spool') },
      {
        name: 'orthanc',
        kind: 'dicomweb',
        url: destinationUrl,
        percentEncodeQuery: false,
        retries: { attempts: 1, baseDelayMs: 50, maxDelayMs: 100 },
        circuitBreaker: { failureThreshold: 3, openMs: 500 },
        timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 },
        ...parts.store,
      },
    ],
    edge: {
      destinations: [{ store: 'orthanc', ...parts.destination }],
      ...parts.edge,
    },
  };
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, stringify(config));
  return path;
}
