/** Checks shared by the config readers. */

export type Mapping = Record<string, unknown>;

/** A YAML mapping (not a list, not a scalar). */
export function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
