/**
 * Typed reads of one YAML mapping for the config loaders: every problem is pushed with where it is
 * (`stores[2] (orthanc): auth.passwordEnv ...`), so that one failed start lists them all, and
 * unknown keys are problems too (a misspelt `pasword` must not leave a store unauthenticated).
 */
import { isMapping, Mapping } from './config-values';

export type Env = Record<string, string | undefined>;

/** Typed reads of one mapping, each problem prefixed with where it is. */
export class FieldReader {
  readonly present: boolean;
  private readonly map: Mapping;

  constructor(
    value: unknown,
    private readonly where: string,
    private readonly problems: string[],
    private readonly path = '',
  ) {
    this.present = value !== undefined && value !== null;
    if (this.present && !isMapping(value)) problems.push(`${where}: ${path.replace(/\.$/, '')}: expected a mapping`);
    this.map = isMapping(value) ? value : {};
  }

  /** "stores[1] (orthanc): auth." */
  get label(): string {
    return `${this.where}: ${this.path}`;
  }

  child(key: string, keys: string[] | undefined): FieldReader {
    const reader = new FieldReader(this.map[key], this.where, this.problems, `${this.path}${key}.`);
    if (keys) reader.onlyKeys(keys);
    return reader;
  }

  /** A problem with the value of `key`, said as what was expected. */
  problem(key: string, expected: string): void {
    this.problems.push(`${this.label}${key}: ${expected}`);
  }

  onlyKeys(allowed: string[]): void {
    for (const key of Object.keys(this.map)) {
      if (!allowed.includes(key)) this.problems.push(`${this.label}${key}: unknown key (expected one of ${allowed.join(', ')})`);
    }
  }

  string(key: string, required = false): string | undefined {
    const v = this.map[key];
    if (v === undefined || v === null || v === '') {
      if (required) this.problems.push(`${this.label}${key}: required`);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problems.push(`${this.label}${key}: expected a string`);
      return undefined;
    }
    return String(v);
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const v = this.map[key];
    if (v === undefined || v === null) return fallback;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${this.label}${key}: "${String(v)}" is not an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.map[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    this.problems.push(`${this.label}${key}: "${String(v)}" is not a boolean (true/false)`);
    return fallback;
  }

  /** A list of strings, or undefined when the key is absent (a problem when it is not such a list). */
  stringList(key: string, check: (item: string) => boolean = () => true): string[] | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((item) => typeof item === 'string' && check(item))) {
      this.problems.push(`${this.label}${key}: expected a non-empty list of strings`);
      return undefined;
    }
    return v as string[];
  }

  /** Whether the mapping has this key (with any value). */
  has(key: string): boolean {
    return this.map[key] !== undefined && this.map[key] !== null;
  }

  /** Like secret(), for one that may be left out entirely: undefined then. */
  optionalSecret(key: string, envKey: string, env: Env): string | undefined {
    return this.has(key) || this.has(envKey) ? this.secret(key, envKey, env) : undefined;
  }

  /** A secret given inline (`key`) or by the name of an environment variable (`envKey`). The
   *  value is never put into a message. */
  secret(key: string, envKey: string, env: Env): string {
    const inline = this.map[key];
    const variable = this.map[envKey];
    if (inline !== undefined && variable !== undefined) {
      this.problems.push(`${this.label}${key}: give either ${key} or ${envKey}, not both`);
      return '';
    }
    if (variable !== undefined) {
      if (typeof variable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
        this.problems.push(`${this.label}${envKey}: expected the name of an environment variable`);
        return '';
      }
      const value = env[variable];
      if (value === undefined || value === '') {
        this.problems.push(`${this.label}${envKey}: the environment variable ${variable} is not set`);
        return '';
      }
      return value;
    }
    if (typeof inline !== 'string' || inline === '') {
      this.problems.push(`${this.label}${key}: required (or ${envKey}, the name of an environment variable holding it)`);
      return '';
    }
    return inline;
  }
}
