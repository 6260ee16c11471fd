/**
 * The logging parts on their own: how Nest's Logger arguments become pino fields, the request id
 * taken from the context, request-id safety, the query values redacted from a request's lines,
 * and the text format. The whole app's logs: test/e2e/logging.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PinoLoggerService } from '../../src/logging/pino-logger.service';
import { queryRedactions, redact } from '../../src/logging/query-redactions';
import { runInRequestContext, runWithRequestId } from '../../src/logging/request-context';
import { isSafeRequestId, requestIdFor } from '../../src/logging/request-id';
import { formatTextLine } from '../../src/logging/text-log-format';

type Entry = Record<string, unknown>;

function capture(level: 'debug' | 'info' = 'debug'): { logger: PinoLoggerService; last(): Entry } {
  const lines: string[] = [];
  const logger = new PinoLoggerService({ level, format: 'json', destination: { write: (l: string) => lines.push(l) } });
  return { logger, last: () => JSON.parse(lines.at(-1)!) as Entry };
}

describe('PinoLoggerService', () => {
  test("Nest's Logger calls keep their context, stack and fields", () => {
    const { logger, last } = capture();
    logger.log('plain', 'Ctx');
    assert.deepEqual({ ...last(), time: undefined }, { level: 'info', time: undefined, context: 'Ctx', msg: 'plain' });
    assert.ok(!Number.isNaN(Date.parse(String(last().time))));
    logger.error('failed', 'Error: x\n    at f (file.js:1:2)', 'Ctx');
    assert.equal(last().stack, 'Error: x\n    at f (file.js:1:2)');
    assert.equal(last().context, 'Ctx');
    logger.error('no stack', undefined, 'Ctx');
    assert.equal(last().stack, undefined);
    assert.equal(last().context, 'Ctx');
    logger.error('static call with a stack only', 'Error: y\n    at g (file.js:3:4)');
    assert.equal(last().context, undefined);
    assert.match(String(last().stack), /^Error: y/);
    logger.error(new Error('thrown'), undefined, 'Ctx');
    assert.equal(last().msg, 'thrown');
    assert.match(String(last().stack), /Error: thrown\n\s+at /);
    logger.warn({ msg: 'structured', count: 3 }, 'Ctx');
    assert.equal(last().msg, 'structured');
    assert.equal(last().count, 3);
    logger.error('with fields', { jobs: [1] }, 'Ctx');
    assert.deepEqual(last().jobs, [1]);
  });

  test('the request id comes from the context, and levels below the configured one are dropped', () => {
    const { logger, last } = capture();
    runWithRequestId('req-1', () => logger.debug('inside', 'Ctx'));
    assert.equal(last().requestId, 'req-1');
    logger.verbose('below the level', 'Ctx');
    assert.equal(last().msg, 'inside', 'trace is not written at debug');
    runWithRequestId('req-2', () => runWithRequestId(undefined, () => logger.log('not caused by a request', 'Ctx')));
    assert.equal(last().requestId, undefined, 'a job no request caused does not inherit one');
  });

  test("values of the request's query are redacted from its lines, UIDs and paging are not", () => {
    const { logger, last } = capture();
    const redactions = queryRedactions({ PatientName: 'Doe^Jane', PatientID: 'ID1,ID22', StudyInstanceUID: '1.2.3.4', limit: '100', Modality: 'CT' });
    assert.deepEqual(redactions, ['Doe^Jane', 'ID1,ID22', 'ID22', 'ID1']);
    runInRequestContext({ requestId: 'r', redactions }, () => logger.error('upstream said: no Doe^Jane (ID22) in 1.2.3.4, limit 100, CT', 'Error: Doe^Jane\n    at f (x.js:1:1)', 'Ctx'));
    assert.equal(last().msg, 'upstream said: no [redacted] ([redacted]) in 1.2.3.4, limit 100, CT');
    assert.equal(last().stack, 'Error: [redacted]\n    at f (x.js:1:1)');
    assert.equal(redact('nothing to hide', undefined), 'nothing to hide');
  });
});

describe('request ids', () => {
  test('a safe client id is kept, anything else replaced by a new one', () => {
    for (const ok of ['a', 'abc-123', 'A.b_c-9', 'x'.repeat(128)]) assert.ok(isSafeRequestId(ok), ok);
    for (const bad of ['', 'two words', 'a,b', 'x'.repeat(129), 'semi;colon', 'new\nline', 'ünï']) assert.ok(!isSafeRequestId(bad), bad);
    assert.equal(requestIdFor('abc-123'), 'abc-123');
    assert.notEqual(requestIdFor(['a', 'b']), 'a');
    assert.match(requestIdFor('two words'), /^[0-9a-f-]{36}$/);
    assert.notEqual(requestIdFor(undefined), requestIdFor(undefined));
  });
});

describe('text format', () => {
  test('one line: time, level, context, message, fields, request; a stack indented below', () => {
    const line = formatTextLine('{"level":"warn","time":"2024-01-01T00:00:00.000Z","requestId":"r1","context":"STOW","msg":"slow","ms":12}\n');
    assert.equal(line, '2024-01-01T00:00:00.000Z WARN  [STOW] slow ms=12 (request r1)\n');
    const withStack = formatTextLine('{"level":"error","time":"t","msg":"boom","stack":"Error: boom\\n    at f"}');
    assert.equal(withStack, 't ERROR boom\n    Error: boom\n        at f\n');
  });
});
