/**
 * Whether the instance HealthImaging holds under a SOP Instance UID is the one being stored,
 * when their bytes differ. HealthImaging transcodes what it stores (to HTJ2K lossless, or JPEG
 * 2000 lossless, with its own File Meta Information), so the bytes of an identical re-upload never
 * match; comparing them would refuse every retry of the edge forwarder as a conflict. The content
 * is compared instead:
 * - the attributes, from HealthImaging's instance metadata against the DICOM JSON ingest made of
 *   the upload, leaving out what transcoding changes (File Meta Information, Pixel Data and the
 *   other bulk values, lossy compression attributes, the character set the text was decoded from);
 * - for native (uncompressed) Pixel Data, each frame as HealthImaging decodes it (Explicit VR
 *   Little Endian, lossless) against the upload's frame, by SHA-256.
 * What cannot be compared (compressed Pixel Data HealthImaging re-encoded, bit-packed frames) is
 * reported as different: the gateway then refuses the upload, as it never replaces an instance.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Tags } from '../../dicom/dataset';
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { frameBits, pixelGeometry } from '../../dicom/pixel-geometry';
import { TS } from '../../dicom/transfer-syntax';
import { IncomingInstance } from '../dicom-store';
import { UpstreamClient } from '../dicomweb/upstream-client';
import { UpstreamMetadata, scopePath } from '../dicomweb/upstream-metadata';
import { hashSinglePart } from '../dicomweb/single-part-hash';
import { skipBody } from '../dicomweb/upstream-client';

/** Attributes a store may change when it transcodes or re-encodes an instance. */
const CHANGED_BY_TRANSCODING = new Set([
  '00080005', // Specific Character Set: the text was decoded to UTF-8 either way
  '00282110', // Lossy Image Compression
  '00282112', // Lossy Image Compression Ratio
  '00282114', // Lossy Image Compression Method
  '00081196', // Warning Reason (HealthImaging keeps import warnings there)
  '00083002', // Available Transfer Syntax UID
]);
const NUMBER_VRS = new Set(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);
const NATIVE = new Set<string>([TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian]);
const ELE = '1.2.840.10008.1.2.1';

export interface ContentComparison {
  same: boolean;
  /** Why not, for the conflict's message. */
  why?: string;
}

export async function compareHeldContent(client: UpstreamClient, metadata: UpstreamMetadata, instance: IncomingInstance): Promise<ContentComparison> {
  const ref = { studyInstanceUid: instance.identity.studyInstanceUid, seriesInstanceUid: instance.identity.seriesInstanceUid, sopInstanceUid: instance.identity.sopInstanceUid };
  const held = await metadata.instanceObject(ref);
  if (!held) return { same: false, why: 'its metadata could not be read' };
  const differing = firstDifference(instance.metadata, held, '');
  if (differing) return { same: false, why: `attribute ${differing} differs` };
  const pixels = instance.parsed.dataset.get(Tags.PixelData);
  if (!pixels) return { same: true };
  const geometry = pixelGeometry(instance.parsed.dataset, instance.parsed.littleEndian);
  if (!pixels.bulk || pixels.encapsulated || !NATIVE.has(instance.parsed.transferSyntaxUid) || !geometry || frameBits(geometry) % 8 !== 0) {
    return { same: false, why: 'its pixel data cannot be compared (the stored copy was transcoded)' };
  }
  const frameBytes = frameBits(geometry) / 8;
  const file = await open(instance.staged.path, 'r');
  try {
    for (let n = 1; n <= geometry.numberOfFrames; n++) {
      const ours = Buffer.alloc(frameBytes);
      await file.read(ours, 0, frameBytes, pixels.bulk.offset + (n - 1) * frameBytes);
      const theirs = await heldFrameHash(client, `${scopePath({ level: 'instance', ...ref })}/frames/${n}`);
      if (theirs !== createHash('sha256').update(ours).digest('hex')) return { same: false, why: `frame ${n} differs` };
    }
  } finally {
    await file.close();
  }
  return { same: true };
}

/** SHA-256 of one frame as the upstream decodes it to Explicit VR Little Endian. */
async function heldFrameHash(client: UpstreamClient, path: string): Promise<string | undefined> {
  const what = 'duplicate check (frames)';
  const response = await client.send({ method: 'GET', path, headers: { accept: `multipart/related; type=application/octet-stream; transfer-syntax=${ELE}` }, what });
  if (response.status !== 200) {
    await skipBody(response.body);
    return undefined;
  }
  try {
    return (await hashSinglePart(response.body as AsyncIterable<Buffer>, String(response.headers['content-type'] ?? '')))?.sha256;
  } catch (e) {
    throw client.failedBody(e, what);
  }
}

/** The first attribute (as a tag path) whose value differs, ignoring what transcoding changes. */
function firstDifference(ours: DicomJsonObject, theirs: DicomJsonObject, prefix: string): string | undefined {
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)].map((k) => k.toUpperCase()));
  for (const key of keys) {
    if (key.startsWith('0002') || key.startsWith('7FE0') || CHANGED_BY_TRANSCODING.has(key)) continue;
    const a = ours[key] ?? ours[key.toLowerCase()];
    const b = theirs[key] ?? theirs[key.toLowerCase()];
    if (isBulk(a) || isBulk(b)) continue;
    if (!a || !b) {
      if (valuesOf(a).length === 0 && valuesOf(b).length === 0) continue;
      return `${prefix}${key}`;
    }
    if (a.vr === 'SQ' || b.vr === 'SQ') {
      const items = valuesOf(a);
      const others = valuesOf(b);
      if (items.length !== others.length) return `${prefix}${key}`;
      for (let i = 0; i < items.length; i++) {
        const inner = firstDifference((items[i] ?? {}) as DicomJsonObject, (others[i] ?? {}) as DicomJsonObject, `${prefix}${key}/${i}/`);
        if (inner) return inner;
      }
      continue;
    }
    if (!sameValues(a, b)) return `${prefix}${key}`;
  }
  return undefined;
}

function isBulk(attr: DicomJsonAttribute | undefined): boolean {
  return attr !== undefined && (attr.BulkDataURI !== undefined || attr.InlineBinary !== undefined);
}

function valuesOf(attr: DicomJsonAttribute | undefined): unknown[] {
  return (attr?.Value ?? []).filter((v) => v !== null && v !== undefined && v !== '');
}

/** Equal values: numbers by value (IS "1" and 1.0 alike), names by their component groups,
 *  text without trailing padding. */
function sameValues(a: DicomJsonAttribute, b: DicomJsonAttribute): boolean {
  const x = valuesOf(a);
  const y = valuesOf(b);
  if (x.length !== y.length) return false;
  const vr = a.vr ?? b.vr;
  return x.every((v, i) => {
    const w = y[i];
    if (NUMBER_VRS.has(vr)) return Number(v) === Number(w);
    if (typeof v === 'object' || typeof w === 'object') return JSON.stringify(normalizedName(v)) === JSON.stringify(normalizedName(w));
    return String(v).trimEnd() === String(w).trimEnd();
  });
}

function normalizedName(value: unknown): Record<string, string> {
  const name = (typeof value === 'object' && value !== null ? value : { Alphabetic: value }) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const group of ['Alphabetic', 'Ideographic', 'Phonetic']) {
    const text = typeof name[group] === 'string' ? (name[group] as string).replace(/\^+$/, '') : '';
    if (text) out[group] = text;
  }
  return out;
}
