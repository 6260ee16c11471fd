/**
 * Reads the `stores` list and `defaultStore` of the YAML file into typed store configurations.
 * Every problem names the store and the key (`stores[2] (orthanc): auth.passwordEnv ...`), so one
 * failed start lists them all. Unknown keys are problems too: a misspelt `pasword` must not leave
 * a store silently unauthenticated. Each remote kind has its own reader (load-*-store.ts).
 */
import { resolve } from 'node:path';
import { LocalStoreConfig, STORE_KINDS, STORE_NAME_PATTERN, StoreConfig } from './store-config';
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
  }
}
