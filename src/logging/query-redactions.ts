/**
 * What a log line written while handling a request must not repeat: the values of its query
 * string. QIDO matches on patient names, IDs and birth dates; the gateway never logs a URL, but an
 * upstream's error message (logged with a 5xx) may quote the query it was sent. UIDs stay
 * readable (logs are meant to carry them), and so do the paging and field-selection parameters.
 */
const KEPT_PARAMETERS = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);
/** Shorter values would blank out unrelated words and numbers. */
const MIN_LENGTH = 3;
const UID = /^\d+(\.\d+)+$/;

export function queryRedactions(query: unknown): string[] {
  if (query === null || typeof query !== 'object') return [];
  const values = new Set<string>();
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    if (KEPT_PARAMETERS.has(name.toLowerCase())) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string') continue;
      for (const piece of [one, ...one.split(/[,\\]/)]) {
        const v = piece.trim();
        if (v.length >= MIN_LENGTH && !UID.test(v)) values.add(v);
      }
    }
  }
  // Longest first, so that "Doe^Jane" goes whole before "Doe" could cut it.
  return [...values].sort((a, b) => b.length - a.length);
}

export function redact(text: string, values: readonly string[] | undefined): string {
  if (!values || values.length === 0) return text;
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join('[redacted]');
  return out;
}
