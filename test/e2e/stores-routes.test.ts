/**
 * The store registry over HTTP: each store at /stores/{name}/dicomweb, the default one also at
 * /dicomweb, URLs handed out with the prefix the client used, GET /api/stores, unknown names, and
 * a misconfigured store stopping the start with its name in the message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, runGatewayUntilExit, startInProcessGateway } from '../helpers/test-gateway';

const STUDY = '1.2.826.0.1.3680043.10.7900.1';
const file = syntheticInstance({ seed: 7900, studyUid: STUDY, seriesUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.1`, patientId: 'ROUTES' });

describe('named stores', () => {
  let gw: RunningGateway;
  let dir: { path: string; remove(): void };
  const stow = (prefix: string) => {
    const { body, contentType } = multipartBody([file]);
    return send(`${gw.baseUrl}${prefix}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
  };

  before(async () => {
    dir = makeTempDir('routes');
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(config, `defaultStore: main\nstores:\n  - { name: main, kind: local }\n  - { name: other, kind: local, path: ${join(dir.path, 'elsewhere')} }\n`);
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
  });
  after(async () => {
    await gw.stop();
    dir.remove();
  });

  test('the default store answers at /dicomweb and at /stores/{name}/dicomweb, each with its own URLs', async () => {
    const stored = await stow('/dicomweb');
    assert.equal(stored.status, 200);
    assert.equal(stored.json()['00081190'].Value[0], `${gw.baseUrl}/dicomweb/studies/${STUDY}`);
    const viaDefault = (await send(`${gw.baseUrl}/dicomweb/studies?PatientID=ROUTES`)).json();
    const viaName = (await send(`${gw.baseUrl}/stores/main/dicomweb/studies?PatientID=ROUTES`)).json();
    assert.equal(viaDefault[0]['00081190'].Value[0], `${gw.baseUrl}/dicomweb/studies/${STUDY}`);
    assert.equal(viaName[0]['00081190'].Value[0], `${gw.baseUrl}/stores/main/dicomweb/studies/${STUDY}`);
    const metadata = (await send(`${gw.baseUrl}/stores/main/dicomweb/studies/${STUDY}/metadata`)).json();
    assert.ok(String(metadata[0]['7FE00010'].BulkDataURI).startsWith(`${gw.baseUrl}/stores/main/dicomweb/studies/${STUDY}/`));
  });

  test('each store holds its own data; a local store may live at its own path', async () => {
    assert.deepEqual((await send(`${gw.baseUrl}/stores/other/dicomweb/studies?PatientID=ROUTES`)).json(), []);
    assert.equal((await stow('/stores/other/dicomweb')).status, 200);
    assert.equal((await send(`${gw.baseUrl}/stores/other/dicomweb/studies/${STUDY}/metadata`)).status, 200);
  });

  test('an unknown store is 404 with a reason, for every kind of request', async () => {
    for (const [method, path] of [
      ['GET', '/stores/nope/dicomweb/studies'],
      ['GET', `/stores/nope/dicomweb/studies/${STUDY}/metadata`],
      ['POST', '/stores/nope/dicomweb/studies'],
      ['GET', '/stores/NOT%20A%20NAME/dicomweb/studies'],
    ]) {
      const res = await send(`${gw.baseUrl}${path}`, { method, headers: method === 'POST' ? { 'content-type': 'application/dicom' } : {}, body: method === 'POST' ? Buffer.from('x') : undefined });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(String(res.headers.warning), /no store .* is configured here/);
    }
  });

  test('GET /api/stores lists name, kind, default, capabilities and health', async () => {
    const stores = (await send(`${gw.baseUrl}/api/stores`)).json();
    assert.deepEqual(
      stores.map((s: { name: string; kind: string; default: boolean; capabilities: object; health: { status: string } }) => [s.name, s.kind, s.default, s.capabilities, s.health.status]),
      [
        ['main', 'local', true, { stow: true, qido: true, wado: true }, 'healthy'],
        ['other', 'local', false, { stow: true, qido: true, wado: true }, 'healthy'],
      ],
    );
    const ready = (await send(`${gw.baseUrl}/health/ready`)).json();
    assert.equal(ready.status, 'ok');
    assert.deepEqual(ready.stores, { main: 'healthy', other: 'healthy' });
    assert.equal(ready.metadataCache.kind, 'memory', 'without REDIS_URL the metadata cache is in process');
  });
});

describe('a misconfigured store stops the start, naming the store', () => {
  test('a bad key in the config file: exit code 2 and every problem named', async () => {
    const dir = makeTempDir('badcfg');
    try {
      const config = join(dir.path, 'gateway.yaml');
      writeFileSync(config, 'stores:\n  - { name: pacs, kind: dicomweb, url: "not a url", auth: { type: bearer, tokenEnv: NO_SUCH_VAR } }\n');
      const { code, output } = await runGatewayUntilExit(join(dir.path, 'data'), { CONFIG_FILE: config });
      assert.equal(code, 2, output);
      assert.match(output, /stores\[0\] \(pacs\): url: "not a url" is not an http\(s\) URL/);
      assert.match(output, /stores\[0\] \(pacs\): auth\.tokenEnv: the environment variable NO_SUCH_VAR is not set/);
    } finally {
      dir.remove();
    }
  });

  test('a store that cannot be opened: the start fails with its name', async () => {
    const dir = makeTempDir('badstore');
    try {
      const config = join(dir.path, 'gateway.yaml');
      const notAFolder = join(dir.path, 'a-file');
      writeFileSync(notAFolder, 'not a folder');
      writeFileSync(config, `defaultStore: fine\nstores:\n  - { name: fine, kind: local }\n  - { name: broken, kind: local, path: ${notAFolder} }\n`);
      const { code, output } = await runGatewayUntilExit(join(dir.path, 'data'), { CONFIG_FILE: config });
      assert.notEqual(code, 0);
      assert.match(output, /store "broken" \(local\) cannot be set up/);
    } finally {
      dir.remove();
    }
  });
});
