/**
 * Reads the `stores` list and `defaultStore` of the YAML file into typed store configurations.
 * Every problem names the store and the key (`stores[2] (orthanc): auth.passwordEnv ...`), so one
 * failed start lists them all. Unknown keys are problems too: a misspelt `pasword` must not leave
 * a store silently unauthenticated. Each remote kind has its own reader (load-*-store.ts).
 */
import { resolve } from 'node:path';
import { FEDERATED_DEFAULTS, FederatedStoreConfig, LocalStoreConfig, STORE_KINDS, STORE_NAME_PATTERN, StoreConfig } from './store-config';
import { isMapping, Mapping } from './config-values';
import { Env, FieldReader } from './field-reader';
import { readDicomwebStore } from './load-dicomweb-store';
import { readGcpStore } from './load-gcp-store';
import { readHealthImagingStore } from './load-healthimaging-store';

const LOCAL_KEYS = ['name', 'kind', 'path'];

export interface LoadedStores {
  stores: StoreConfig[];
  defaultStore: string;
}

/** `file` is the whole YAML mapping; `dataDir` is already resolved. */
export function loadStores(file: Mapping, env: Env, dataDir: string, problems: string[]): LoadedStores {
  const list = file.stores;
  if (list === undefined || list === null) {
    if (file.defaultStore !== undefined) problems.push('defaultStore: given without a stores list');
    return { stores: [{ name: 'default', kind: 'local', path: resolve(dataDir, 'stores', 'default') }], defaultStore: 'default' };
  }
  if (!Array.isArray(list) || list.length === 0) {
    problems.push('stores: expected a non-empty list of stores');
    return { stores: [], defaultStore: '' };
  }
  const stores: StoreConfig[] = [];
  const names = new Set<string>();
  list.forEach((entry, index) => {
    const store = readStore(entry, index, env, dataDir, problems);
    if (!store) return;
    if (names.has(store.name)) problems.push(`stores[${index}] (${store.name}): name: another store already has this name`);
    names.add(store.name);
    stores.push(store);
  });
  checkFederatedMembers(stores, problems);
  let defaultStore = file.defaultStore;
  if (defaultStore === undefined) {
    if (list.length > 1) problems.push('defaultStore: required when several stores are listed (the store that also answers at /dicomweb)');
    defaultStore = stores[0]?.name ?? '';
  } else if (typeof defaultStore !== 'string' || !names.has(defaultStore)) {
    problems.push(`defaultStore: "${String(defaultStore)}" is not the name of a listed store (${[...names].join(', ')})`);
  }
  return { stores, defaultStore: String(defaultStore) };
}

function readStore(entry: unknown, index: number, env: Env, dataDir: string, problems: string[]): StoreConfig | undefined {
  if (!isMapping(entry)) {
    problems.push(`stores[${index}]: expected a mapping with name and kind`);
    return undefined;
  }
  const rawName = entry.name;
  const label = `stores[${index}]${typeof rawName === 'string' ? ` (${rawName})` : ''}`;
  const r = new FieldReader(entry, label, problems);
  const name = r.string('name', true) ?? '';
  if (name && !STORE_NAME_PATTERN.test(name)) {
    problems.push(`${label}: name: "${name}" must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit`);
  }
  const kind = r.string('kind', true);
  if (kind === undefined) return undefined;
  if (!(STORE_KINDS as readonly string[]).includes(kind)) {
    problems.push(`${label}: kind: "${kind}" is not one of ${STORE_KINDS.join(', ')}`);
    return undefined;
  }
  switch (kind as (typeof STORE_KINDS)[number]) {
    case 'local': {
      r.onlyKeys(LOCAL_KEYS);
      const path = r.string('path');
      const store: LocalStoreConfig = { name, kind: 'local', path: path ? resolve(path) : resolve(dataDir, 'stores', name) };
      return store;
    }
    case 'dicomweb':
      return readDicomwebStore(r, name, env, problems);
    case 'healthimaging':
      return readHealthImagingStore(r, name, env, problems);
    case 'gcp':
      return readGcpStore(r, name, env, problems);
    case 'federated':
      return readFederatedStore(r, name);
  }
}

const FEDERATED_KEYS = ['name', 'kind', 'members', 'writeMember', 'memberTimeoutMs', 'maxMatchesPerMember', 'locationTtlMs'];

function readFederatedStore(r: FieldReader, name: string): FederatedStoreConfig {
  r.onlyKeys(FEDERATED_KEYS);
  const members = r.stringList('members', (m) => STORE_NAME_PATTERN.test(m)) ?? [];
  if (members.length === 0) r.problem('members', 'a non-empty list of the names of other stores');
  if (new Set(members).size !== members.length) r.problem('members', 'a store is named twice');
  const writeMember = r.string('writeMember');
  if (writeMember !== undefined && !members.includes(writeMember)) r.problem('writeMember', `"${writeMember}" is not one of the members`);
  return {
    name,
    kind: 'federated',
    members,
    writeMember,
    memberTimeoutMs: r.integer('memberTimeoutMs', FEDERATED_DEFAULTS.memberTimeoutMs, 10, 600_000),
    maxMatchesPerMember: r.integer('maxMatchesPerMember', FEDERATED_DEFAULTS.maxMatchesPerMember, 1, 1_000_000),
    locationTtlMs: r.integer('locationTtlMs', FEDERATED_DEFAULTS.locationTtlMs, 1_000, 30 * 24 * 3_600_000),
  };
}

/** Members name stores of this list that are not federated themselves (no nesting, no cycles). */
function checkFederatedMembers(stores: StoreConfig[], problems: string[]): void {
  const byName = new Map(stores.map((s) => [s.name, s]));
  stores.forEach((store, index) => {
    if (store.kind !== 'federated') return;
    for (const member of store.members) {
      const target = byName.get(member);
      if (!target) problems.push(`stores[${index}] (${store.name}): members: "${member}" is not the name of a listed store`);
      else if (target.kind === 'federated') problems.push(`stores[${index}] (${store.name}): members: "${member}" is federated itself; members must be other kinds of stores`);
    }
  });
}
