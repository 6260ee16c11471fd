/**
 * Deleting instances from the embedded store (edge retention): after each deletion the index, and
 * every QIDO-RS answer, must be exactly those of a store that only ever held the remaining
 * instances: compared with a fresh store filled with just those, row by row and answer by answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import { InstanceReceiver } from '../../src/ingest/instance-receiver';
import { StagingArea } from '../../src/ingest/staging-area';
import { LocalStore } from '../../src/stores/local/local-store';
import { NotFound } from '../../src/stores/store-errors';
import { InstanceRef } from '../../src/stores/wado-types';
import { QidoLevel } from '../../src/stores/qido-query';
import { QidoPath, parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { qidoResponseBody } from '../../src/dicomweb/qido/qido-response';
import { instanceRelativePath } from '../../src/stores/local/blob-layout';
import { FileHandleCache } from '../../src/stores/local/file-handle-cache';
import { listFiles } from '../helpers/store-inspection';
import { makeTempDir } from '../helpers/temp-dir';
import { syntheticInstance, syntheticPixels } from '../fixtures/dicom-builder';

const OPTIONS = { maxInstanceBytes: 1 << 30, maxHeaderBytes: 1 << 26, inlineBinaryThreshold: 1024 };
const ROOT = '1.2.826.0.1.3680043.10.7100';
const BASE = 'http://gateway.test/dicomweb';
const ANY = { acceptable: ['*'] };

interface Spec {
  name: string;
  study: number;
  series: number;
  n: number;
  modality: 'CT' | 'PT';
  /** Pixels and size: a variant of the same SOP Instance has other ones. */
  seed: number;
  size: number;
}

const PATIENTS: Record<number, { name: string; id: string }> = {
  1: { name: 'Doe^Jane', id: 'PAT-A' },
  2: { name: 'Roe^Richard', id: 'PAT-B' },
};

function refOf(s: Spec): InstanceRef {
  return {
    studyInstanceUid: `${ROOT}.${s.study}`,
    seriesInstanceUid: `${ROOT}.${s.study}.${s.series}`,
    sopInstanceUid: `${ROOT}.${s.study}.${s.series}.${s.n}`,
  };
}

function bytesOf(s: Spec): Buffer {
  const ref = refOf(s);
  return syntheticInstance({
    studyUid: ref.studyInstanceUid,
    seriesUid: ref.seriesInstanceUid,
    sopInstanceUid: ref.sopInstanceUid,
    // Study- and series-level attributes the same for every instance of a study or series.
    patientName: PATIENTS[s.study].name,
    patientId: PATIENTS[s.study].id,
    accessionNumber: `ACC${s.study}`,
    studyDescription: `Study ${s.study}`,
    seriesNumber: s.series,
    seriesDescription: `Series ${s.study}.${s.series}`,
    frameOfReferenceUid: `${ROOT}.9.${s.study}.${s.series}`,
    instanceNumber: s.n,
    rows: s.size,
    columns: s.size,
    seed: s.seed,
    extraElements: s.modality === 'CT' ? [] : [{ tag: 'Modality', value: s.modality }],
  });
}

// 2 studies, 3 series, 2 modalities; stored in this order.
const A11: Spec = { name: 'A11', study: 1, series: 1, n: 1, modality: 'CT', seed: 11, size: 8 };
const A12: Spec = { name: 'A12', study: 1, series: 1, n: 2, modality: 'CT', seed: 12, size: 8 };
const A21: Spec = { name: 'A21', study: 1, series: 2, n: 1, modality: 'PT', seed: 21, size: 8 };
const B11: Spec = { name: 'B11', study: 2, series: 1, n: 1, modality: 'CT', seed: 31, size: 8 };
const B12: Spec = { name: 'B12', study: 2, series: 1, n: 2, modality: 'CT', seed: 32, size: 8 };
/** The same SOP Instance as B12 with other pixels and another size (so another layout). */
const B12_OTHER: Spec = { ...B12, name: 'B12*', seed: 99, size: 12 };

