/**
 * Reads the `edge` mapping of the YAML file (store-and-forward, see edge-config.ts) into an
 * EdgeConfig; undefined when there is none (the edge is off). As in load-stores.ts, every problem
 * names its path (`edge.destinations[1] (cloud): retention.days: ...`) and unknown keys are problems:
 * a misspelt `retenton` must not leave a spool that is never cleaned.
 *
 * ```yaml
 * edge:
 *   spool: default              # optional: a local store; default = defaultStore (must be local)
 *   destinations:               # required, at least one
 *     - store: cloud            # a configured store, not the spool; each store at most once
 *       routes:                 # optional (absent = every instance); any route matching takes it
 *         - modality: [CT, MR]  # every list here also takes a single string: `modality: CT`
 *           callingClient: [ct-scanner-1]
 *           station: [CT01]     # Station Name (0008,1010)
 *           attributes: { StudyDescription: "stroke|code", "00080080": "^General" }  # keyword or
 *                                # tag -> regular expression, case-insensitive, any value matching
 *       retention: { mode: delete-after-confirmed }   # or {mode: keep-days, days: 7}
 *                                # | {mode: disk-watermark, minFreeBytes: 10737418240} | {mode: keep}
 *                                # | a bare mode name (`retention: keep`); default keep
 *       batchSize: 20            # 1-1000
 *       maxAttempts: 10          # 1-1000
 *       backoff: { baseDelayMs: 1000, maxDelayMs: 300000 }
 *       statConcurrency: 2       # 1-64, reserved for STAT
 *       routineConcurrency: 2    # 1-64
 *   priorityRules:               # optional
 *     - when: { modality: [CT], attributes: { StudyDescription: "stroke|code" } }  # as a route
 *       priority: STAT           # STAT, HIGH, ROUTINE, LOW (any case) or a STAT equivalent (S, EMERGENCY, EM)
 *   priorityHeaderClients: ["*"] # who may send X-Priority; "*" = any client; default none
 *   reconcileIntervalMs: 30000   # 1000-86400000
 *   retentionIntervalMs: 60000   # 1000-86400000
 * ```
 */
import { EDGE_DEFAULTS, EdgeConfig, EdgeDestinationConfig, InstanceConditions, PriorityRule, RetentionPolicy } from './edge-config';
import { StoreConfig } from './store-config';
import { attributeKey } from '../dicom/instance-conditions';
import { lookupTag } from '../dicom/dictionary';
import { parsePriority, STAT_EQUIVALENTS } from '../dicom/priority';
import { isMapping, Mapping } from './config-values';

