/**
 * kill -9 at random moments of large uploads, several times over: after each restart, every
 * acknowledged instance is intact, nothing half-written is indexed, and staging is clean.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpAnswer, send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { listFiles, readIndex, storeRoot } from '../helpers/store-inspection';
import { GatewayProcess, startGatewayProcess } from '../helpers/test-gateway';
import { makeTempDir } from '../helpers/temp-dir';
import { syntheticInstance } from '../fixtures/dicom-builder';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const INSTANCES = 160;
const PER_REQUEST = 8;
const ROUNDS = 4;

function makeInstance(i: number): Buffer {
  return syntheticInstance({
    studyUid: `1.2.826.0.1.3680043.10.3000.${1 + (i % 3)}`,
    seriesUid: `1.2.826.0.1.3680043.10.3000.${1 + (i % 3)}.1`,
    sopInstanceUid: `1.2.826.0.1.3680043.10.3000.${1 + (i % 3)}.1.${i + 1}`,
    rows: 512,
    columns: 512,
    seed: i,
  });
}

describe('durability under kill -9', () => {
  const dir = makeTempDir('crash');
  let gateway: GatewayProcess | undefined;
  after(async () => {
    await gateway?.kill('SIGKILL');
    dir.remove();
  });

  test(`${ROUNDS} random kills during uploads lose no acknowledged instance`, async () => {
    const instances = Array.from({ length: INSTANCES }, (_, i) => makeInstance(i));
    const hashes = new Map(instances.map((b, i) => [`1.2.826.0.1.3680043.10.3000.${1 + (i % 3)}.1.${i + 1}`, sha(b)]));
    const acknowledged = new Set<string>();
    let interrupted = 0;
    let next = 0;
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    for (let round = 0; round <= ROUNDS; round++) {
      gateway = await startGatewayProcess(dir.path);
      verify(dir.path, acknowledged, hashes);
      if (round === ROUNDS) break;
      const senders: Promise<void>[] = [];
      let killed = false;
      for (let s = 0; s < 3; s++) {
        senders.push(
          (async () => {
            while (!killed && next < INSTANCES) {
              const batch: number[] = [];
              while (batch.length < PER_REQUEST && next < INSTANCES) batch.push(next++);
              const { body, contentType } = multipartBody(batch.map((i) => instances[i]));
              const res: HttpAnswer | undefined = await send(`${gateway!.baseUrl}/dicomweb/studies`, {
                method: 'POST',
                headers: { 'content-type': contentType },
                body: chunked(body),
              }).catch(() => undefined);
              if (!res) {
                // The server died under this request: its instances are not acknowledged. Resend
                // them after the restart (they may or may not have been stored).
                next = Math.min(next, batch[0]);
                interrupted++;
                return;
              }
              assert.equal(res.status, 200, res.text());
              for (const item of res.json()['00081199'].Value) acknowledged.add(item['00081155'].Value[0]);
            }
          })(),
        );
      }
      // Kill after a random share of this round's uploads went out, not after a random time: on
      // a fast machine a timer could let every upload finish first and the kill hit an idle server.
      const startedAt = next;
      const share = 8 + Math.floor(random() * 24);
      while (next - startedAt < share && next < INSTANCES) await new Promise((r) => setTimeout(r, 5));
      killed = true;
      await gateway.kill('SIGKILL');
      await Promise.all(senders);
    }
    // Finish the remaining uploads on a live server: everything ends up stored exactly once.
    for (let i = 0; i < INSTANCES; i += PER_REQUEST) {
      const { body, contentType } = multipartBody(instances.slice(i, i + PER_REQUEST));
      const res = await send(`${gateway!.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body });
      assert.equal(res.status, 200, res.text());
    }
    const rows = readIndex(dir.path);
    assert.equal(rows.length, INSTANCES);
    assert.equal(new Set(rows.map((r) => r.sop_instance_uid)).size, INSTANCES);
    verify(dir.path, new Set(hashes.keys()), hashes);
    assert.ok(acknowledged.size > 0, 'some instances were acknowledged before the kills');
    assert.ok(interrupted >= ROUNDS, `kills should land in the middle of uploads (${interrupted} interrupted)`);
  });
});

/** Sends in small chunks so kills land in the middle of parts, not only between requests. */
async function* chunked(body: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += 48 * 1024) {
    yield body.subarray(i, i + 48 * 1024);
    if ((i / (48 * 1024)) % 8 === 0) await new Promise((r) => setImmediate(r));
  }
}

function verify(dataDir: string, mustExist: Set<string>, hashes: Map<string, string>): void {
  const rows = existsSync(join(storeRoot(dataDir), 'index.sqlite')) ? readIndex(dataDir) : [];
  const byUid = new Map(rows.map((r) => [r.sop_instance_uid, r]));
  for (const uid of mustExist) {
    const row = byUid.get(uid);
    assert.ok(row, `acknowledged instance ${uid} is missing after restart`);
  }
  for (const row of rows) {
    const file = join(storeRoot(dataDir), row.file_path);
    assert.ok(existsSync(file), `indexed file missing: ${row.file_path}`);
    const actual = sha(readFileSync(file));
    assert.equal(actual, row.sha256, `indexed file damaged: ${row.file_path}`);
    assert.equal(actual, hashes.get(row.sop_instance_uid), `indexed file is not what was sent: ${row.file_path}`);
  }
  assert.deepEqual(listFiles(join(dataDir, 'staging')), [], 'staging must be swept at start');
}
