import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedLock } from '../../src/stores/local/keyed-lock';
import { instanceRelativePath } from '../../src/stores/local/blob-layout';

test('work on one key runs one at a time, other keys in parallel', async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const job = (key: string, name: string, ms: number) =>
    lock.run(key, async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
    });
  await Promise.all([job('a', 'a1', 30), job('a', 'a2', 1), job('b', 'b1', 5)]);
  assert.ok(log.indexOf('end a1') < log.indexOf('start a2'));
  assert.ok(log.indexOf('start b1') < log.indexOf('end a1'));
});

test('a failing job releases the key', async () => {
  const lock = new KeyedLock();
  await assert.rejects(lock.run('k', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await lock.run('k', async () => 42), 42);
});

test('blob paths come only from valid UIDs', () => {
  const p = instanceRelativePath({ studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5' });
  assert.match(p, /^blobs\/[0-9a-f]{2}\/1\.2\.3\/1\.2\.3\.4\/1\.2\.3\.4\.5\.dcm$/);
  for (const bad of ['../etc', '1.2/3', '1.02', '', '1.2.3\0', 'a'.repeat(10)]) {
    assert.throws(() => instanceRelativePath({ studyInstanceUid: bad, seriesInstanceUid: '1.2', sopInstanceUid: '1.3' }));
  }
});
