/**
 * What an operator watches: /health/ready with each check (SQLite files, disk space, Redis, the
 * stores) and 503 when the gateway cannot serve; /metrics scraped and parsed as Prometheus text:
 * requests by route family and status with durations, STOW bytes and instances, QIDO result
 * sizes, the stores' health, circuit states and upstream errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { freePort } from '../helpers/free-port';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7832';

/** Prometheus text exposition -> "name{labels}" -> value (labels as written, sorted by name). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = m[3] ? m[3].split(/,(?=[a-zA-Z_]+=")/).sort().join(',') : '';
    out.set(labels ? `${m[1]}{${labels}}` : m[1], Number(m[4]));
  }
  return out;
}

const sample = (metrics: Map<string, number>, name: string, labels: Record<string, string> = {}) =>
  metrics.get(Object.keys(labels).length === 0 ? name : `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`);

describe('health and metrics', () => {
  const dir = makeTempDir('operations');
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;

  before(async () => {
    const dead = await freePort();
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'defaultStore: main',
        'stores:',
        '  - { name: main, kind: local }',
        '  - name: gone',
        '    kind: dicomweb',
        `    url: http://127.0.0.1:${dead}/dicom-web`,
        '    healthCheckIntervalMs: 0',
        '    retries: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }',
        '    circuitBreaker: { failureThreshold: 2, openMs: 60000 }',
        '',
      ].join('\n'),
    );
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
  });
  after(async () => {
    await gw?.stop();
    dir.remove();
  });

  test('ready: every check named; a dead upstream store is shown but does not make the gateway unready', async () => {
    const res = await send(`${gw.baseUrl}/health/ready`);
    assert.equal(res.status, 200, res.text());
    const ready = res.json();
    assert.equal(ready.status, 'ok');
    assert.deepEqual(Object.keys(ready.checks.sqlite).sort(), ['events.sqlite', 'security.sqlite', 'store main']);
    assert.ok(Object.values(ready.checks.sqlite).every((c) => (c as { ok: boolean }).ok));
    assert.equal(ready.checks.disk.ok, true);
    assert.ok(ready.checks.disk.freeBytes > 0);
    assert.equal(ready.checks.redis.detail, 'not configured');
    assert.equal(ready.stores.main, 'healthy');
    assert.equal((await send(`${gw.baseUrl}/health/live`)).json().status, 'ok');
  });

  test('metrics: requests by family and status, STOW bytes and instances, QIDO result sizes, upstream errors and circuits', async () => {
    const files = [1, 2, 3].map((n) => syntheticInstance({ seed: 7832 + n, rows: 16, columns: 16, studyUid: `${ROOT}.1`, seriesUid: `${ROOT}.1.1`, sopInstanceUid: `${ROOT}.1.1.${n}` }));
    const { body, contentType } = multipartBody([...files, Buffer.from('not DICOM')]);
    const stowed = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
    assert.equal(stowed.status, 202);
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies/${ROOT}.1/series`, { headers: { accept: 'application/dicom+json' } })).status, 200);
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies/${ROOT}.1/metadata`)).status, 200);
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies/${ROOT}.9/metadata`)).status, 404);
    for (let i = 0; i < 3; i++) assert.equal((await send(`${gw.baseUrl}/stores/gone/dicomweb/studies`)).status, 503);
    const res = await send(`${gw.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.text());
    assert.equal(sample(m, 'dicomweb_gateway_http_requests_total', { family: 'stow.store', method: 'POST', status: '202' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_http_requests_total', { family: 'qido.search', method: 'GET', status: '200' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_http_requests_total', { family: 'wado.metadata', method: 'GET', status: '404' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_http_requests_total', { family: 'qido.search', method: 'GET', status: '503' }), 3);
    assert.equal(sample(m, 'dicomweb_gateway_http_request_duration_seconds_count', { family: 'wado.metadata', status: '200' }), 1);
    assert.ok(sample(m, 'dicomweb_gateway_stow_bytes_total', { store: 'main' })! > files.reduce((s, f) => s + f.length, 0));
    assert.equal(sample(m, 'dicomweb_gateway_stow_instances_total', { store: 'main', outcome: 'stored' }), 3);
    assert.equal(sample(m, 'dicomweb_gateway_stow_instances_total', { store: 'main', outcome: 'failed' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_qido_results_sum', { level: 'series' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_store_healthy', { store: 'main', kind: 'local' }), 1);
    assert.equal(sample(m, 'dicomweb_gateway_store_healthy', { store: 'gone', kind: 'dicomweb' }), 0);
    assert.equal(sample(m, 'dicomweb_gateway_upstream_circuit_state', { store: 'gone' }), 2, 'open after the failures');
    assert.ok(sample(m, 'dicomweb_gateway_upstream_errors_total', { store: 'gone', kind: 'unavailable' })! >= 2);
    assert.ok(sample(m, 'dicomweb_gateway_process_resident_memory_bytes')! > 0);
  });

  test('not ready (503) when the data folder has less free space than required', async () => {
    const low = await startInProcessGateway({ DATA_DIR: join(dir.path, 'low'), HEALTH_MIN_FREE_DISK_BYTES: String(10 ** 15) });
    try {
      const res = await send(`${low.baseUrl}/health/ready`);
      assert.equal(res.status, 503);
      assert.equal(res.json().status, 'unavailable');
      assert.match(res.json().checks.disk.detail, /below the 1000000000000000 required/);
      assert.equal((await send(`${low.baseUrl}/health/live`)).status, 200, 'still alive');
    } finally {
      await low.stop();
    }
  });
});
