/**
 * The embedded store against a real SQLite file and a real folder: what it writes, where, and
 * what it refuses, without HTTP in between.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { InstanceReceiver } from '../../src/ingest/instance-receiver';
import { StagingArea } from '../../src/ingest/staging-area';
import { LocalStore } from '../../src/stores/local/local-store';
import { SCHEMA_VERSION } from '../../src/stores/local/schema';
import { InconsistentInstance, InstanceConflict } from '../../src/stores/store-errors';
import { listFiles } from '../helpers/store-inspection';
import { makeTempDir } from '../helpers/temp-dir';
import { syntheticInstance } from '../fixtures/dicom-builder';

const OPTIONS = { maxInstanceBytes: 1 << 30, maxHeaderBytes: 1 << 26, inlineBinaryThreshold: 1024 };

describe('LocalStore', () => {
  const dir = makeTempDir('local-store');
  let store: LocalStore;
  let receiver: InstanceReceiver;
  const receive = (bytes: Buffer) => receiver.receive(Readable.from([bytes]), OPTIONS);
  const instance = (study: number, series: number, n: number, seed = n, modality?: string) =>
    syntheticInstance({
      studyUid: `1.2.826.0.1.3680043.10.7000.${study}`,
      seriesUid: `1.2.826.0.1.3680043.10.7000.${study}.${series}`,
      sopInstanceUid: `1.2.826.0.1.3680043.10.7000.${study}.${series}.${n}`,
      rows: 16,
      columns: 16,
      seed,
      extraElements: modality ? [{ tag: 'Modality', value: modality }] : [],
    });

  before(() => {
    store = new LocalStore('default', join(dir.path, 'store'));
    receiver = new InstanceReceiver(new StagingArea(join(dir.path, 'staging')));
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  test('stores the file under a UID-derived path and indexes study, series, instance', async () => {
    const bytes = instance(1, 1, 1);
    const incoming = await receive(bytes);
    assert.deepEqual(await store.store(incoming), { kind: 'stored' });
    assert.equal(existsSync(incoming.staged.path), false, 'the staged file was moved into place');
    const db = store.index.db;
    const row = db.prepare('SELECT * FROM instances').get() as { file_path: string; file_size: number; pixel_data: string; transfer_syntax_uid: string };
    assert.match(row.file_path, /^blobs\/[0-9a-f]{2}\/1\.2\.826\.0\.1\.3680043\.10\.7000\.1\/1\.2\.826\.0\.1\.3680043\.10\.7000\.1\.1\/1\.2\.826\.0\.1\.3680043\.10\.7000\.1\.1\.1\.dcm$/);
    assert.ok(readFileSync(join(store.root, row.file_path)).equals(bytes));
    assert.equal(row.file_size, bytes.length);
    assert.equal(row.transfer_syntax_uid, '1.2.840.10008.1.2.1');
    const pixel = JSON.parse(row.pixel_data);
    assert.equal(pixel.native.length, 16 * 16 * 2);
    assert.ok(bytes.subarray(pixel.native.offset, pixel.native.offset + pixel.native.length).equals(readFileSync(join(store.root, row.file_path)).subarray(pixel.native.offset, pixel.native.offset + 512)));
    const study = db.prepare('SELECT num_series, num_instances, patient_name FROM studies').get();
    assert.deepEqual(study, { num_series: 1, num_instances: 1, patient_name: 'Doe^Jane' });
  });

  test('counts series and instances and collects modalities of a study', async () => {
    await store.store(await receive(instance(1, 1, 2)));
    await store.store(await receive(instance(1, 2, 3, 3, 'PT')));
    const study = store.index.db.prepare('SELECT num_series, num_instances FROM studies WHERE study_uid = ?').get('1.2.826.0.1.3680043.10.7000.1');
    assert.deepEqual(study, { num_series: 2, num_instances: 3 });
    const modalities = store.index.db.prepare('SELECT modality FROM study_modalities ORDER BY modality').all();
    assert.deepEqual(modalities, [{ modality: 'CT' }, { modality: 'PT' }]);
  });

  test('identical bytes again are already stored; different bytes are a conflict', async () => {
    assert.deepEqual(await store.store(await receive(instance(1, 1, 1))), { kind: 'already-stored' });
    await assert.rejects(store.store(await receive(instance(1, 1, 1, 99))), InstanceConflict);
    assert.equal((store.index.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n, 3);
  });

  test('a series that belongs to another study is refused and leaves no file', async () => {
    const moved = syntheticInstance({ studyUid: '1.2.826.0.1.3680043.10.7000.2', seriesUid: '1.2.826.0.1.3680043.10.7000.1.1', sopInstanceUid: '1.2.826.0.1.3680043.10.7000.2.1.1', rows: 4, columns: 4 });
    await assert.rejects(store.store(await receive(moved)), InconsistentInstance);
    assert.equal(listFiles(store.root).filter((f) => f.includes('7000.2.1.1')).length, 0);
  });

  test('the index survives a reopen and records its schema version', async () => {
    await store.close();
    store = new LocalStore('default', join(dir.path, 'store'));
    const versions = store.index.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number };
    assert.equal(versions.v, SCHEMA_VERSION);
    assert.equal((store.index.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n, 3);
    assert.equal(store.index.db.pragma('journal_mode', { simple: true }), 'wal');
  });

  test('an index written by a newer gateway is not opened', async () => {
    await store.close();
    const db = new Database(join(dir.path, 'store', 'index.sqlite'));
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(SCHEMA_VERSION + 100, 'future', Date.now());
    db.close();
    assert.throws(() => new LocalStore('default', join(dir.path, 'store')), /newer gateway/);
    const fix = new Database(join(dir.path, 'store', 'index.sqlite'));
    fix.prepare('DELETE FROM schema_migrations WHERE version = ?').run(SCHEMA_VERSION + 100);
    fix.close();
    store = new LocalStore('default', join(dir.path, 'store'));
  });
});