const QUERIES: [QidoLevel, string, QidoPath?][] = [
  ['study', ''],
  ['study', 'includefield=all'],
  ['study', 'PatientName=Doe*'],
  ['study', 'PatientName=roe&fuzzymatching=true'],
  ['study', 'PatientID=PAT-B'],
  ['study', 'AccessionNumber=ACC1'],
  ['study', 'ModalitiesInStudy=PT'],
  ['study', 'ModalitiesInStudy=CT'],
  ['study', 'StudyDate=20240101'],
  ['series', ''],
  ['series', 'includefield=all'],
  ['series', 'Modality=PT'],
  ['series', 'Modality=CT&PatientName=Roe^Richard'],
  ['series', 'SeriesNumber=1'],
  ['series', '', { studyUid: `${ROOT}.1` }],
  ['instance', ''],
  ['instance', 'includefield=all'],
  ['instance', 'InstanceNumber=2'],
  ['instance', 'PatientID=PAT-A'],
  ['instance', 'Modality=CT'],
  ['instance', `SOPInstanceUID=${ROOT}.2.1.2`],
  ['instance', '', { studyUid: `${ROOT}.2`, seriesUid: `${ROOT}.2.1` }],
];

async function qido(store: LocalStore, level: QidoLevel, query: string, path: QidoPath = {}): Promise<Record<string, { Value?: unknown[] }>[]> {
  const parsed = parseQidoRequest(level, path, query, { defaultLimit: 100, maxLimit: 1000 });
  const result = await store.search(parsed.query);
  return JSON.parse(qidoResponseBody(parsed.query, result.matches, BASE).toString('utf8'));
}

/** Everything the index holds, with pks replaced by the UIDs they stand for and times left out. */
function indexSnapshot(db: Database): Record<string, unknown[]> {
  const strip = (rows: unknown[], ...drop: string[]) =>
    rows.map((r) => Object.fromEntries(Object.entries(r as object).filter(([k]) => !drop.includes(k))));
  return {
    studies: strip(db.prepare('SELECT * FROM studies ORDER BY study_uid').all(), 'study_pk', 'created_at', 'updated_at'),
    series: strip(
      db.prepare('SELECT se.*, st.study_uid FROM series se JOIN studies st USING (study_pk) ORDER BY series_uid').all(),
      'series_pk', 'study_pk', 'created_at', 'updated_at',
    ),
    instances: strip(
      db.prepare(`SELECT i.*, se.series_uid, st.study_uid FROM instances i JOIN series se ON se.series_pk = i.series_pk
        JOIN studies st ON st.study_pk = i.study_pk ORDER BY sop_instance_uid`).all(),
      'instance_pk', 'series_pk', 'study_pk', 'created_at',
    ),
    study_modalities: db.prepare(
      'SELECT st.study_uid, m.modality FROM study_modalities m LEFT JOIN studies st USING (study_pk) ORDER BY 1, 2',
    ).all(),
    instance_layouts: db.prepare(
      'SELECT i.sop_instance_uid, l.layout FROM instance_layouts l LEFT JOIN instances i USING (instance_pk) ORDER BY 1',
    ).all(),
    match_keys: db.prepare(`
      SELECT m.level, m.attribute, m.key, CASE m.level
        WHEN 0 THEN (SELECT study_uid FROM studies WHERE study_pk = m.owner_pk)
        WHEN 1 THEN (SELECT series_uid FROM series WHERE series_pk = m.owner_pk)
        ELSE (SELECT sop_instance_uid FROM instances WHERE instance_pk = m.owner_pk) END AS owner
      FROM match_keys m ORDER BY 4, 1, 2, 3`).all(),
  };
}

