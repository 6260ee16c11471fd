/**
 * dcmjs dataset -> DICOM JSON (PS3.18 Annex F): PN as {"Alphabetic": ...}, AT as "ggggeeee",
 * empty values without "Value", binary values up to a threshold as InlineBinary and larger ones
 * (and Pixel Data, always) as bulk data. Bulk data is first written with an opaque key in place of
 * the BulkDataURI; `withBulkDataUris` puts the caller's URIs in when the metadata is served, so the
 * archive does not need to know the host it is served from.
 */
import { createHash } from 'node:crypto';
import { DcmjsDataset, DcmjsElement } from './dcmjs-binding';
import { T } from './dicom-tags';

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

/** Where a bulk value sits: top-level tag, or "seqTag/itemIndex/tag..." inside sequences. */
export interface BulkDataLocation {
  key: string;
  path: string;
  vr: string;
}

export const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** dcmjs keeps the dictionary's ambiguous VRs in a few places. */
export function concreteVr(vr: string): string {
  if (vr === 'ox') return 'OW';
  if (vr === 'xs') return 'US';
  return vr;
}

/** The opaque key of a bulk value: stable for an instance's tag path, meaningless to clients. */
export function bulkDataKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 40);
}

export function binaryBytes(element: DcmjsElement): Buffer {
  const parts = (element.Value ?? []).filter((v): v is ArrayBuffer => v instanceof ArrayBuffer).map((v) => Buffer.from(v));
  return Buffer.concat(parts);
}

export interface DicomJsonConversion {
  dataset: DicomJsonDataset;
  bulk: BulkDataLocation[];
}

export function toDicomJson(dict: DcmjsDataset, bulkThresholdBytes: number): DicomJsonConversion {
  const bulk: BulkDataLocation[] = [];
  const dataset = convertDataset(dict, '', bulkThresholdBytes, bulk);
  return { dataset, bulk };
}

function convertDataset(dict: DcmjsDataset, prefix: string, threshold: number, bulk: BulkDataLocation[]): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of Object.keys(dict).sort()) {
    // Group lengths and trailing padding are encoding, not data: they have no place in DICOM JSON.
    if (tag.endsWith('0000') || tag === 'FFFCFFFC') continue;
    const element = dict[tag];
    const vr = concreteVr(element.vr);
    const path = prefix + tag;
    if (BINARY_VRS.has(vr)) {
      const bytes = binaryBytes(element);
      // Pixel Data (also an icon's, which may be encapsulated) is always bulk data.
      if (tag === T.PixelData || bytes.length > threshold) {
        const key = bulkDataKey(path);
        bulk.push({ key, path, vr });
        out[tag] = { vr, BulkDataURI: key };
      } else {
        out[tag] = bytes.length > 0 ? { vr, InlineBinary: bytes.toString('base64') } : { vr };
      }
      continue;
    }
    if (vr === 'SQ') {
      const items = (element.Value ?? []) as DcmjsDataset[];
      out[tag] = { vr, Value: items.map((item, i) => convertDataset(item ?? {}, `${path}/${i}/`, threshold, bulk)) };
      if (items.length === 0) delete out[tag].Value;
      continue;
    }
    const values = (element.Value ?? []).map((v) => convertValue(vr, v));
    out[tag] = values.some((v) => v !== null) ? { vr, Value: values } : { vr };
  }
  return out;
}

function convertValue(vr: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (vr === 'PN') {
    if (typeof value === 'string') return value === '' ? null : { Alphabetic: value };
    const groups = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'string' && v !== '');
    return groups.length > 0 ? Object.fromEntries(groups) : null;
  }
  if (vr === 'AT' && typeof value === 'number') return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (typeof value === 'string') return value === '' ? null : value;
  return value;
}

/** A copy of a stored DICOM JSON dataset with each bulk key replaced by the caller's URI. */
export function withBulkDataUris(dataset: DicomJsonDataset, uriFor: (key: string) => string): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [tag, attribute] of Object.entries(dataset)) {
    if (attribute.BulkDataURI !== undefined) out[tag] = { vr: attribute.vr, BulkDataURI: uriFor(attribute.BulkDataURI) };
    else if (attribute.vr === 'SQ' && attribute.Value) out[tag] = { vr: 'SQ', Value: (attribute.Value as DicomJsonDataset[]).map((item) => withBulkDataUris(item, uriFor)) };
    else out[tag] = attribute;
  }
  return out;
}

/** The first value of an attribute as text (PN: its alphabetic group), or undefined. */
export function firstText(dataset: DicomJsonDataset, tag: string): string | undefined {
  const v = dataset[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return (v as { Alphabetic?: string }).Alphabetic;
  return String(v);
}

export function firstNumber(dataset: DicomJsonDataset, tag: string): number | undefined {
  const v = dataset[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
