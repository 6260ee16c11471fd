/**
 * Compressed pixel data (issue 14): 512x512 12-bit CT-like frames stored as JPEG 2000 lossless,
 * HTJ2K lossless (both written by the gateway's encoders) and JPEG-LS lossless (written by
 * dcmtk's dcmcjpls) in both servers, then asked for uncompressed (Explicit VR Little Endian
 * octets) over 8 connections: frames/s, the gateway's CPU time per frame, and its event loop's
 * delay under that load (p99, from its own metrics, which reset at each scrape). Every frame is
 * asked once per run, so the decoded-frame cache does not serve them. Orthanc is asked the same;
 * without its GDCM plugin it cannot decode JPEG 2000 or HTJ2K (it answers 500), which the row
 * notes instead of a ratio.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { ctSeries, freshTag, multipart } from '../lib/data';
import { get, stow } from '../lib/http';
import { interleaved } from '../lib/interleave';
import { runLoad } from '../lib/load';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';

const FRAMES = 48;
const SIZE = 512;
const NATIVE = 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1';
const J2K = '1.2.840.10008.1.2.4.90';
const HTJ2K = '1.2.840.10008.1.2.4.201';

interface CodecSeries {
  name: string;
  study: string;
  series: string;
  sop(i: number): string;
}

/** A smooth body-like image with some noise: what CT compresses like (about 2-3:1 lossless). */
function ctLikePixels(seed: number): Buffer {
  const out = Buffer.alloc(SIZE * SIZE * 2);
  let x = seed | 1;
  for (let y = 0; y < SIZE; y++) {
    for (let c = 0; c < SIZE; c++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const r = Math.hypot(c - SIZE / 2, (y - SIZE / 2) * 1.2);
      const body = r < 200 ? 1024 + 40 * Math.sin(c / 9) * Math.cos(y / 13) + (r < 60 ? 400 : 0) : 0;
      out.writeUInt16LE(Math.max(0, Math.min(4095, Math.round(body + (x & 31)))), (y * SIZE + c) * 2);
    }
  }
  return out;
}

/** Replaces every occurrence of one UID by another of the same length (meta and data set). */
function renamed(file: Buffer, from: string, to: string): Buffer {
  const out = Buffer.from(file);
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) out.write(to, at, 'latin1');
  return out;
}

async function storeAll(servers: BenchServer[], files: Buffer[]): Promise<void> {
  for (let i = 0; i < files.length; i += 12) {
    const { body, contentType } = multipart(files.slice(i, i + 12));
    await Promise.all(servers.map((s) => stow(s, body, contentType)));
  }
}

/** The native series, and copies in each compressed syntax under other SOP Instance UIDs. */
async function prepare(servers: BenchServer[]): Promise<CodecSeries[]> {
  const gateway = servers.find((s) => s.name === 'gateway')!;
  const tag = freshTag();
  const maker = ctSeries(tag, SIZE, SIZE);
  const natives = Array.from({ length: FRAMES }, (_, i) => {
    const file = maker.instance(i);
    ctLikePixels(tag + i).copy(file, file.length - SIZE * SIZE * 2);
    return file;
  });
  // The native series goes to the gateway only: it encodes the JPEG 2000 and HTJ2K copies.
  const { body, contentType } = multipart(natives);
  await stow(gateway, body, contentType);
  const out: CodecSeries[] = [];
  const dir = makeTempDir('bench-codecs');
  try {
    for (const [name, syntax, digit] of [['JPEG 2000 lossless', J2K, '2'], ['HTJ2K lossless', HTJ2K, '3'], ['JPEG-LS lossless', 'dcmcjpls', '4']] as const) {
      const files: Buffer[] = [];
      for (let i = 0; i < FRAMES; i++) {
        const uid = maker.sopInstanceUid(i);
        // Same length: ".1000000+i" becomes ".<digit>000000+i".
        const copyUid = uid.replace(/\.1(\d{6})$/, `.${digit}$1`);
        let file: Buffer;
        if (syntax === 'dcmcjpls') {
          const input = join(dir.path, `${i}.dcm`);
          const output = join(dir.path, `${i}.jls.dcm`);
          writeFileSync(input, natives[i]);
          execFileSync('dcmcjpls', ['+el', input, output]);
          file = readFileSync(output);
        } else {
          const res = await request(`${gateway.dicomweb}/studies/${maker.studyUid}/series/${maker.seriesUid}/instances/${uid}`, {
            headers: { accept: `application/dicom; transfer-syntax=${syntax}` },
            dispatcher: gateway.dispatcher,
          });
          file = Buffer.from(await res.body.arrayBuffer());
          if (res.statusCode !== 200) throw new Error(`encoding ${name}: ${res.statusCode} ${file.toString('utf8', 0, 200)}`);
        }
        files.push(renamed(file, uid, copyUid));
      }
      await storeAll(servers, files);
      out.push({ name, study: maker.studyUid, series: maker.seriesUid, sop: (i) => maker.sopInstanceUid(i).replace(/\.1(\d{6})$/, `.${digit}$1`) });
    }
  } finally {
    dir.remove();
  }
  return out;
}

