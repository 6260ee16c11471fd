/**
 * DICOM JSON text with attributes in ascending tag order, as F.2.2 requires.
 *
 * JSON.stringify cannot guarantee that order: JS objects list integer-like keys first, and tags
 * such as '30060020' (RT Structure Set) or '60003000' (Overlay Data) are integer-like, while
 * '00100010' (leading zero) is not. So JSON.stringify(toDicomJson(...)) would move those
 * attributes to the front; this writer sorts each object's keys instead.
 */
import { DicomJsonAttribute, DicomJsonObject } from './dicom-json';

export function stringifyDicomJson(obj: DicomJsonObject): string {
  const keys = Object.keys(obj);
  let sorted = true;
  for (let k = 1; k < keys.length && sorted; k++) sorted = keys[k - 1] < keys[k];
  if (!sorted) keys.sort();
  let out = '{';
  for (let k = 0; k < keys.length; k++) {
    if (k > 0) out += ',';
    out += JSON.stringify(keys[k]) + ':' + stringifyAttribute(obj[keys[k]]);
  }
  return out + '}';
}

function stringifyAttribute(attr: DicomJsonAttribute): string {
  let out = '{"vr":' + JSON.stringify(attr.vr);
  if (attr.Value !== undefined) {
    out += ',"Value":[';
    for (let k = 0; k < attr.Value.length; k++) {
      if (k > 0) out += ',';
      const v = attr.Value[k];
      out += attr.vr === 'SQ' && v !== null && typeof v === 'object' ? stringifyDicomJson(v as DicomJsonObject) : JSON.stringify(v) ?? 'null';
    }
    out += ']';
  }
  if (attr.BulkDataURI !== undefined) out += ',"BulkDataURI":' + JSON.stringify(attr.BulkDataURI);
  if (attr.InlineBinary !== undefined) out += ',"InlineBinary":' + JSON.stringify(attr.InlineBinary);
  return out + '}';
}
