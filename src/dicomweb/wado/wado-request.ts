/**
 * What a WADO-RS URL names, checked before anything else happens: UIDs (PS3.5 9.1: digits and
 * dots, at most 64 characters, no leading zero in a component), frame lists (PS3.18 10.4.1.1.4:
 * positive integers, comma-separated) and bulk data tag paths. Anything else is a 400 that never
 * reaches a store, so no client text ever becomes part of a file path or a query.
 */
import type { FastifyRequest } from 'fastify';
import { isValidUid } from '../../dicom/uid';
import { InstanceRef, RetrieveScope } from '../../stores/wado-types';
import { BadRequest } from '../errors';

/** Most frames one request may list: bounds the work and the answer of one request. */
export const MAX_FRAMES_PER_REQUEST = 10_000;

export interface WadoParams {
  /** A named store (/stores/{store}/dicomweb/...), resolved by store-target.ts. */
  store?: string;
  study?: string;
  series?: string;
  instance?: string;
  frames?: string;
  '*'?: string;
}

/** Client text quoted in an error message: printable ASCII only, shortened. */
export function quoted(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 80)}...` : clean);
}

function uid(value: string | undefined, what: string): string {
  if (value === undefined || !isValidUid(value)) {
    throw new BadRequest(`${quoted(value ?? '')} is not a valid ${what} (PS3.5 9.1: up to 64 digits and dots, no component with a leading zero)`);
  }
  return value;
}

export function studyScope(p: WadoParams): RetrieveScope {
  return { level: 'study', studyInstanceUid: uid(p.study, 'Study Instance UID') };
}

export function seriesScope(p: WadoParams): RetrieveScope {
  return { level: 'series', studyInstanceUid: uid(p.study, 'Study Instance UID'), seriesInstanceUid: uid(p.series, 'Series Instance UID') };
}

export function instanceRef(p: WadoParams): InstanceRef {
  return {
    studyInstanceUid: uid(p.study, 'Study Instance UID'),
    seriesInstanceUid: uid(p.series, 'Series Instance UID'),
    sopInstanceUid: uid(p.instance, 'SOP Instance UID'),
  };
}

export function instanceScope(p: WadoParams): RetrieveScope {
  return { level: 'instance', ...instanceRef(p) };
}

/** "1,3,5" -> [1, 3, 5], in the order asked (PS3.18 10.4.1.1.4). Range checks need the instance. */
export function frameNumbers(text: string | undefined): number[] {
  const items = (text ?? '').split(',');
  if (items.length > MAX_FRAMES_PER_REQUEST) throw new BadRequest(`more than ${MAX_FRAMES_PER_REQUEST} frames in one request`);
  return items.map((item) => {
    const t = item.trim();
    if (!/^\d{1,10}$/.test(t) || Number(t) < 1) {
      throw new BadRequest(`frame list ${quoted(text ?? '')}: ${quoted(t)} is not a frame number (frames are numbered from 1)`);
    }
    return Number(t);
  });
}

/** A BulkDataURI tag path as this gateway writes them: "7FE00010", "00540016/0/00181074". */
export function bulkDataPath(text: string | undefined): string {
  const path = (text ?? '').toUpperCase();
  if (!/^[0-9A-F]{8}(\/\d{1,9}\/[0-9A-F]{8}){0,64}$/.test(path)) {
    throw new BadRequest(`${quoted(text ?? '')} is not a bulk data path (hexadecimal tags and item numbers joined by "/")`);
  }
  return path;
}

/** The Accept of a request: the "accept" query parameter (PS3.18 8.3.3.1) wins over the header. */
export function acceptOf(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const param = query?.accept;
  if (typeof param === 'string' && param.trim() !== '') return param;
  if (Array.isArray(param)) return param.filter((p) => typeof p === 'string').join(', ') || request.headers.accept;
  return request.headers.accept;
}
