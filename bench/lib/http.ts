/** Small undici helpers for the figures: GET/POST against a bench server, body drained or kept. */
import { request } from 'undici';
import { BenchServer } from './servers';

export async function get(server: BenchServer, path: string, accept: string): Promise<{ status: number; bytes: number; ttfbMs: number; body?: Buffer }> {
  const t0 = process.hrtime.bigint();
  const res = await request(`${server.dicomweb}${path}`, { method: 'GET', headers: { accept }, dispatcher: server.dispatcher });
  const ttfbMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  return { status: res.statusCode, bytes, ttfbMs };
}

export async function getJson<T = unknown>(server: BenchServer, path: string): Promise<T> {
  const res = await request(`${server.dicomweb}${path}`, { method: 'GET', headers: { accept: 'application/dicom+json' }, dispatcher: server.dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${server.name} GET ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

export async function stow(server: BenchServer, body: Buffer, contentType: string): Promise<void> {
  const res = await request(`${server.dicomweb}/studies`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    body,
    dispatcher: server.dispatcher,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${server.name} STOW answered ${res.statusCode}: ${text.slice(0, 300)}`);
}

/**
 * Retrieves `path` back to back for at least `ms` (and at least twice): MB/s over all of them and
 * the median time to first byte. One 100 MB retrieve lasts about 0.1 s, too short to measure
 * alone on a shared 2-core machine, where one scheduling hiccup moved a single run by 2x.
 */
export async function sustainedRetrieve(server: BenchServer, path: string, accept: string, ms: number): Promise<{ mbps: number; ttfb: number }> {
  const t0 = process.hrtime.bigint();
  const ttfbs: number[] = [];
  let bytes = 0;
  let seconds = 0;
  do {
    const r = await get(server, path, accept);
    if (r.status !== 200) throw new Error(`${server.name} GET ${path} answered ${r.status}`);
    bytes += r.bytes;
    ttfbs.push(r.ttfbMs);
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (seconds * 1000 < ms || ttfbs.length < 2);
  ttfbs.sort((a, b) => a - b);
  return { mbps: bytes / 1e6 / seconds, ttfb: ttfbs[Math.floor(ttfbs.length / 2)] };
}
