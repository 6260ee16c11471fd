/**
 * One large STOW request streamed from a generator (nothing of it held in memory by the client):
 * `count` CT slices of 0.5 MB, sent chunked or with Content-Length.
 */
import { request } from 'node:http';
import { syntheticInstance } from '../../test/fixtures/dicom-builder';

const BOUNDARY = 'bench-boundary-5f2a9c';
const UID_ROOT = '1.2.826.0.1.3680043.10.4000';

/** The UIDs of what largeUpload(…, run, …) stores. */
export function largeUploadUids(run: number): { studyUid: string; seriesUid: string; sopInstanceUid(i: number): string } {
  const seriesUid = `${UID_ROOT}.${run}.1`;
  return { studyUid: `${UID_ROOT}.${run}`, seriesUid, sopInstanceUid: (i) => `${seriesUid}.${9000000 + i}` };
}

/** One 0.5 MB CT slice; copies differ only in a fixed-width SOP Instance UID suffix. */
function template(run: number): { bytes: Buffer; marker: string } {
  const marker = `${UID_ROOT}.${run}.1.9000000`;
  const bytes = syntheticInstance({
    studyUid: `${UID_ROOT}.${run}`,
    seriesUid: `${UID_ROOT}.${run}.1`,
    sopInstanceUid: marker,
    rows: 512,
    columns: 512,
    seed: run,
  });
  return { bytes, marker };
}

function* parts(run: number, count: number): Generator<Buffer> {
  const { bytes, marker } = template(run);
  const positions: number[] = [];
  for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) positions.push(at);
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
  for (let i = 0; i < count; i++) {
    const copy = Buffer.from(bytes);
    const suffix = String(9000000 + i);
    for (const at of positions) copy.write(suffix, at + marker.length - suffix.length, 'latin1');
    yield head;
    yield copy;
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

function bodyLength(run: number, count: number): number {
  let total = 0;
  for (const p of parts(run, count)) total += p.length;
  return total;
}

export interface LargeUploadResult {
  status: number;
  seconds: number;
  bytes: number;
}

/** POSTs `count` instances in one request to `{dicomwebBase}/studies`. */
export async function largeUpload(dicomwebBase: string, run: number, withLength: boolean, count: number): Promise<LargeUploadResult> {
  const length = withLength ? bodyLength(run, count) : undefined;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` };
    if (length !== undefined) headers['content-length'] = length;
    let sent = 0;
    const req = request(`${dicomwebBase}/studies`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes: sent }));
    });
    req.on('error', reject);
    const it = parts(run, count);
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) return void req.end();
        sent += next.value.length;
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}