function assertIndexSound(db: Database): void {
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  const dangling = db.prepare(`
    SELECT COUNT(*) AS n FROM match_keys m WHERE
      (m.level = 0 AND m.owner_pk NOT IN (SELECT study_pk FROM studies)) OR
      (m.level = 1 AND m.owner_pk NOT IN (SELECT series_pk FROM series)) OR
      (m.level = 2 AND m.owner_pk NOT IN (SELECT instance_pk FROM instances))`).get() as { n: number };
  assert.equal(dangling.n, 0, 'no match key of a deleted row is left');
}

describe('LocalStore.deleteInstance', () => {
  const dir = makeTempDir('local-store-deletion');
  let store: LocalStore;
  let receiver: InstanceReceiver;
  let freshCount = 0;
  /** What the store holds, in the order it was stored. */
  let held: Spec[] = [];

  const put = async (target: LocalStore, s: Spec) => {
    const incoming = await receiver.receive(Readable.from([bytesOf(s)]), OPTIONS);
    return target.store(incoming);
  };
  const absolutePath = (s: Spec) => join(store.root, instanceRelativePath(refOf(s)));

  /** The store against a fresh one that only ever held `held`: index rows and QIDO answers. */
  async function assertAsIfOnlyHeld(): Promise<void> {
    assertIndexSound(store.index.db);
    const fresh = new LocalStore('fresh', join(dir.path, `fresh-${freshCount++}`));
    try {
      for (const s of held) assert.deepEqual(await put(fresh, s), { kind: 'stored' });
      assert.deepEqual(indexSnapshot(store.index.db), indexSnapshot(fresh.index.db));
      for (const [level, query, path] of QUERIES) {
        const what = `${level}?${query} ${JSON.stringify(path ?? {})}`;
        assert.deepEqual(await qido(store, level, query, path), await qido(fresh, level, query, path), what);
      }
    } finally {
      await fresh.close();
    }
    // The counts and modalities, worked out here from `held` rather than only compared.
    const studies = await qido(store, 'study', '');
    const studyUids = [...new Set(held.map((s) => refOf(s).studyInstanceUid))];
    assert.deepEqual(studies.map((r) => r['0020000D'].Value![0]), studyUids);
    for (const r of studies) {
      const inStudy = held.filter((s) => refOf(s).studyInstanceUid === r['0020000D'].Value![0]);
      assert.deepEqual(r['00201208'].Value, [inStudy.length], 'Number of Study Related Instances');
      assert.deepEqual(r['00201206'].Value, [new Set(inStudy.map((s) => s.series)).size], 'Number of Study Related Series');
      assert.deepEqual(r['00080061'].Value, [...new Set(inStudy.map((s) => s.modality))].sort(), 'Modalities in Study');
    }
    const series = await qido(store, 'series', '');
    assert.equal(series.length, new Set(held.map((s) => refOf(s).seriesInstanceUid)).size);
    for (const r of series) {
      const inSeries = held.filter((s) => refOf(s).seriesInstanceUid === r['0020000E'].Value![0]);
      assert.deepEqual(r['00201209'].Value, [inSeries.length], 'Number of Series Related Instances');
    }
    assert.equal((await qido(store, 'instance', '')).length, held.length);
  }

  async function frameOf(s: Spec): Promise<Buffer> {
    const frames = await store.frames(refOf(s), ANY);
    for await (const frame of frames.read([1])) return frame.bytes;
    throw new Error('no frame');
  }

  async function storedBytesOf(s: Spec): Promise<Buffer> {
    const [instance] = await store.retrieve({ level: 'instance', ...refOf(s) }, ANY);
    const opened = await instance.open();
    try {
      return await opened.read(0, opened.size);
    } finally {
      await opened.close();
    }
  }

  async function deleteAndCheckGone(s: Spec): Promise<void> {
    const path = absolutePath(s);
    assert.ok(existsSync(path));
    assert.equal(await store.deleteInstance(refOf(s).sopInstanceUid), true);
    held = held.filter((h) => h !== s);
    assert.equal(existsSync(path), false, 'the file is gone');
    const ref = refOf(s);
    await assert.rejects(store.retrieve({ level: 'instance', ...ref }, ANY), NotFound);
    await assert.rejects(store.metadata({ level: 'instance', ...ref }), NotFound);
    await assert.rejects(store.frames(ref, ANY), NotFound);
    assert.equal(await store.deleteInstance(ref.sopInstanceUid), false, 'deleting twice');
  }

  before(async () => {
    store = new LocalStore('default', join(dir.path, 'store'));
    receiver = new InstanceReceiver(new StagingArea(join(dir.path, 'staging')));
    for (const s of [A11, A12, A21, B11, B12]) assert.deepEqual(await put(store, s), { kind: 'stored' });
    held = [A11, A12, A21, B11, B12];
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  test('before any deletion the store matches a fresh one', async () => {
    await assertAsIfOnlyHeld();
  });

  test('an instance of a series that keeps others: counters drop, the folder stays', async () => {
    assert.ok((await frameOf(A12)).equals(syntheticPixels(64, A12.seed))); // its handle and layout are cached now
    await deleteAndCheckGone(A12);
    assert.ok(existsSync(dirname(absolutePath(A12))), 'the series folder still holds A11');
    assert.ok((await frameOf(A11)).equals(syntheticPixels(64, A11.seed)));
    await assertAsIfOnlyHeld();
  });

  test('the last instance of a series: the series and its modality leave the study', async () => {
    await deleteAndCheckGone(A21);
    assert.ok(existsSync(dirname(absolutePath(A21))), 'the emptied series folder stays (removing it raced concurrent stores)');
    assert.ok(existsSync(dirname(dirname(absolutePath(A21)))), 'the study folder stays while it holds a series');
    assert.deepEqual(await qido(store, 'study', 'ModalitiesInStudy=PT'), []);
    assert.deepEqual(await qido(store, 'series', 'Modality=PT'), []);
    await assertAsIfOnlyHeld();
  });

  test('an instance stored again after deletion, with other content, is served as the new file', async () => {
    // B12 has the highest instance_pk: the next instance indexed takes the same pk.
    const pk = (store.index.db.prepare('SELECT instance_pk FROM instances WHERE sop_instance_uid = ?').get(refOf(B12).sopInstanceUid) as { instance_pk: number }).instance_pk;
    assert.ok((await frameOf(B12)).equals(syntheticPixels(64, B12.seed)));
    assert.ok((await storedBytesOf(B12)).equals(bytesOf(B12)));
    await deleteAndCheckGone(B12);
    await assertAsIfOnlyHeld();

    assert.deepEqual(await put(store, B12_OTHER), { kind: 'stored' });
    held.push(B12_OTHER);
    const again = store.index.db.prepare('SELECT instance_pk FROM instances WHERE sop_instance_uid = ?').get(refOf(B12).sopInstanceUid) as { instance_pk: number };
    assert.equal(again.instance_pk, pk, 'the pk was reused (what makes the cached layout and handle dangerous)');
    // Neither the old file's cached handle nor its cached layout (8 x 8 frames) is used.
    assert.ok((await storedBytesOf(B12_OTHER)).equals(bytesOf(B12_OTHER)));
    assert.ok((await frameOf(B12_OTHER)).equals(syntheticPixels(144, B12_OTHER.seed)));
    await assertAsIfOnlyHeld();
  });

  test('the last instance of a study: the study goes, with its folder', async () => {
    const studyFolder = dirname(dirname(absolutePath(A11)));
    await deleteAndCheckGone(A11);
    assert.ok(existsSync(studyFolder), 'the emptied study folder stays (removing it raced concurrent stores)');
    assert.deepEqual(await qido(store, 'study', 'PatientName=Doe*'), []);
    assert.deepEqual(await qido(store, 'instance', 'PatientID=PAT-A'), []);
    await assert.rejects(store.retrieve({ level: 'study', studyInstanceUid: `${ROOT}.1` }, ANY), NotFound);
    await assertAsIfOnlyHeld();
  });

  test('deleting everything leaves an empty index and no files', async () => {
    await deleteAndCheckGone(B11);
    await deleteAndCheckGone(B12_OTHER);
    await assertAsIfOnlyHeld();
    for (const table of ['studies', 'series', 'instances', 'study_modalities', 'match_keys', 'instance_layouts']) {
      assert.equal((store.index.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n, 0, table);
    }
    assert.deepEqual(listFiles(join(store.root, 'blobs')), []);
    assert.equal(await store.deleteInstance(`${ROOT}.7.7.7`), false, 'never stored');
  });

  test('instances stored again after deletion are stored, searched and served as before', async () => {
    for (const s of [A12, A21, B12]) assert.deepEqual(await put(store, s), { kind: 'stored' });
    held = [A12, A21, B12];
    assert.ok((await storedBytesOf(B12)).equals(bytesOf(B12)));
    assert.ok((await frameOf(A21)).equals(syntheticPixels(64, A21.seed)));
    await assertAsIfOnlyHeld();
  });

  test('deletions racing stores into the same series keep the index and the files consistent', async () => {
    const extra = (n: number): Spec => ({ name: `A1${n}`, study: 1, series: 1, n, modality: 'CT', seed: 100 + n, size: 8 });
    for (let round = 0; round < 5; round++) {
      const incoming = [extra(10 + round * 2), extra(11 + round * 2)];
      const leaving = held.filter((s) => s.study === 1 && s.series === 1);
      await Promise.all([
        ...leaving.map((s) => store.deleteInstance(refOf(s).sopInstanceUid)),
        ...incoming.map((s) => put(store, s)),
      ]);
      held = [...held.filter((s) => !leaving.includes(s)), ...incoming];
      for (const s of incoming) assert.ok((await storedBytesOf(s)).equals(bytesOf(s)), s.name);
    }
    await assertAsIfOnlyHeld();
    const files = listFiles(join(store.root, 'blobs')).sort();
    assert.deepEqual(files, held.map(absolutePath).sort(), 'one file per indexed instance, no other');
    for (const s of held) assert.ok(readFileSync(absolutePath(s)).equals(bytesOf(s)));
  });
});

describe('FileHandleCache.forget', () => {
  const dir = makeTempDir('handle-forget');
  after(() => dir.remove());
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  const read = async (handle: import('node:fs/promises').FileHandle, size: number) =>
    (await handle.read(Buffer.alloc(size), 0, size, 0)).buffer.toString('utf8');

  test('an idle handle is closed and the path opened afresh next time', async () => {
    const cache = new FileHandleCache();
    const path = file('idle', 'old');
    const first = await cache.acquire(path);
    first.release();
    cache.forget(path);
    writeFileSync(path, 'newer');
    const second = await cache.acquire(path);
    assert.notEqual(second.handle, first.handle);
    assert.equal(second.size, 5);
    assert.equal(await read(second.handle, 5), 'newer');
    second.release();
    await cache.closeAll();
  });

  test('a handle in use stays open for its reader and is closed at its release', async () => {
    const cache = new FileHandleCache();
    const path = file('busy', 'old');
    const lease = await cache.acquire(path);
    cache.forget(path);
    assert.equal(await read(lease.handle, 3), 'old');
    assert.notEqual(lease.handle.fd, -1);
    lease.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lease.handle.fd, -1, 'closed by its last release');
    await cache.closeAll();
  });

  test('an open under way when forgotten is not kept', async () => {
    const cache = new FileHandleCache();
    const path = file('opening', 'old');
    const pending = [cache.acquire(path), cache.acquire(path)];
    cache.forget(path);
    const [a, b] = await Promise.all(pending);
    assert.equal(a.handle, b.handle, 'both readers share the one open');
    assert.equal(await read(a.handle, 3), 'old');
    const later = await cache.acquire(path);
    assert.notEqual(later.handle, a.handle, 'not handed out after forget');
    a.release();
    assert.notEqual(b.handle.fd, -1, 'still in use by b');
    b.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(a.handle.fd, -1);
    later.release();
    await cache.closeAll();
  });
});
