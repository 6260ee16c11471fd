import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/config/gateway-config';
import { makeTempDir } from '../helpers/temp-dir';

test('defaults need no environment at all', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.match(c.dataDir, /\/data$/);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.trustProxy, false);
});

test('environment values are parsed and typed', () => {
  const c = loadConfig({ HOST: '0.0.0.0', PORT: '9000', DATA_DIR: '/tmp/x', REDIS_URL: 'redis://127.0.0.1:6379/2', MAX_REQUEST_BYTES: '2048' });
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 9000);
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379/2');
  assert.equal(c.limits.maxRequestBytes, 2048);
});

test('every bad key is named, all at once', () => {
  try {
    loadConfig({ PORT: '70000', REDIS_URL: 'http://nope', LOG_LEVEL: 'loud', MAX_REQUEST_BYTES: '-5', TRUST_PROXY: 'maybe' });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = (e as ConfigError).message;
    for (const key of ['PORT', 'REDIS_URL', 'LOG_LEVEL', 'MAX_REQUEST_BYTES', 'TRUST_PROXY']) {
      assert.match(text, new RegExp(key), `message should name ${key}`);
    }
    assert.equal((e as ConfigError).problems.length, 5);
  }
});

test('YAML file supplies values; environment wins over it', () => {
  const dir = makeTempDir('cfg');
  try {
    const file = join(dir.path, 'gateway.yaml');
    writeFileSync(file, 'port: 8181\nhost: 0.0.0.0\nlimits:\n  maxInstanceBytes: 4096\n');
    const c = loadConfig({ CONFIG_FILE: file, HOST: '127.0.0.2' });
    assert.equal(c.port, 8181);
    assert.equal(c.host, '127.0.0.2');
    assert.equal(c.limits.maxInstanceBytes, 4096);
  } finally {
    dir.remove();
  }
});

test('an unreadable or invalid YAML file is a named error', () => {
  assert.throws(() => loadConfig({ CONFIG_FILE: '/nonexistent/gw.yaml' }), /CONFIG_FILE: cannot read/);
  const dir = makeTempDir('cfg');
  try {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, 'port: [unclosed\n');
    assert.throws(() => loadConfig({ CONFIG_FILE: file }), /CONFIG_FILE: .* is not valid YAML/);
    writeFileSync(file, '- a list\n');
    assert.throws(() => loadConfig({ CONFIG_FILE: file }), /YAML mapping/);
  } finally {
    dir.remove();
  }
});
