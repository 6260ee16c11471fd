/**
 * Media types as DICOMweb uses them in Content-Type and Accept (RFC 9110 8.3.1, 12.5.1):
 * `multipart/related; type="application/dicom"; boundary=...`, `application/dicom;
 * transfer-syntax=...`, several ranges separated by commas. Quoted or bare parameter values both
 * parse, since clients (and AWS's own examples) send `type=application/octet-stream` unquoted.
 */
export interface MediaType {
  /** Lower case `type/subtype`. */
  mediaType: string;
  /** Parameter names lower case, values unquoted. */
  params: Record<string, string>;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

export function parseMediaType(text: string): MediaType | undefined {
  const [type, ...rest] = splitOutsideQuotes(text, ';').map((s) => s.trim());
  if (!type || !/^[^\s/]+\/[^\s/]+$/.test(type)) return undefined;
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    let value = p.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, eq).trim().toLowerCase()] = value;
  }
  return { mediaType: type.toLowerCase(), params };
}

/** The media ranges of an Accept header in the order written (q-values are not honoured). */
export function parseAccept(header: string | undefined): MediaType[] {
  if (header === undefined || header.trim() === '') return [];
  return splitOutsideQuotes(header, ',')
    .map((part) => parseMediaType(part.trim()))
    .filter((m): m is MediaType => m !== undefined);
}
