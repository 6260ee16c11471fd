/**
 * Content-Type header parsing and formatting (RFC 9110 media types, RFC 2045
 * parameters) for the multipart/related bodies of STOW-RS and WADO-RS.
 *
 * Parsing is liberal where real DICOMweb clients are sloppy: whitespace around
 * `;` and `=`, and unquoted parameter values containing `/` (many clients send
 * `type=application/dicom` without the quotes PS3.18 asks for). Anything that
 * cannot be read unambiguously yields `undefined`, so callers answer 415/400
 * instead of guessing.
 */

export interface ContentType {
  /** `type/subtype`, lower-cased. */
  mediaType: string;
  /** Parameter names lower-cased; values unquoted and unescaped, case kept. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters (HTAB allowed) and a stray quote make an unquoted value ambiguous. */
const BAD_UNQUOTED = /[\x00-\x08\x0a-\x1f\x7f"]/;
/** Header values we emit must stay printable ASCII so they cannot inject a header line. */
const PRINTABLE = /^[\t\x20-\x7e]*$/;

/** Parameters PS3.18 wants quoted even when the value would be a valid token. */
const ALWAYS_QUOTED = new Set(['type']);

function isWhitespace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/**
 * Defines an own property even for names such as `__proto__`, which a plain
 * assignment would turn into a prototype change.
 */
function defineOnce(target: Record<string, string>, name: string, value: string): void {
  if (Object.prototype.hasOwnProperty.call(target, name)) return; // first occurrence wins
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

export function parseContentType(header: string | undefined): ContentType | undefined {
  if (header === undefined) return undefined;
  const length = header.length;
  const firstSemicolon = header.indexOf(';');
  const typeEnd = firstSemicolon === -1 ? length : firstSemicolon;
  const mediaType = header.slice(0, typeEnd).trim().toLowerCase();
  if (!MEDIA_TYPE.test(mediaType)) return undefined;

  const params: Record<string, string> = {};
  let i = typeEnd; // always at a ';' or at the end when the loop starts
  while (i < length) {
    i++; // the ';'
    while (isWhitespace(header[i])) i++;
    if (i >= length) break; // trailing ';'
    if (header[i] === ';') continue; // empty parameter, e.g. ';;'

    const nameStart = i;
    while (i < length && header[i] !== '=' && header[i] !== ';') i++;
    const name = header.slice(nameStart, i).trim().toLowerCase();
    if (header[i] !== '=' || !TOKEN.test(name)) return undefined;
    i++; // the '='
    while (isWhitespace(header[i])) i++;

    let value: string;
    if (header[i] === '"') {
      i++;
      value = '';
      for (;;) {
        if (i >= length) return undefined; // unterminated quoted-string
        const c = header[i++];
        if (c === '"') break;
        if (c === '\\') {
          if (i >= length) return undefined;
          value += header[i++];
        } else {
          value += c;
        }
      }
      while (isWhitespace(header[i])) i++;
      if (i < length && header[i] !== ';') return undefined; // text after the closing quote
    } else {
      const valueStart = i;
      while (i < length && header[i] !== ';') i++;
      value = header.slice(valueStart, i).trim();
      if (BAD_UNQUOTED.test(value)) return undefined;
    }
    defineOnce(params, name, value);
  }
  return { mediaType, params };
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Formats `mediaType; name=value; ...`, quoting values that are not tokens
 * (a `/`, `=` or space needs quotes) and always quoting `type`, as PS3.18
 * requires: `multipart/related; type="application/dicom"; boundary=...`.
 * Throws a TypeError for input that would produce an invalid or injected header.
 */
export function formatContentType(mediaType: string, params: Record<string, string> = {}): string {
  if (!MEDIA_TYPE.test(mediaType)) throw new TypeError(`invalid media type: ${JSON.stringify(mediaType)}`);
  let text = mediaType;
  for (const [name, value] of Object.entries(params)) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid parameter name: ${JSON.stringify(name)}`);
    if (!PRINTABLE.test(value)) throw new TypeError(`invalid value for parameter ${name}`);
    const quoted = ALWAYS_QUOTED.has(name.toLowerCase()) || !TOKEN.test(value);
    text += `; ${name}=${quoted ? quote(value) : value}`;
  }
  return text;
}
