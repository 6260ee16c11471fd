/**
 * Runs a real Orthanc with its DICOMweb plugin (Debian packages `orthanc`, `orthanc-dicomweb`) as
 * a reference archive and as an upstream for tests and the benchmark. Each instance gets its own
 * ports and temp folder; the system service is never used.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { makeTempDir } from './temp-dir';

const ORTHANC = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const SETPRIV = '/usr/bin/setpriv';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface OrthancOptions {
  /** Orthanc's HTTP worker threads; default 10, the benchmark uses 50. */
  httpThreads?: number;
  /** Merged over the generated configuration ("DicomWeb" is merged key by key). */
  extraConfig?: Record<string, unknown>;
}

export interface RunningOrthanc {
  baseUrl: string; // http://127.0.0.1:PORT
  dicomwebUrl: string; // http://127.0.0.1:PORT/dicom-web
  httpPort: number;
  dicomPort: number;
  /** Pid of the current Orthanc process (changes after restart()). */
  pid: number;
  storageDir: string;
  /** Resident set size in bytes, from /proc/PID/status VmRSS. */
  rssBytes(): number;
  /** User + system CPU time in seconds, from /proc/PID/stat. */
  cpuSeconds(): number;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), remove the temp folder. */
  stop(): Promise<void>;
  /** Sends a signal and waits for exit (SIGSTOP/SIGCONT return at once); keeps the folder. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts again on the same ports and storage, after kill(). */
  restart(): Promise<void>;
}

export function orthancAvailable(): boolean {
  return existsSync(ORTHANC) && existsSync(DICOMWEB_PLUGIN);
}

/** Every Orthanc we started that has not exited yet, killed if the test process exits without stop(). */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  if (!orthancAvailable()) throw new Error(`Orthanc not installed: need ${ORTHANC} and ${DICOMWEB_PLUGIN}`);
  const dir = makeTempDir('orthanc');
  try {
    // Another process may take a port between freePort() and Orthanc binding it: retry with new ones.
    for (let attempt = 1; ; attempt++) {
      const [httpPort, dicomPort] = await twoFreePorts();
      writeConfig(dir.path, httpPort, dicomPort, options);
      try {
        const child = await launch(dir.path, httpPort);
        return handle(dir, httpPort, dicomPort, child);
      } catch (err) {
        if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
      }
    }
  } catch (err) {
    dir.remove();
    throw err;
  }
}

async function twoFreePorts(): Promise<[number, number]> {
  const http = await freePort();
  let dicom = await freePort();
  // The kernel may hand the same number out twice, since the first socket is already closed.
  while (dicom === http) dicom = await freePort();
  return [http, dicom];
}

function writeConfig(dir: string, httpPort: number, dicomPort: number, options: OrthancOptions): void {
  const extra = options.extraConfig ?? {};
  const config = {
    Name: 'gateway-test-orthanc',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    // Only DICOMweb: the Debian folder also holds ServeFolders and ModalityWorklists.
    Plugins: [DICOMWEB_PLUGIN],
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpPort: httpPort,
    DicomPort: dicomPort,
    HttpThreadsCount: options.httpThreads ?? 10,
    StorageCompression: false,
    // A second STOW of the same SOP Instance UID keeps the first copy (and still answers 200).
    OverwriteInstances: false,
    ...extra,
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: true,
      // With a bare "127.0.0.1" plugin 1.7 writes RetrieveURL/BulkDataURI without a port (so port 80).
      Host: `127.0.0.1:${httpPort}`,
      Ssl: false,
      // Read every instance from storage for .../metadata, not only Orthanc's indexed main tags.
      StudiesMetadata: 'Full',
      SeriesMetadata: 'Full',
      ...((extra.DicomWeb as Record<string, unknown> | undefined) ?? {}),
    },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config, null, 2));
}

/** Starts Orthanc on the config in `dir` and resolves once its REST API and the plugin answer. */
async function launch(dir: string, httpPort: number): Promise<ChildProcess> {
  const logPath = join(dir, 'orthanc.log');
  // Orthanc logs to stderr by default; appending keeps the log of earlier runs across restart().
  const log = openSync(logPath, 'a');
  // --pdeathsig: the kernel kills Orthanc if the test process dies, even by SIGKILL when no
  // 'exit' handler runs. setpriv execs Orthanc, so child.pid is Orthanc's own pid.
  const [command, args] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'KILL', ORTHANC, join(dir, 'orthanc.json')]]
    : [ORTHANC, [join(dir, 'orthanc.json')]];
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A test that forgets stop() must not hang on Orthanc; the 'exit' handler above kills it.
  child.unref();

  const fail = (why: string) => new Error(`Orthanc on port ${httpPort} ${why}\n--- ${logPath} ---\n${logTail(logPath)}`);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = `no answer within ${READY_TIMEOUT_MS / 1000} s`;
  while (Date.now() < deadline) {
    if (!isRunning(child)) throw fail(`exited during startup (code ${child.exitCode}, signal ${child.signalCode})`);
    if (spawnError) throw fail(`could not be spawned: ${spawnError.message}`);
    try {
      const system = await fetch(`${baseUrl}/system`, { signal: AbortSignal.timeout(2000) });
      await system.arrayBuffer();
      // /system comes from Orthanc itself; the studies route proves the plugin loaded.
      const studies = await fetch(`${baseUrl}/dicom-web/studies`, { signal: AbortSignal.timeout(2000) });
      await studies.arrayBuffer();
      if (system.ok && studies.status === 200) return child;
      lastProblem = `GET /system ${system.status}, GET /dicom-web/studies ${studies.status}`;
      // Orthanc loads plugins before it opens its HTTP port and only logs a plugin that fails to
      // load, so once /system answers a missing studies route will never appear: fail now.
      if (system.ok) break;
    } catch (err) {
      lastProblem = `no answer within ${READY_TIMEOUT_MS / 1000} s: ${(err as Error).cause ?? err}`;
    }
    await delay(100);
  }
  await terminate(child, 'SIGKILL');
  throw fail(`not ready: ${lastProblem}`);
}

function handle(dir: { path: string; remove(): void }, httpPort: number, dicomPort: number, first: ChildProcess): RunningOrthanc {
  let child = first;
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const running: RunningOrthanc = {
    baseUrl,
    dicomwebUrl: `${baseUrl}/dicom-web`,
    httpPort,
    dicomPort,
    pid: first.pid!,
    storageDir: dir.path,
    rssBytes: () => {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (!match) throw new Error(`no VmRSS for Orthanc pid ${child.pid}`);
      return Number(match[1]) * 1024;
    },
    cpuSeconds: () => {
      // The command name in (...) may contain spaces: count fields from the closing parenthesis.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
      return (Number(fields[11]) + Number(fields[12])) / clockTicks();
    },
    stop: async () => {
      await terminate(child, 'SIGTERM');
      dir.remove();
    },
    kill: (signal) => terminate(child, signal),
    restart: async () => {
      if (isRunning(child)) throw new Error('Orthanc is still running: kill() it before restart()');
      if (!existsSync(join(dir.path, 'orthanc.json'))) throw new Error('Orthanc folder was removed by stop(): cannot restart');
      child = await launch(dir.path, httpPort);
      running.pid = child.pid!;
    },
  };
  return running;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` and waits for exit, escalating to SIGKILL after 10 s; stop/continue signals return at once. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return;
  // A process paused by a fault test only acts on the signal once it runs again.
  child.kill('SIGCONT');
  // This timer also keeps the event loop alive while we wait, since the child is unref()'d.
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(escalate);
}

let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
}

function logTail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
