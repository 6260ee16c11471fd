/**
 * Typed reads of settings that may come from an environment variable or from a (nested) key of
 * the YAML file, the variable winning: `str('AUTH_JWT_ISSUER', 'auth.jwt.issuer')`. Every problem
 * names both, so one failed start lists them all.
 */
import { isMapping, Mapping } from './config-values';
import { Env } from './field-reader';

export class SettingReader {
  constructor(
    private readonly file: Mapping,
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  /** The raw value: the variable's text, else the file's value at the dotted path. */
  raw(envKey: string | undefined, path: string): unknown {
    const fromEnv = envKey ? this.env[envKey] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    let at: unknown = this.file;
    for (const key of path.split('.')) at = isMapping(at) ? at[key] : undefined;
    return at;
  }

  label(envKey: string | undefined, path: string): string {
    return envKey ? `${envKey} (${path})` : path;
  }

  problem(envKey: string | undefined, path: string, text: string): void {
    this.problems.push(`${this.label(envKey, path)}: ${text}`);
  }

  str(envKey: string | undefined, path: string, fallback?: string): string | undefined {
    const v = this.raw(envKey, path);
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(envKey, path, 'expected a string');
      return fallback;
    }
    return String(v);
  }

  int(envKey: string | undefined, path: string, fallback: number, min: number, max: number): number {
    const v = this.raw(envKey, path);
    if (v === undefined || v === null || v === '') return fallback;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(envKey, path, `"${String(v)}" is not an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  }

  bool(envKey: string | undefined, path: string, fallback: boolean): boolean {
    const v = this.raw(envKey, path);
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'boolean') return v;
    if (/^(true|1|yes)$/i.test(String(v))) return true;
    if (/^(false|0|no)$/i.test(String(v))) return false;
    this.problem(envKey, path, `"${String(v)}" is not a boolean (true/false)`);
    return fallback;
  }

  /** A list: a YAML list of strings, or comma-separated text (the form a variable can take). */
  list(envKey: string | undefined, path: string, fallback: string[]): string[] {
    const v = this.raw(envKey, path);
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v.map((s) => s.trim()).filter((s) => s !== '');
    this.problem(envKey, path, 'expected a list of strings (or comma-separated text)');
    return fallback;
  }

  /** Problems for keys of the mapping at `path` that are not `allowed`. */
  onlyKeys(path: string, allowed: string[]): void {
    const at = this.raw(undefined, path);
    if (at === undefined || at === null) return;
    if (!isMapping(at)) {
      this.problems.push(`${path}: expected a mapping`);
      return;
    }
    for (const key of Object.keys(at)) if (!allowed.includes(key)) this.problems.push(`${path}.${key}: unknown key (expected one of ${allowed.join(', ')})`);
  }
}
