/**
 * Hostile QIDO-RS and WADO-RS requests: random query strings (random keys and values, broken
 * percent-encoding, invalid UTF-8, repeated parameters, very long values), random WADO paths
 * (random and real UIDs, dot segments, encoded slashes, NUL, overlong segments, random frame lists
 * and bulk data paths) and random Accept headers. Half of the UIDs are real ones of the store, so
 * that the requests reach the store and not only the parameter checks.
 */
import { Prng } from './prng';
import { buildRequest } from './raw-http';
import { FuzzRequest } from './stow-requests';

export interface KnownInstance {
  study: string;
  series: string;
  sop: string;
}

const KEYS = [
  'PatientName', 'PatientID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'ModalitiesInStudy', 'StudyInstanceUID', 'SeriesInstanceUID',
  'SOPInstanceUID', 'Modality', 'SeriesNumber', 'InstanceNumber', 'ReferringPhysicianName', 'StudyDescription', 'PatientBirthDate',
  'AcquisitionDateTime', '00100010', '0020000D', '00080020', '00091010', '00081110.00081150', 'PatientName.x', 'includefield', 'limit',
  'offset', 'fuzzymatching', 'emptyvaluematching', 'multiplevaluematching', 'TimezoneOffsetFromUTC', 'ScheduledProcedureStepSequence',
  'FFFFFFFF', '7FE00010', 'NotAKeyword', '',
];
const VALUES = [
  '*', '?', 'D*e^J?ne', 'doe', '20240101-', '-', '-20241231', '2024-01-01', '99999999-00000000', '20240101-20230101', '0700', '070000.123456-',
  '1.2.840.10008.5.1.4.1.1.2', '1.2,3.4', 'CT\\MR', 'CT%5CMR', '', '""', 'true', 'false', 'maybe', '-1', '0', '1', '1000001', '99999999999999999999',
  'all', 'PatientName,StudyDate', 'PatientAge', '00100010,ZZZZ', '%', '%G1', '%E0%A4', '%C3%28', '%FF%FE', '%00', '%E2%82%AC', '+', '%2B',
  '%ED%A0%80', 'Müller', '山田^太郎', '\\\\\\', '^^^^', '=', '===', '*'.repeat(50),
];

function percentEncodeBytes(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

function value(rng: Prng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return percentEncodeBytes(rng.bytes(rng.int(1, 20)));
    case 1:
      return rng.ascii(rng.int(1, 30));
    case 2:
      return 'x'.repeat(rng.pick([64, 1000, 6000, 12000]));
    default:
      return rng.pick(VALUES);
  }
}

function key(rng: Prng): string {
  if (rng.chance(0.15)) return rng.ascii(rng.int(1, 12), 'ABCDEFabcdef0123456789.%-_');
  return rng.pick(KEYS);
}

function uid(rng: Prng, known: KnownInstance[], pick: (k: KnownInstance) => string): string {
  if (known.length > 0 && rng.chance(0.5)) return pick(rng.pick(known));
  return rng.pick([
    () => `1.2.${rng.int(0, 99999)}.${rng.int(1, 9999999)}`,
    () => `2.25.${rng.ascii(rng.int(1, 60), '0123456789')}`,
    () => rng.ascii(rng.int(1, 80), '0123456789.'),
    () => rng.pick(['..', '.', '%2e%2e', '%2E', 'a%2Fb', '%2F', '%00', 'x%00y', '1.2.3%20', '%', '%zz', '0', '00.1', '1..2', '-1', 'null', 'undefined', '__proto__']),
    () => '1'.repeat(rng.pick([65, 200, 1025, 3000])),
    () => percentEncodeBytes(rng.bytes(rng.int(1, 12))),
  ])();
}

/** A QIDO-RS search with a random query string. */
export function randomQido(rng: Prng, known: KnownInstance[]): FuzzRequest {
  const k = known.length > 0 ? rng.pick(known) : undefined;
  const prefix = rng.weighted([[8, '/dicomweb'], [1, '/stores/default/dicomweb'], [1, `/stores/${rng.ascii(6, 'abc-')}/dicomweb`]]);
  const path = rng.pick([
    '/studies', '/series', '/instances',
    `/studies/${k && rng.chance(0.7) ? k.study : uid(rng, known, (x) => x.study)}/series`,
    `/studies/${k && rng.chance(0.7) ? k.study : uid(rng, known, (x) => x.study)}/instances`,
    `/studies/${k?.study ?? '1.2.3'}/series/${k && rng.chance(0.7) ? k.series : uid(rng, known, (x) => x.series)}/instances`,
  ]);
  const params: string[] = [];
  for (let i = rng.int(0, 8); i > 0; i--) {
    const kk = key(rng);
    const repeat = rng.chance(0.15) ? rng.int(2, 40) : 1;
    const v = value(rng);
    for (let r = 0; r < repeat; r++) params.push(rng.chance(0.05) ? kk : `${kk}=${v}`);
  }
  const query = params.length > 0 || rng.chance(0.3) ? `?${params.join(rng.chance(0.9) ? '&' : rng.pick([';', '&&', '&amp;']))}` : '';
  const target = `${prefix}${path}${query}`;
  return { description: `GET ${target.slice(0, 300)}${target.length > 300 ? `... (${target.length} characters)` : ''}`, bytes: buildRequest({ target, headers: acceptHeader(rng, 0.3) }), mayGoUnanswered: false };
}

