import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/config/gateway-config';

test('QIDO limits: defaults 100 and 1000, from the environment, the default follows a lower maximum', () => {
  assert.deepEqual(pick(loadConfig({})), [100, 1000]);
  assert.deepEqual(pick(loadConfig({ QIDO_DEFAULT_LIMIT: '20', QIDO_MAX_LIMIT: '500' })), [20, 500]);
  assert.deepEqual(pick(loadConfig({ QIDO_MAX_LIMIT: '50' })), [50, 50]);
});

test('QIDO limits: bad values are named', () => {
  for (const env of [{ QIDO_MAX_LIMIT: '0' }, { QIDO_DEFAULT_LIMIT: 'ten' }, { QIDO_DEFAULT_LIMIT: '300', QIDO_MAX_LIMIT: '200' }]) {
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && /QIDO_/.test(e.message));
  }
});

function pick(c: ReturnType<typeof loadConfig>): [number, number] {
  return [c.qidoDefaultLimit, c.qidoMaxLimit];
}
