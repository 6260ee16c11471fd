/**
 * Limits per client: the request rate (a token bucket per identity, 429 with Retry-After past it)
 * and the uploads in progress at once; health checks are never limited. Also the operator's CLI:
 * the first API key of a gateway that requires authentication is made with it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7831';

function createKey(dataDir: string, name: string, scopes: string): string {
  let printed = '';
  assert.equal(runCli(['keys', 'create', '--name', name, '--scopes', scopes], { DATA_DIR: dataDir }, (t) => (printed += t)), 0);
  return JSON.parse(printed).key as string;
}

describe('rate limits and the API key CLI', () => {
  const dir = makeTempDir('limits');
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let keyA: string;
  let keyB: string;

  before(async () => {
    // Keys made on the data folder before the gateway runs, as an operator would.
    keyA = createKey(dir.path, 'device-a', 'dicomweb:read,dicomweb:write');
    keyB = createKey(dir.path, 'device-b', 'dicomweb:read');
    gw = await startInProcessGateway({ DATA_DIR: dir.path, AUTH_MODE: 'required', RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '5', MAX_CONCURRENT_UPLOADS: '1' });
  });
  after(async () => {
    await gw?.stop();
    dir.remove();
  });

  const qido = (key: string) => send(`${gw.baseUrl}/dicomweb/studies`, { headers: { 'x-api-key': key, accept: 'application/dicom+json' } });

  test('the CLI lists and revokes keys; a key made with it authenticates', async () => {
    let printed = '';
    runCli(['keys', 'list'], { DATA_DIR: dir.path }, (t) => (printed += t));
    const names = (JSON.parse(printed).apiKeys as { name: string }[]).map((k) => k.name);
    assert.deepEqual(names, ['device-a', 'device-b']);
    assert.throws(() => runCli(['keys', 'create', '--name', 'x'], { DATA_DIR: dir.path }, () => undefined), /--name and --scopes/);
    assert.throws(() => runCli(['keys', 'revoke', 'no-such-id'], { DATA_DIR: dir.path }, () => undefined), /no API key/);
    assert.equal((await qido(keyB)).status, 200);
  });

  test('past the burst, 429 with Retry-After; another client has its own allowance; health is never limited', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await qido(keyA);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = String(res.headers['retry-after']);
    }
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.ok(statuses.slice(5).every((s) => s === 429), statuses.join(','));
    assert.ok(Number(retryAfter) >= 1);
    assert.equal((await qido(keyB)).status, 200);
    for (let i = 0; i < 10; i++) assert.equal((await send(`${gw.baseUrl}/health/live`)).status, 200);
    await new Promise((r) => setTimeout(r, 1100)); // one token back at 60 per minute
    assert.equal((await qido(keyA)).status, 200);
  });

  test('one upload in progress at a time per client: the second is 429 until the first ends', async () => {
    await new Promise((r) => setTimeout(r, 5_000)); // a full bucket again
    const { body, contentType } = multipartBody([syntheticInstance({ seed: 7831, rows: 64, columns: 64, studyUid: `${ROOT}.1`, seriesUid: `${ROOT}.1.1`, sopInstanceUid: `${ROOT}.1.1.1` })]);
    const slow = Readable.from(
      (async function* () {
        for (let at = 0; at < body.length; at += 512) {
          yield body.subarray(at, at + 512);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    );
    const headers = { 'content-type': contentType, accept: 'application/dicom+json', 'x-api-key': keyA };
    const first = send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers, body: slow, contentLength: body.length });
    await new Promise((r) => setTimeout(r, 200));
    const second = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers, body });
    assert.equal(second.status, 429, second.text());
    assert.match(second.json().message, /uploads in progress/);
    assert.equal((await first).status, 200);
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers, body })).status, 200);
  });
});