/** A WADO-RS retrieve on a random path. */
export function randomWado(rng: Prng, known: KnownInstance[]): FuzzRequest {
  const k = known.length > 0 && rng.chance(0.7) ? rng.pick(known) : undefined;
  const study = k && rng.chance(0.85) ? k.study : uid(rng, known, (x) => x.study);
  const series = k && rng.chance(0.85) ? k.series : uid(rng, known, (x) => x.series);
  const sop = k && rng.chance(0.85) ? k.sop : uid(rng, known, (x) => x.sop);
  const instance = `/dicomweb/studies/${study}/series/${series}/instances/${sop}`;
  const frames = () =>
    rng.pick([
      '1', '1,2', '2,1,3', '0', '-1', '1,,2', '2147483648', '99999999999999999999', 'a', '1%2C2', ',', '1.5', ' 1', '1,1,1,1,1,1,1,1', '%00',
      Array.from({ length: 500 }, (_, i) => String((i % 3) + 1)).join(','),
    ]);
  const tagPath = () =>
    rng.pick(['7FE00010', '00280010', 'ZZZZZZZZ', '00081110/0/00081150', '7FE00010/../..', '00081110/999/00081150', '00081110/-1/00081150', '0', '7fe00010', 'x/'.repeat(40), '00091010', '00420011']);
  const target = rng.pick([
    () => `/dicomweb/studies/${study}`,
    () => `/dicomweb/studies/${study}/metadata`,
    () => `/dicomweb/studies/${study}/series/${series}`,
    () => `/dicomweb/studies/${study}/series/${series}/metadata`,
    () => instance,
    () => `${instance}/metadata`,
    () => `${instance}/frames/${frames()}`,
    () => `${instance}/frames/${frames()}/rendered`,
    () => `${instance}/rendered`,
    () => `${instance}/bulkdata/${tagPath()}`,
    () => `${instance}/${rng.pick(['..', '.', '%2e%2e/%2e%2e', 'frames', 'frames/', 'bulkdata', 'thumbnail', 'x'.repeat(1100)])}`,
    () => `/dicomweb/${rng.pick(['', 'studies/', '..', 'studies/../../health/live', 'studies//', '%2F%2F', 'studies/%00/series'])}`,
    () => `/dicomweb/studies/${study}?${rng.pick(['accept=application/dicom', 'transfer-syntax=*', 'charset=utf-8', 'includefield=all', '%zz=1', 'quality=200', 'viewport=-1,-1'])}`,
  ])();
  // A NUL byte or a space in the raw request line, which no HTTP client library would send.
  const raw = rng.chance(0.05) ? Buffer.concat([Buffer.from(target), Buffer.from(rng.pick([[0x00], [0x20, 0x41], [0x7f], [0xff]]))]) : target;
  return {
    description: `GET ${target.slice(0, 300)}${target.length > 300 ? `... (${target.length} characters)` : ''}${typeof raw === 'string' ? '' : ` + byte ${raw[raw.length - 1].toString(16)}`}`,
    bytes: buildRequest({ method: rng.chance(0.1) ? rng.pick(['HEAD', 'OPTIONS', 'DELETE', 'PUT']) : 'GET', target: raw, headers: acceptHeader(rng, 0.6) }),
    mayGoUnanswered: typeof raw !== 'string',
  };
}

const MEDIA = [
  'application/dicom', 'application/dicom+json', 'application/json', 'application/octet-stream', 'image/jpeg', 'image/png', 'image/jp2', 'image/jphc',
  'multipart/related; type="application/dicom"', 'multipart/related; type="application/octet-stream"', 'multipart/related; type=application/dicom',
  'multipart/related; type="image/jpeg"', 'multipart/related', 'text/html', 'application/dicom+xml', '*/*', '*', 'application/*', '*/json',
  'multipart/related; type="', ';;;;', 'application/dicom; transfer-syntax=*', 'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50',
  'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1', 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
  'multipart/related; type="application/dicom"; transfer-syntax=9.9.9', 'multipart/related; type="application/dicom"; boundary=x',
];

/** Random Accept header(s): media types, parameters, quality values that parse and that do not. */
export function acceptHeader(rng: Prng, probability: number): [string, string][] {
  if (!rng.chance(probability)) return [];
  const entries: string[] = [];
  for (let i = rng.weighted([[10, rng.int(1, 4)], [1, rng.int(100, 800)]]); i > 0; i--) {
    let e = rng.pick(MEDIA);
    if (rng.chance(0.3)) e += `; q=${rng.pick(['0', '1', '0.5', 'abc', '-1', '1.5', '', '0.0001', '1e3'])}`;
    if (rng.chance(0.1)) e += `; ${rng.ascii(5)}=${rng.ascii(5)}`;
    entries.push(e);
  }
  const headers: [string, string][] = [['Accept', entries.join(rng.pick([', ', ',', ' ,, ']))]];
  if (rng.chance(0.1)) headers.push(['Accept', rng.pick(MEDIA)]);
  return headers;
}

/** Any route, with only the Accept header hostile. */
export function randomAccept(rng: Prng, known: KnownInstance[]): FuzzRequest {
  const k = known.length > 0 ? rng.pick(known) : { study: '1.2.3', series: '1.2.3.4', sop: '1.2.3.4.5' };
  const base = `/dicomweb/studies/${k.study}/series/${k.series}/instances/${k.sop}`;
  const target = rng.pick(['/dicomweb/studies', `/dicomweb/studies/${k.study}`, `/dicomweb/studies/${k.study}/metadata`, base, `${base}/metadata`, `${base}/frames/1`, `${base}/rendered`, `${base}/bulkdata/7FE00010`]);
  let headers = acceptHeader(rng, 1);
  if (rng.chance(0.1)) headers = [['Accept', 'x'.repeat(rng.int(1000, 15000))]];
  return { description: `GET ${target} Accept: ${headers.map(([, v]) => v).join(' | ').slice(0, 300)}`, bytes: buildRequest({ target, headers }), mayGoUnanswered: false };
}
