/**
 * Slow-loris clients: some send a request's headers one byte every few hundred milliseconds and
 * never finish them; others send complete STOW headers and the start of a body, then stall (or
 * trickle a byte at a time). Each reports whether and when the server cut it. Meanwhile a normal
 * client keeps searching and asking /health/live, and reports how long each answer took.
 */
import { connect, Socket } from 'node:net';
import { buildRequest, exchange } from './raw-http';

export interface SlowClientReport {
  kind: 'headers-trickle' | 'body-stall' | 'body-trickle';
  bytesSent: number;
  /** When the server closed the connection, from the start; undefined: still open at the end. */
  cutAfterMs?: number;
  /** The status the server answered before cutting, if any. */
  status?: number;
}

export interface NormalTraffic {
  requests: number;
  /** Statuses other than 200. */
  failures: string[];
  maxMs: number;
}

function slowClient(port: number, kind: SlowClientReport['kind'], byteIntervalMs: number, durationMs: number): Promise<SlowClientReport> {
  return new Promise((resolve) => {
    const started = Date.now();
    const report: SlowClientReport = { kind, bytesSent: 0 };
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let timer: NodeJS.Timeout | undefined;
    let answer = '';
    const trickle = (text: Buffer) => {
      let i = 0;
      timer = setInterval(() => {
        if (i >= text.length || socket.destroyed) return;
        socket.write(text.subarray(i, i + 1));
        report.bytesSent++;
        i++;
      }, byteIntervalMs);
    };
    socket.on('connect', () => {
      if (kind === 'headers-trickle') {
        trickle(Buffer.from(`GET /dicomweb/studies?PatientID=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'s'.repeat(4000)}`));
        return;
      }
      const head = buildRequest({ method: 'POST', target: '/dicomweb/studies', headers: [['Content-Type', 'application/dicom']], contentLength: 8 * 1024 * 1024 });
      const start = Buffer.concat([head, Buffer.alloc(128), Buffer.from('DICM')]);
      socket.write(start);
      report.bytesSent += start.length;
      if (kind === 'body-trickle') trickle(Buffer.alloc(100000, 0x02));
    });
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      if (!done) {
        report.cutAfterMs = Date.now() - started;
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
        if (m) report.status = Number(m[1]);
      }
      finish();
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(stop);
      socket.destroy();
      resolve(report);
    };
    const stop = setTimeout(finish, durationMs);
  });
}

/** Runs `clients` slow clients of each kind for `durationMs` while normal requests go on. */
export async function slowLorisAttack(
  port: number,
  options: { clientsPerKind: number; byteIntervalMs: number; durationMs: number; normalPath: string },
): Promise<{ slow: SlowClientReport[]; normal: NormalTraffic }> {
  const kinds: SlowClientReport['kind'][] = ['headers-trickle', 'body-stall', 'body-trickle'];
  const slow = Promise.all(kinds.flatMap((kind) => Array.from({ length: options.clientsPerKind }, () => slowClient(port, kind, options.byteIntervalMs, options.durationMs))));
  const normal: NormalTraffic = { requests: 0, failures: [], maxMs: 0 };
  const end = Date.now() + options.durationMs - 500;
  // Let the slow clients take their connections first.
  await new Promise((r) => setTimeout(r, 300));
  while (Date.now() < end) {
    for (const target of [options.normalPath, '/health/live']) {
      const outcome = await exchange(port, { bytes: buildRequest({ target }) }, 5_000);
      normal.requests++;
      normal.maxMs = Math.max(normal.maxMs, outcome.ms);
      const status = outcome.responses[0]?.status;
      if (status !== 200) normal.failures.push(`${target}: ${status ?? outcome.ended} after ${outcome.ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { slow: await slow, normal };
}
