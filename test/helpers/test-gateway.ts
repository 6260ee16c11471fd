/**
 * Starts the gateway for a test: in-process (fast, for most end-to-end tests) or as a real child
 * process (for kill -9 and memory measurements).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGateway } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/load-config';
import { freePort } from './free-port';
import { makeTempDir } from './temp-dir';

export interface RunningGateway {
  baseUrl: string; // http://127.0.0.1:PORT
  dataDir: string;
  stop(): Promise<void>;
}

export async function startInProcessGateway(env: Record<string, string> = {}): Promise<RunningGateway & { app: NestFastifyApplication }> {
  const dir = env.DATA_DIR ? undefined : makeTempDir('data');
  const dataDir = env.DATA_DIR ?? dir!.path;
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', ...env });
  const app = await createGateway(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    stop: async () => {
      await app.close();
      dir?.remove();
    },
  };
}

/** The compiled entry point, relative to this compiled file (dist/test/helpers -> dist/src). */
const MAIN = resolve(__dirname, '../../src/main.js');

export interface GatewayProcess extends RunningGateway {
  child: ChildProcess;
  port: number;
  /** Everything the process wrote to stdout and stderr so far (the last MiB). */
  output(): string;
  /** Resident set size of the server process, in bytes, from /proc. */
  rssBytes(): number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs the gateway's entry point until it exits by itself (a start that must fail). */
export async function runGatewayUntilExit(dataDir: string, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

export async function startGatewayProcess(dataDir: string, env: Record<string, string> = {}, port?: number): Promise<GatewayProcess> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(listenPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-1024 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    keep(d);
  });
  const baseUrl = `http://127.0.0.1:${listenPort}`;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited at start: ${stderr}`);
    try {
      const r = await fetch(`${baseUrl}/health/live`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`gateway did not start in time: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    child,
    port: listenPort,
    baseUrl,
    dataDir,
    rssBytes: () => {
      const status = readFileSync(join('/proc', String(child.pid), 'status'), 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
    kill,
    stop: () => kill('SIGTERM'),
    output: () => output,
  };
}
