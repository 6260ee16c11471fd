/**
 * An upstream's flat QIDO-RS result object -> the gateway's QidoMatch (one object per level), so
 * the answer is written by the same code as the embedded store's (dicomweb/qido/qido-response.ts):
 * the same columns, Type R attributes, and the gateway's own Retrieve URLs. The upstream's
 * Retrieve URL and Specific Character Set are dropped; person names are written as the embedded
 * store writes them, trailing '^' trimmed (PS3.5 6.2.1.1) and a name of delimiters only ('^^^^',
 * as Orthanc passes on) empty.
 */
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { formatPersonName, parsePersonName, PersonName } from '../../dicom/person-name';
import { LEVEL_DEPTH, QidoTags, qidoLevelOfTag } from '../../dicom/qido-attributes';
import { hex8 } from '../../dicom/value-decoding';
import { QidoLevel, QidoMatch } from '../qido-query';

const DROPPED = new Set([hex8(QidoTags.RetrieveURL), hex8(QidoTags.SpecificCharacterSet)]);
const AVAILABILITY = hex8(QidoTags.InstanceAvailability);
export const UID_KEYS: Record<QidoLevel, string> = {
  study: hex8(QidoTags.StudyInstanceUID),
  series: hex8(QidoTags.SeriesInstanceUID),
  instance: hex8(QidoTags.SOPInstanceUID),
};

export function splitResult(flat: DicomJsonObject, searched: QidoLevel): QidoMatch {
  const levels: Partial<Record<QidoLevel, Record<string, DicomJsonAttribute>>> = { study: {} };
  if (LEVEL_DEPTH[searched] >= LEVEL_DEPTH.series) levels.series = {};
  if (searched === 'instance') levels.instance = {};
  addByLevel(levels, flat, searched);
  return { study: levels.study!, series: levels.series, instance: levels.instance };
}

/** Adds the attributes of `flat` that a level object does not have yet (those it has win). */
export function mergeInto(match: QidoMatch, flat: DicomJsonObject, searched: QidoLevel): void {
  const extra = splitResult(flat, searched);
  for (const level of ['study', 'series', 'instance'] as const) {
    const target = match[level];
    const source = extra[level];
    if (!target || !source) continue;
    for (const [key, attr] of Object.entries(source)) if (!(key in target)) target[key] = attr;
  }
}

export function uidOf(object: DicomJsonObject | undefined, level: QidoLevel): string | undefined {
  const value = object?.[UID_KEYS[level]]?.Value?.[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function addByLevel(levels: Partial<Record<QidoLevel, Record<string, DicomJsonAttribute>>>, flat: DicomJsonObject, searched: QidoLevel): void {
  for (const [key, attr] of Object.entries(flat)) {
    if (DROPPED.has(key) || !/^[0-9A-Fa-f]{8}$/.test(key) || typeof attr !== 'object' || attr === null) continue;
    const level = key === AVAILABILITY ? searched : qidoLevelOfTag(parseInt(key, 16));
    const target = levels[level];
    if (target) target[key.toUpperCase()] = attr.vr === 'PN' ? tidyNames(attr) : attr;
  }
}

/** Names as the embedded store writes them (dicom/person-name.ts): trailing delimiters trimmed,
 *  an empty value null, a single empty value no value at all. */
function tidyNames(attr: DicomJsonAttribute): DicomJsonAttribute {
  if (!attr.Value) return attr;
  const values = attr.Value.map((v) => {
    if (typeof v !== 'object' || v === null) return typeof v === 'string' ? parsePersonName(v) : null;
    return parsePersonName(formatPersonName(v as PersonName));
  });
  return values.length === 1 && values[0] === null ? { vr: attr.vr } : { vr: attr.vr, Value: values };
}