const EDGE_KEYS = ['spool', 'destinations', 'priorityRules', 'priorityHeaderClients', 'reconcileIntervalMs', 'retentionIntervalMs'];
const DESTINATION_KEYS = ['store', 'routes', 'retention', 'batchSize', 'maxAttempts', 'backoff', 'statConcurrency', 'routineConcurrency'];
const CONDITION_KEYS = ['modality', 'callingClient', 'station', 'attributes'];
const RETENTION_KEYS: Record<RetentionPolicy['mode'], string[]> = {
  'delete-after-confirmed': ['mode'],
  'keep-days': ['mode', 'days'],
  'disk-watermark': ['mode', 'minFreeBytes'],
  keep: ['mode'],
};
/** Values that no regular expression can be tested against (PS3.18 F.2.7: no "Value" text). */
const UNMATCHABLE_VRS = new Set(['SQ', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

export function loadEdge(file: Mapping, stores: StoreConfig[], defaultStore: string, problems: string[]): EdgeConfig | undefined {
  if (file.edge === undefined) return undefined;
  if (!isMapping(file.edge)) {
    problems.push('edge: expected a mapping (spool, destinations, priorityRules, ...)');
    return undefined;
  }
  const f = new Fields(file.edge, 'edge.', problems, EDGE_KEYS);
  const spool = readSpool(f, stores, defaultStore);
  const destinations: EdgeDestinationConfig[] = [];
  const list = f.list('destinations', true);
  if (list?.length === 0) f.problem('destinations', 'expected a non-empty list of destinations');
  list?.forEach((entry, index) => {
    const destination = readDestination(entry, `edge.destinations[${index}]`, stores, spool, destinations, problems);
    if (destination) destinations.push(destination);
  });
  const priorityRules: PriorityRule[] = [];
  f.list('priorityRules')?.forEach((entry, index) => {
    const rule = readRule(entry, `edge.priorityRules[${index}]`, problems);
    if (rule) priorityRules.push(rule);
  });
  return {
    spool,
    destinations,
    priorityRules,
    priorityHeaderClients: f.strings('priorityHeaderClients', true) ?? [],
    reconcileIntervalMs: f.integer('reconcileIntervalMs', EDGE_DEFAULTS.reconcileIntervalMs, 1_000, 86_400_000),
    retentionIntervalMs: f.integer('retentionIntervalMs', EDGE_DEFAULTS.retentionIntervalMs, 1_000, 86_400_000),
  };
}

/** The spool holds every instance until its destinations confirmed it: it must be a local store. */
function readSpool(f: Fields, stores: StoreConfig[], defaultStore: string): string {
  const given = f.string('spool');
  const name = given ?? defaultStore;
  const store = stores.find((s) => s.name === name);
  // An unknown defaultStore is already reported by loadStores.
  if (!store && given !== undefined) f.problem('spool', `"${given}" is not the name of a configured store (${names(stores)})`);
  if (store && store.kind !== 'local') {
    f.problem('spool', given !== undefined
      ? `"${name}" is a ${store.kind} store; the spool must be a local store`
      : `not given, and the default store "${name}" is a ${store.kind} store; name a local store as the spool`);
  }
  return name;
}

function readDestination(
  entry: unknown,
  where: string,
  stores: StoreConfig[],
  spool: string,
  earlier: EdgeDestinationConfig[],
  problems: string[],
): EdgeDestinationConfig | undefined {
  if (!isMapping(entry)) {
    problems.push(`${where}: expected a mapping with at least store`);
    return undefined;
  }
  const at = `${where}${typeof entry.store === 'string' ? ` (${entry.store})` : ''}: `;
  const f = new Fields(entry, at, problems, DESTINATION_KEYS);
  const store = f.string('store', true) ?? '';
  if (store && !stores.some((s) => s.name === store)) f.problem('store', `"${store}" is not the name of a configured store (${names(stores)})`);
  else if (store && store === spool) f.problem('store', `"${store}" is the spool itself`);
  else if (store && earlier.some((d) => d.store === store)) f.problem('store', 'another destination already names this store');
  let routes: InstanceConditions[] | undefined;
  const routeList = f.list('routes');
  if (routeList?.length === 0) f.problem('routes', 'expected a non-empty list (leave routes out to take every instance)');
  else if (routeList) routes = routeList.map((r, i) => readConditions(r, `${at}routes[${i}].`, problems));
  const backoff = f.child('backoff', ['baseDelayMs', 'maxDelayMs']);
  const base = backoff.integer('baseDelayMs', EDGE_DEFAULTS.backoff.baseDelayMs, 1, 3_600_000);
  const max = backoff.integer('maxDelayMs', EDGE_DEFAULTS.backoff.maxDelayMs, 1, 86_400_000);
  if (max < base) backoff.problem('maxDelayMs', `${max} is smaller than backoff.baseDelayMs ${base}`);
  return {
    store,
    ...(routes ? { routes } : {}),
    retention: readRetention(entry.retention, `${at}retention`, problems),
    batchSize: f.integer('batchSize', EDGE_DEFAULTS.batchSize, 1, 1000),
    maxAttempts: f.integer('maxAttempts', EDGE_DEFAULTS.maxAttempts, 1, 1000),
    backoff: { baseDelayMs: base, maxDelayMs: max },
    statConcurrency: f.integer('statConcurrency', EDGE_DEFAULTS.statConcurrency, 1, 64),
    routineConcurrency: f.integer('routineConcurrency', EDGE_DEFAULTS.routineConcurrency, 1, 64),
  };
}

/** `{mode: keep-days, days: 7}`, or a bare mode name for the modes without a parameter. */
function readRetention(value: unknown, at: string, problems: string[]): RetentionPolicy {
  if (value === undefined || value === null) return { mode: 'keep' };
  if (typeof value !== 'string' && !isMapping(value)) {
    problems.push(`${at}: expected a mode name or a mapping with mode`);
    return { mode: 'keep' };
  }
  const f = new Fields(typeof value === 'string' ? { mode: value } : value, `${at}.`, problems);
  const mode = f.string('mode', true);
  if (mode === undefined) return { mode: 'keep' };
  if (!(mode in RETENTION_KEYS)) {
    f.problem('mode', `"${mode}" is not one of ${Object.keys(RETENTION_KEYS).join(', ')}`);
    return { mode: 'keep' };
  }
  f.onlyKeys(RETENTION_KEYS[mode as RetentionPolicy['mode']]);
  switch (mode) {
    case 'keep-days':
      if (f.map.days === undefined) f.problem('days', 'required for keep-days');
      return { mode, days: f.integer('days', 7, 1, 36_500) };
    case 'disk-watermark':
      if (f.map.minFreeBytes === undefined) f.problem('minFreeBytes', 'required for disk-watermark');
      return { mode, minFreeBytes: f.integer('minFreeBytes', 10 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER) };
    default:
      return { mode: mode as 'keep' | 'delete-after-confirmed' };
  }
}

function readRule(entry: unknown, where: string, problems: string[]): PriorityRule | undefined {
  if (!isMapping(entry)) {
    problems.push(`${where}: expected a mapping with when and priority`);
    return undefined;
  }
  const f = new Fields(entry, `${where}: `, problems, ['when', 'priority']);
  if (entry.when === undefined) f.problem('when', 'required (the conditions, as in a route)');
  const when = readConditions(entry.when ?? {}, `${where}: when.`, problems, entry.when === undefined);
  const text = f.string('priority', true);
  const priority = text === undefined ? undefined : parsePriority(text);
  if (text !== undefined && !priority) {
    f.problem('priority', `"${text}" is not one of STAT, HIGH, ROUTINE, LOW (or ${STAT_EQUIVALENTS.filter((t) => t !== 'STAT').join(', ')} for STAT)`);
  }
  return priority ? { when, priority } : undefined;
}

/** Routes and rule conditions. An empty one would match every instance, which the author of a
 *  route or a rule never means (no routes already takes everything). */
function readConditions(value: unknown, at: string, problems: string[], quiet = false): InstanceConditions {
  const f = new Fields(value, at, problems, CONDITION_KEYS);
  const conditions: InstanceConditions = {};
  const modality = f.strings('modality');
  const callingClient = f.strings('callingClient');
  const station = f.strings('station');
  if (modality) conditions.modality = modality;
  if (callingClient) conditions.callingClient = callingClient;
  if (station) conditions.station = station;
  const attrs = f.child('attributes', undefined);
  if (isMapping(f.map.attributes)) {
    const patterns: Record<string, RegExp> = {};
    for (const [name, source] of Object.entries(attrs.map)) {
      const pattern = readPattern(attrs, name, source);
      if (pattern) patterns[name] = pattern;
    }
    if (Object.keys(attrs.map).length === 0) attrs.problem('', 'expected at least one keyword or tag');
    conditions.attributes = patterns;
  }
  if (!quiet && isMapping(value) && Object.keys(value).length === 0) {
    problems.push(`${at.replace(/[.:]\s*$/, '')}: needs at least one of ${CONDITION_KEYS.join(', ')}`);
  }
  return conditions;
}

function readPattern(f: Fields, name: string, source: unknown): RegExp | undefined {
  const key = attributeKey(name);
  if (key === undefined) {
    f.problem(name, 'not a DICOM keyword (e.g. StudyDescription) or tag (8 hex digits, e.g. 00081030)');
    return undefined;
  }
  const vr = lookupTag(parseInt(key, 16) >>> 0)?.vr;
  if (vr && UNMATCHABLE_VRS.has(vr)) {
    f.problem(name, `its VR is ${vr}: it has no text value to match`);
    return undefined;
  }
  if (typeof source !== 'string' && typeof source !== 'number') {
    f.problem(name, 'expected a regular expression (a string)');
    return undefined;
  }
  try {
    return new RegExp(String(source), 'i');
  } catch (e) {
    f.problem(name, `"${String(source)}" is not a valid regular expression: ${(e as Error).message}`);
    return undefined;
  }
}

/** Typed reads of one mapping; each problem is "<at><key>: <what is wrong>". */
class Fields {
  readonly present: boolean;
  readonly map: Mapping;

  constructor(value: unknown, private readonly at: string, private readonly problems: string[], allowed?: string[]) {
    this.present = value !== undefined && value !== null;
    if (this.present && !isMapping(value)) problems.push(`${at.replace(/[.:]\s*$/, '')}: expected a mapping`);
    this.map = isMapping(value) ? value : {};
    if (allowed) this.onlyKeys(allowed);
  }

  problem(key: string, message: string): void {
    this.problems.push(`${key ? this.at + key : this.at.replace(/[.:]\s*$/, '')}: ${message}`);
  }

  onlyKeys(allowed: string[]): void {
    for (const key of Object.keys(this.map)) {
      if (!allowed.includes(key)) this.problem(key, `unknown key (expected one of ${allowed.join(', ')})`);
    }
  }

  child(key: string, allowed: string[] | undefined): Fields {
    return new Fields(this.map[key], `${this.at}${key}.`, this.problems, allowed);
  }

  string(key: string, required = false): string | undefined {
    const v = this.map[key];
    if (v === undefined || v === null || v === '') {
      if (required) this.problem(key, 'required');
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problem(key, 'expected a string');
      return undefined;
    }
    return String(v).trim();
  }

  /** A list of non-empty strings; a single string is a list of one (`modality: CT`). */
  strings(key: string, allowEmpty = false): string[] | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((s) => (typeof s === 'string' && s.trim() !== '') || typeof s === 'number')) {
      this.problem(key, 'expected a list of non-empty strings');
      return undefined;
    }
    if (list.length === 0 && !allowEmpty) {
      this.problem(key, 'expected at least one value (leave the key out to accept any)');
      return undefined;
    }
    return list.map((s) => String(s).trim());
  }

  list(key: string, required = false): unknown[] | undefined {
    const v = this.map[key];
    if (v === undefined || v === null) {
      if (required) this.problem(key, 'required');
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.problem(key, 'expected a list');
      return undefined;
    }
    return v;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const v = this.map[key];
    if (v === undefined || v === null) return fallback;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(key, `"${String(v)}" is not an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  }
}

function names(stores: StoreConfig[]): string {
  return stores.map((s) => s.name).join(', ');
}
