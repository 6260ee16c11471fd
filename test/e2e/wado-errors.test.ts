/**
 * What a client can get wrong, and what can go wrong under the gateway: malformed UIDs and paths
 * are 400 without any store access, unknown ones 404; a stored file that vanished before the
 * answer starts is a clean error, one that fails mid-answer aborts the connection instead of
 * ending the answer as if complete; and answers keep connections reusable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StoreRegistry } from '../../src/stores/registry';
import { DicomStore } from '../../src/stores/dicom-store';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { readIndex, storeRoot } from '../helpers/store-inspection';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { get, getParts, local, stow } from '../helpers/wado-client';

const STUDY = '1.2.826.0.1.3680043.10.5001';
const SERIES = `${STUDY}.1`;

function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text }));
    socket.on('error', reject);
  });
}

/** GET that reports whether the answer arrived whole, or the connection was cut under it. */
function fetchOutcome(url: string): Promise<{ status: number; complete: boolean; received: number; declared?: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, received, declared: Number(res.headers['content-length']) || undefined }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, complete: false, received, declared: Number(res.headers['content-length']) || undefined }));
      res.on('aborted', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('WADO-RS errors and connections', () => {
  let gw: RunningGateway & { app: NestFastifyApplication };
  let port: number;
  let instanceUrls: string[];
  const storeCalls: string[] = [];

  before(async () => {
    gw = await startInProcessGateway();
    port = Number(new URL(gw.baseUrl).port);
    const files = [1, 2, 3].map((n) => syntheticInstance({ seed: 100 + n, studyUid: STUDY, seriesUid: SERIES, instanceNumber: n, rows: 256, columns: 256 }));
    instanceUrls = (await stow(gw.baseUrl, files)).map((u) => local(u, gw.baseUrl));
    // Record every store call from here on, to prove refused requests never reach it.
    const store: DicomStore = gw.app.get(StoreRegistry).get();
    for (const method of ['retrieve', 'metadata', 'frames', 'bulkdata'] as const) {
      const original = store[method].bind(store) as (...args: unknown[]) => unknown;
      (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        storeCalls.push(method);
        return original(...args);
      };
    }
  });
  after(async () => gw.stop());

  test('malformed UIDs and paths: 400 with a reason, and the store is never asked', async () => {
    const bad = [
      '/dicomweb/studies/abc',
      '/dicomweb/studies/1.2.3a',
      `/dicomweb/studies/1.${'2'.repeat(70)}`,
      '/dicomweb/studies/1.02.3',
      '/dicomweb/studies/1..2',
      '/dicomweb/studies/.1.2',
      '/dicomweb/studies/1.2./metadata',
      '/dicomweb/studies/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      `/dicomweb/studies/${STUDY}/series/..%2F..%2F..%2Fetc`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/1.2%00.3`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/%221.2%22`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/%3Cscript%3Ealert(1)%3C%2Fscript%3E/frames/1`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/1.2.3/bulkdata/..%2F..%2Findex.sqlite`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/1.2.3/bulkdata/7FE00010/../../x`,
      '/dicomweb/studies/1.2.3/../../../etc/passwd',
      '/dicomweb/../stores/default/index.sqlite',
      '/dicomweb/studies/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    ];
    for (const path of bad) {
      const res = await rawGet(port, path);
      assert.equal(res.status, 400, `${path}: ${res.body.slice(0, 300)}`);
      assert.match(res.body, /\r\nwarning: 299 - "/i, path);
    }
    assert.deepEqual(storeCalls, []);
  });

  test('unknown but well-formed: 404; UIDs that do not belong together: 404', async () => {
    const [url] = instanceUrls;
    const sop = url.split('/').pop()!;
    for (const path of [
      '/dicomweb/studies/1.2.3',
      '/dicomweb/studies/1.2.3/metadata',
      `/dicomweb/studies/${STUDY}/series/1.2.3`,
      `/dicomweb/studies/1.2.3/series/${SERIES}`,
      `/dicomweb/studies/1.2.3/series/${SERIES}/instances/${sop}`,
      `/dicomweb/studies/${STUDY}/series/1.2.3/instances/${sop}/frames/1`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/1.2.3/bulkdata/7FE00010`,
      `/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${sop}/bulkdata/00431029`,
      '/dicomweb/nothing-here',
    ]) {
      const res = await get(`${gw.baseUrl}${path}`);
      assert.equal(res.status, 404, path);
      assert.ok(res.headers.warning, path);
    }
  });

  test('keep-alive: study, frames and metadata answers leave the connection reusable', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    const once = (path: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request(`${gw.baseUrl}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.complete ? resolve() : reject(new Error(`${path} incomplete`))));
        });
        reused.push(false);
        const index = reused.length - 1;
        req.on('socket', () => (reused[index] = req.reusedSocket));
        req.on('error', reject);
        req.end();
      });
    const instance = new URL(instanceUrls[0]).pathname;
    for (const path of [`/dicomweb/studies/${STUDY}`, `${instance}/frames/1`, `/dicomweb/studies/${STUDY}/metadata`, `/dicomweb/studies/${STUDY}`]) await once(path);
    agent.destroy();
    assert.deepEqual(reused, [false, true, true, true]);
  });

  test('a study answer carries Content-Length when every part is stored as sent', async () => {
    const { answer, parts } = await getParts(`${gw.baseUrl}/dicomweb/studies/${STUDY}`);
    assert.equal(Number(answer.headers['content-length']), answer.body.length);
    assert.equal(parts.length, 3);
  });

  test('a stored file cut short under the gateway: the answer is aborted, never ended as complete', async () => {
    const rows = readIndex(gw.dataDir).sort((a, b) => a.file_path.localeCompare(b.file_path));
    const second = rows.find((r) => instanceUrls[1].endsWith(r.sop_instance_uid))!;
    truncateSync(join(storeRoot(gw.dataDir), second.file_path), 1000);
    const outcome = await fetchOutcome(`${gw.baseUrl}/dicomweb/studies/${STUDY}`);
    assert.equal(outcome.status, 200, 'the first part was already on its way');
    assert.equal(outcome.complete, false, `received ${outcome.received} of ${outcome.declared}`);
    // The instance alone: nothing sent yet when the problem shows, so a clean 5xx with a reason.
    const alone = await get(instanceUrls[1]);
    assert.equal(alone.status, 500);
    assert.match(JSON.parse(alone.text()).message, /has 1000 bytes, the index says|ends at byte 1000, before the indexed/);
  });

  test('a stored file gone: a clean error before anything is sent; the other instances still served', async () => {
    // An instance never read before: read handles are kept open and reused once a file has been
    // read (stored files never change), so a file deleted after its first read is still served
    // intact from its open handle until the handle is recycled.
    const [url] = (await stow(gw.baseUrl, [syntheticInstance({ seed: 200, studyUid: STUDY, seriesUid: SERIES, instanceNumber: 4, rows: 64, columns: 64 })])).map((u) => local(u, gw.baseUrl));
    const row = readIndex(gw.dataDir).find((r) => url.endsWith(r.sop_instance_uid))!;
    unlinkSync(join(storeRoot(gw.dataDir), row.file_path));
    const res = await get(url);
    assert.equal(res.status, 500);
    assert.match(JSON.parse(res.text()).message, /cannot be opened/);
    const frames = await get(`${url}/frames/1`);
    assert.equal(frames.status, 500);
    const ok = await getParts(instanceUrls[2]);
    assert.equal(ok.parts.length, 1);
    // Metadata is read from the index, not the files.
    const md = await get(`${url}/metadata`);
    assert.equal(md.status, 200);
  });
});