function metricsUrl(server: BenchServer): string {
  return server.dicomweb.replace(/\/dicomweb$/, '/metrics');
}

/** prom-client samples the loop with a 10 ms timer (eventLoopMonitoringPrecision) and records the
 *  time between its firings: an idle loop reads 10.1 ms at p50. The delay is what exceeds it. */
const SAMPLING_MS = 10;

/** The event loop's delay p99 since the last scrape (prom-client resets its histogram then). */
async function eventLoopP99Ms(server: BenchServer): Promise<number> {
  const res = await request(metricsUrl(server), { dispatcher: server.dispatcher });
  const text = await res.body.text();
  const m = /^dicomweb_gateway_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  return m ? Math.max(0, Number(m[1]) * 1000 - SAMPLING_MS) : NaN;
}

export async function codecFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const all = await prepare(servers);
  let round = 0;
  for (const series of all) {
    const failures = new Map<string, number>();
    const results = await interleaved(servers, options.repeats, async (server) => {
      // Each repeat asks frames in another order, so none is served from the frame cache twice
      // in a row within a repeat; the gateway's cache is smaller than all repeats' frames anyway.
      const offset = round++ * 7;
      if (server.name === 'gateway') await eventLoopP99Ms(server);
      const cpu0 = server.cpuSeconds();
      let failed = 0;
      const load = await runLoad({
        concurrency: 8,
        count: FRAMES,
        durationMs: 20_000,
        task: async (i) => {
          const path = `/studies/${series.study}/series/${series.series}/instances/${series.sop((i + offset) % FRAMES)}/frames/1`;
          const r = await get(server, path, NATIVE);
          // A server that cannot decode may still answer 200 with the codestream as stored
          // (Orthanc does so for HTJ2K): only a native frame's bytes count as done.
          if (r.status !== 200 || r.bytes < SIZE * SIZE * 2) failed++;
        },
      });
      failures.set(server.name, (failures.get(server.name) ?? 0) + failed);
      const done = load.done - failed;
      const metrics: Record<string, number> = { fps: done / load.seconds };
      if (done > 0) metrics.cpuMs = ((server.cpuSeconds() - cpu0) * 1000) / done;
      if (server.name === 'gateway') metrics.loopP99 = await eventLoopP99Ms(server);
      return metrics;
    });
    const g = results.get('gateway')!;
    const o = results.get('orthanc');
    const orthancFailed = (failures.get('orthanc') ?? 0) > 0;
    const note = orthancFailed ? `(Orthanc did not decode ${failures.get('orthanc')} of the frames: it cannot decode ${series.name})` : undefined;
    report.add({ figure: `${series.name} frames to native, 8 connections`, unit: 'frames/s', better: 'higher', gateway: g.get('fps')!, orthanc: orthancFailed ? undefined : o?.get('fps'), note });
    report.add({ figure: `${series.name} frames to native, 8 connections`, unit: 'CPU ms/frame', better: 'lower', gateway: g.get('cpuMs') ?? [], orthanc: orthancFailed ? undefined : o?.get('cpuMs') });
    report.add({ figure: `${series.name} frames to native, 8 connections`, unit: 'event loop delay p99 ms', better: 'lower', gateway: g.get('loopP99')!, target: '< 20' });
  }
}
