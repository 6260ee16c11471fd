/**
 * Accept header parsing (RFC 9110 12.5.1): media ranges with their parameters and q-values,
 * ordered by preference. WADO negotiation builds on it; other routes use `accepts`.
 */
import { parseContentType } from './multipart/content-type';

export interface MediaRange {
  type: string; // e.g. "multipart/related", "*/*"
  params: Record<string, string>; // lower-case names, q removed
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [{ type: '*/*', params: {}, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const piece of splitTopLevel(header)) {
    const parsed = parseContentType(piece);
    if (!parsed) continue;
    const { q: qText, ...params } = parsed.params;
    const q = qText === undefined ? 1 : Number(qText);
    if (!Number.isFinite(q) || q < 0 || q > 1) continue;
    ranges.push({ type: parsed.mediaType, params, q });
  }
  return ranges.sort((a, b) => b.q - a.q);
}

/** Splits on commas that are not inside quoted strings (type="multipart/related, ..." is legal). */
function splitTopLevel(header: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '"' && header[i - 1] !== '\\') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

function rangeMatches(range: string, mediaType: string): boolean {
  if (range === '*/*') return true;
  if (range.endsWith('/*')) return mediaType.startsWith(range.slice(0, -1));
  return range === mediaType;
}

/** The first of `offered` (in server preference order) the client accepts with q > 0, if any. */
export function negotiate(header: string | undefined, offered: string[]): string | undefined {
  const ranges = parseAccept(header);
  let best: { type: string; q: number; rank: number } | undefined;
  offered.forEach((type, rank) => {
    // The most specific matching range decides the q-value of a type (RFC 9110 12.5.1).
    const matching = ranges
      .filter((r) => rangeMatches(r.type, type))
      .sort((a, b) => specificity(b.type) - specificity(a.type))[0];
    if (!matching || matching.q <= 0) return;
    if (!best || matching.q > best.q || (matching.q === best.q && rank < best.rank)) {
      best = { type, q: matching.q, rank };
    }
  });
  return best?.type;
}

function specificity(range: string): number {
  return range === '*/*' ? 0 : range.endsWith('/*') ? 1 : 2;
}
