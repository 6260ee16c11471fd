/**
 * The query string of a request as decoded name/value pairs, in order, repeats kept.
 *
 * Decoding follows RFC 3986 2.1 as PS3.18 8.3.3 asks: every %XX is a byte, the bytes are UTF-8
 * ('M%C3%BCller' is 'Müller', 'Wang%5E*' is 'Wang^*'). '+' is a plus sign, not a space: that is
 * the HTML form convention, and '+' is meaningful in DICOM values (UTC offsets of DT, '+0100').
 * A '%' without two hex digits after it, or bytes that are not UTF-8, are refused rather than
 * guessed at.
 */
import { InvalidQuery } from '../errors';

export interface QueryParameter {
  name: string;
  value: string;
}

/** The raw query of a request target ('/dicomweb/studies?a=1#x' -> 'a=1'). */
export function rawQueryOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const end = url.indexOf('#', start);
  return url.slice(start + 1, end < 0 ? undefined : end);
}

export function parseQueryString(raw: string): QueryParameter[] {
  const out: QueryParameter[] = [];
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decode(eq < 0 ? piece : piece.slice(0, eq), 'parameter name');
    const value = eq < 0 ? '' : decode(piece.slice(eq + 1), `value of ${name}`);
    out.push({ name, value });
  }
  return out;
}

function decode(text: string, what: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidQuery(
      `the ${what} "${text.slice(0, 80)}" has a bad percent-encoding: each % must start %XX, and the bytes must be UTF-8 (RFC 3986 2.1)`,
    );
  }
}
