/**
 * The two servers under measurement, behind one shape: a fresh gateway (embedded store, temp data
 * folder) and a fresh Orthanc with its DICOMweb plugin (temp storage, 50 HTTP threads).
 */
import { Agent } from 'undici';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { startGatewayProcess } from '../../test/helpers/test-gateway';
import { startOrthanc } from '../../test/helpers/orthanc';
import { cpuSeconds, rssBytes } from './process-stats';

export interface BenchServer {
  name: 'gateway' | 'orthanc';
  /** DICOMweb base URL without trailing slash. */
  dicomweb: string;
  pid: number;
  dispatcher: Agent;
  cpuSeconds(): number;
  rssBytes(): number;
  stop(): Promise<void>;
}

function agent(): Agent {
  return new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000, bodyTimeout: 300_000, headersTimeout: 300_000 });
}

/** A gateway process on a fresh temp folder, or on `dataDir` when given (left in place). */
export async function startGatewayServer(env: Record<string, string> = {}, dataDir?: string): Promise<BenchServer> {
  const dir = dataDir ? undefined : makeTempDir('bench-gw');
  const gw = await startGatewayProcess(dataDir ?? dir!.path, { LOG_LEVEL: 'error', ...env });
  const pid = gw.child.pid!;
  const dispatcher = agent();
  return {
    name: 'gateway',
    dicomweb: `${gw.baseUrl}/dicomweb`,
    pid,
    dispatcher,
    cpuSeconds: () => cpuSeconds(pid),
    rssBytes: () => rssBytes(pid),
    stop: async () => {
      await dispatcher.close();
      await gw.kill('SIGTERM');
      dir?.remove();
    },
  };
}

export async function startOrthancServer(): Promise<BenchServer> {
  // Compression off: the gateway does not gzip either, and gzip would cost Orthanc CPU for nothing.
  const orthanc = await startOrthanc({ httpThreads: 50, extraConfig: { HttpCompressionEnabled: false } });
  const dispatcher = agent();
  return {
    name: 'orthanc',
    dicomweb: orthanc.dicomwebUrl.replace(/\/+$/, ''),
    get pid() {
      return orthanc.pid;
    },
    dispatcher,
    cpuSeconds: () => orthanc.cpuSeconds(),
    rssBytes: () => orthanc.rssBytes(),
    stop: async () => {
      await dispatcher.close();
      await orthanc.stop();
    },
  };
}
