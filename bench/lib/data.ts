/**
 * Deterministic bench data. CT slices are 512x512 16-bit (about 0.5 MB); copies of one template
 * differ only in fixed-width UID suffixes, so making thousands costs a memcpy each.
 */
import { syntheticInstance } from '../../test/fixtures/dicom-builder';

const ROOT = '1.2.826.0.1.3680043.10.9';

export interface CtSeriesMaker {
  studyUid: string;
  seriesUid: string;
  /** The i-th instance of this series (0-based, i < 1,000,000). */
  instance(i: number): Buffer;
  sopInstanceUid(i: number): string;
}

/** A CT series of 512x512 slices under a study UID unique to `tag` (e.g. "stow.gateway.3"). */
export function ctSeries(tag: number, rows = 512, columns = 512): CtSeriesMaker {
  const studyUid = `${ROOT}.${tag}`;
  const seriesUid = `${studyUid}.1`;
  const marker = `${seriesUid}.1000000`;
  const template = syntheticInstance({ studyUid, seriesUid, sopInstanceUid: marker, rows, columns, seed: tag, patientId: `BENCH${tag}`, patientName: `Bench^Series${tag}` });
  const positions: number[] = [];
  for (let at = template.indexOf(marker); at >= 0; at = template.indexOf(marker, at + 1)) positions.push(at);
  const sopInstanceUid = (i: number) => `${seriesUid}.${1000000 + i}`;
  return {
    studyUid,
    seriesUid,
    sopInstanceUid,
    instance(i: number): Buffer {
      const copy = Buffer.from(template);
      const uid = sopInstanceUid(i);
      for (const at of positions) copy.write(uid, at, 'latin1');
      // Vary the pixels a little so no two instances are byte-identical beyond the UID.
      copy.writeUInt32LE(i, copy.length - 8);
      return copy;
    },
  };
}

let tagCounter = Math.floor(Date.now() / 1000) % 100000;
/** A fresh numeric tag for UIDs nobody has used in this run. */
export function freshTag(): number {
  return ++tagCounter * 10;
}

export function multipart(parts: Buffer[], boundary = 'bench-7e1f3a'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), p, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}
