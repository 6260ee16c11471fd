import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MultipartError,
  MultipartErrorKind,
  MultipartPart,
  readMultipart,
} from '../../src/dicomweb/multipart/multipart-reader';

const B = 'XbOuNdArY-123';

interface Collected {
  headers: Record<string, string>;
  body: Buffer;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytesSeeded(length: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** Emits exactly these chunks (empty ones included). */
function chunked(chunks: Buffer[]): Readable {
  return Readable.from(chunks);
}

function splitAt(message: Buffer, ...positions: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const p of positions) {
    out.push(message.subarray(from, p));
    from = p;
  }
  out.push(message.subarray(from));
  return out;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect(
  source: Readable,
  boundary = B,
  options?: Parameters<typeof readMultipart>[2],
): Promise<{ parts: Collected[]; error?: unknown }> {
  const parts: Collected[] = [];
  try {
    for await (const part of readMultipart(source, boundary, options)) {
      parts.push({ headers: part.headers, body: await readAll(part.body) });
    }
  } catch (error) {
    return { parts, error };
  }
  return { parts };
}

function isMultipartError(kind: MultipartErrorKind) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof MultipartError, `expected MultipartError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    return true;
  };
}

/** Bodies full of near-delimiters that must survive untouched. */
const tricky = Buffer.concat([
  randomBytesSeeded(300, 7),
  Buffer.from(`\r\n--`),
  Buffer.from(`\r\n--${B.slice(0, 5)}`),
  Buffer.from(`\r\n--${B}x`), // boundary followed by a non-padding byte: body text
  Buffer.from(`\r\n--${B} x`), // padding, then garbage: body text
  Buffer.from(`\r\n--${B}-x`), // one dash only: body text
  Buffer.from(`\r\n--${B}\r\r`), // CR not followed by LF: body text
  Buffer.from(`--${B}\r\n`), // not preceded by a line end: body text
  Buffer.from(`x--${B}--\r\n`),
  Buffer.from('\n-\r\n-\r\r\n-'),
  randomBytesSeeded(200, 11),
  Buffer.from('\r'), // trailing CR just before the delimiter's CRLF stays in the body
]);

const expected: Collected[] = [
  { headers: { 'content-type': 'text/plain', 'x-id': '1' }, body: Buffer.from('hello\r\nworld\n') },
  {
    headers: { 'content-type': 'application/dicom', 'content-location': 'http://x/y', 'x-dup': 'a, b' },
    body: tricky,
  },
  { headers: {}, body: Buffer.alloc(0) },
];

function threePartMessage(eol: '\r\n' | '\n', parts: Collected[] = expected): Buffer {
  const e = eol;
  return Buffer.concat([
    Buffer.from(`This is a preamble --${B} not at a line start${e}--notit${e}`),
    Buffer.from(`--${B}${e}Content-Type: text/plain${e}X-Id:   1 ${e}${e}`),
    parts[0].body,
    Buffer.from(`${e}--${B}${e}content-type:application/dicom${e}CONTENT-LOCATION: http://x/y${e}X-Dup: a${e}x-dup: b${e}${e}`),
    parts[1].body,
    Buffer.from(`${e}--${B} \t ${e}${e}`),
    parts[2].body,
    Buffer.from(`${e}--${B}-- trailing${e}epilogue ${e}--${B}${e}ignored${e}`),
  ]);
}

describe('readMultipart: framing', () => {
  const message = threePartMessage('\r\n');

  test('one chunk', async () => {
    const result = await collect(chunked([message]));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.parts, expected);
  });

  test('two chunks split at every byte position', async () => {
    for (let i = 0; i <= message.length; i++) {
      const result = await collect(chunked(splitAt(message, i)));
      assert.equal(result.error, undefined, `split at ${i}`);
      assert.deepEqual(result.parts, expected, `split at ${i}`);
    }
  });

  test('one byte at a time', async () => {
    const result = await collect(chunked(Array.from(message, (b) => Buffer.from([b]))));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.parts, expected);
  });

  test('random chunkings, including empty chunks', async () => {
    const next = prng(42);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * message.length)).sort(
        (a, b) => a - b,
      );
      const result = await collect(chunked(splitAt(message, ...cuts)));
      assert.equal(result.error, undefined, `cuts ${cuts.join(',')}`);
      assert.deepEqual(result.parts, expected, `cuts ${cuts.join(',')}`);
    }
  });

  test('bare LF line endings, every split position', async () => {
    // A body ending in CR before an LF-only delimiter is byte-identical to a
    // CRLF delimiter, so the CR would (rightly) go to the delimiter: drop it here.
    const lfExpected = expected.map((part, i) => (i === 1 ? { ...part, body: part.body.subarray(0, -1) } : part));
    const lf = threePartMessage('\n', lfExpected);
    for (let i = 0; i <= lf.length; i += 1) {
      const result = await collect(chunked(splitAt(lf, i)));
      assert.equal(result.error, undefined, `split at ${i}`);
      assert.deepEqual(result.parts, lfExpected, `split at ${i}`);
    }
  });

  test('first boundary at the very start, no preamble, no epilogue', async () => {
    const m = Buffer.from(`--${B}\r\nA: 1\r\n\r\nabc\r\n--${B}--`);
    for (let i = 0; i <= m.length; i++) {
      const result = await collect(chunked(splitAt(m, i)));
      assert.equal(result.error, undefined);
      assert.deepEqual(result.parts, [{ headers: { a: '1' }, body: Buffer.from('abc') }]);
    }
  });

  test('mixed CRLF and LF; empty header block and empty bodies', async () => {
    const m = Buffer.from(`--${B}\n\r\n\r\n--${B}\r\n\n\n--${B}\r\n\r\nx\n--${B}--\n`);
    const result = await collect(chunked([m]));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.parts, [
      { headers: {}, body: Buffer.alloc(0) },
      { headers: {}, body: Buffer.alloc(0) },
      { headers: {}, body: Buffer.from('x') },
    ]);
  });

  test('a close delimiter right away means no parts', async () => {
    const result = await collect(chunked([Buffer.from(`preamble\r\n--${B}--\r\n`)]));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.parts, []);
  });

  test('transport padding after the delimiter and after the close delimiter', async () => {
    const m = Buffer.from(`--${B}\t \t\r\n\r\nbody\r\n--${B}--  \t\r\nepilogue`);
    const result = await collect(chunked([m]));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.parts, [{ headers: {}, body: Buffer.from('body') }]);
  });

  test('part metadata: index, lower-cased headers, contentType', async () => {
    const m = Buffer.from(
      `--${B}\r\nCONTENT-TYPE: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n__proto__: x\r\n\r\n1\r\n--${B}\r\n\r\n2\r\n--${B}--`,
    );
    const seen: Array<Pick<MultipartPart, 'index' | 'contentType' | 'headers'>> = [];
    for await (const part of readMultipart(chunked([m]), B)) {
      seen.push({ index: part.index, contentType: part.contentType, headers: part.headers });
      part.body.resume();
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0].index, 0);
    assert.equal(seen[0].contentType, 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    assert.equal(Object.getPrototypeOf(seen[0].headers), Object.prototype, '__proto__ header must not change the prototype');
    assert.equal(seen[0].headers['__proto__'], 'x');
    assert.equal(seen[1].index, 1);
    assert.equal(seen[1].contentType, undefined);
  });

  test('body slices share memory with the source chunk (no copy)', async () => {
    const payload = randomBytesSeeded(100_000, 3);
    const chunk = Buffer.concat([Buffer.from(`--${B}\r\n\r\n`), payload, Buffer.from(`\r\n--${B}--`)]);
    const gen = readMultipart(chunked([chunk]), B);
    const first = await gen.next();
    assert.ok(!first.done);
    const pieces: Buffer[] = [];
    first.value.body.on('data', (piece: Buffer) => pieces.push(piece));
    await once(first.value.body, 'end');
    assert.ok(pieces.length > 0);
    assert.equal(pieces[0].buffer, chunk.buffer);
    assert.deepEqual(Buffer.concat(pieces), payload);
    assert.deepEqual(await gen.next(), { done: true, value: undefined });
  });

  test('rejects an invalid boundary at once', () => {
    assert.throws(() => readMultipart(chunked([]), ''), TypeError);
    assert.throws(() => readMultipart(chunked([]), 'a\r\nb'), TypeError);
  });
});

describe('readMultipart: truncated and malformed input', () => {
  test('source ends mid-body: body errors without end, generator throws', async () => {
    const m = Buffer.from(`--${B}\r\n\r\ncomplete\r\n--${B}\r\nContent-Type: x\r\n\r\npartial bo`);
    for (let i = 0; i <= m.length; i++) {
      const gen = readMultipart(chunked(splitAt(m, i)), B);
      const first = await gen.next();
      assert.ok(!first.done);
      assert.deepEqual(await readAll(first.value.body), Buffer.from('complete'));
      const second = await gen.next();
      assert.ok(!second.done);
      let ended = false;
      second.value.body.on('end', () => {
        ended = true;
      });
      const received: Buffer[] = [];
      await assert.rejects(
        pipeline(
          second.value.body,
          new Writable({
            write(chunk: Buffer, _encoding, callback) {
              received.push(chunk);
              callback();
            },
          }),
        ),
        isMultipartError('truncated'),
      );
      assert.equal(ended, false, 'a truncated body must never emit end');
      // Bytes that might have begun a delimiter are held back, so only a prefix arrives.
      assert.ok('partial bo'.startsWith(Buffer.concat(received).toString()));
      await assert.rejects(gen.next(), isMultipartError('truncated'));
    }
  });

  test('a truncated body that nobody listens to does not crash the process', async () => {
    const m = Buffer.from(`--${B}\r\n\r\n${'x'.repeat(1000)}`);
    const gen = readMultipart(chunked([m]), B);
    const first = await gen.next();
    assert.ok(!first.done);
    // no listener on first.value.body: moving on discards it and reports the error here
    await assert.rejects(gen.next(), isMultipartError('truncated'));
    assert.ok(first.value.body.destroyed);
  });

  test('source errors mid-body: truncated with the cause', async () => {
    let step = 0;
    const source = new Readable({
      read() {
        if (step++ === 0) this.push(Buffer.from(`--${B}\r\n\r\nsome bytes`));
        else this.destroy(new Error('socket reset'));
      },
    });
    const gen = readMultipart(source, B);
    const first = await gen.next();
    assert.ok(!first.done);
    const bodyError = await readAll(first.value.body).then(
      () => assert.fail('body must not end'),
      (error: unknown) => error,
    );
    assert.ok(bodyError instanceof MultipartError);
    assert.equal(bodyError.kind, 'truncated');
    assert.ok(bodyError.cause instanceof Error);
    assert.equal(bodyError.cause.message, 'socket reset');
    await assert.rejects(gen.next(), (error: unknown) => error === bodyError);
  });

  test('missing close delimiter: complete parts end normally, then the generator throws', async () => {
    const endings = [`\r\n--${B}\r\n`, `\r\n--${B}`, `\r\n--${B}-`, `\r\n--${B}  `, `\r\n--${B}\r\nContent-Type: x`, `\r\n--${B}\r\n\r`];
    for (const ending of endings) {
      const m = Buffer.from(`--${B}\r\n\r\nA\r\n--${B}\r\n\r\nB${ending}`);
      for (let i = 0; i <= m.length; i++) {
        const result = await collect(chunked(splitAt(m, i)));
        assert.deepEqual(
          result.parts,
          [
            { headers: {}, body: Buffer.from('A') },
            { headers: {}, body: Buffer.from('B') },
          ],
          JSON.stringify(ending),
        );
        assert.ok(isMultipartError('truncated')(result.error));
      }
    }
  });

  test('source ends inside the first delimiter line or header block', async () => {
    for (const m of [`--${B}`, `pre\r\n--${B}\r\nA: b`, `--${B}\r\nA: b\r\n`]) {
      const result = await collect(chunked([Buffer.from(m)]));
      assert.deepEqual(result.parts, []);
      assert.ok(isMultipartError('truncated')(result.error), m);
    }
  });

  test('no boundary at all', async () => {
    const result = await collect(chunked([Buffer.from(`just some text --${B}x\r\n`)]));
    assert.deepEqual(result.parts, []);
    assert.ok(isMultipartError('no-start-boundary')(result.error));
  });

  test('a large body without a boundary fails fast (maxPreambleBytes)', async () => {
    const source = lazySource(function* () {
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(64 * 1024, 0x41);
    });
    const result = await collect(source, B, { onStop: 'destroy' });
    assert.ok(isMultipartError('no-start-boundary')(result.error));
    assert.ok(source.produced < 512 * 1024, `read ${source.produced} bytes before failing`);
    assert.ok(source.destroyed);
  });

  test('header block larger than maxHeaderBytes', async () => {
    const header = `X-Long: ${'a'.repeat(100)}\r\n`;
    const result = await collect(chunked([Buffer.from(`--${B}\r\n${header}\r\nbody\r\n--${B}--`)]), B, {
      maxHeaderBytes: 64,
    });
    assert.deepEqual(result.parts, []);
    assert.ok(isMultipartError('header-too-large')(result.error));
  });

  test('header block of exactly maxHeaderBytes is accepted, one more byte is not', async () => {
    const block = 'A: 123456\r\n\r\n'; // 13 bytes, blank line included
    const ok = await collect(chunked([Buffer.from(`--${B}\r\n${block}x\r\n--${B}--`)]), B, { maxHeaderBytes: 13 });
    assert.equal(ok.error, undefined);
    assert.deepEqual(ok.parts, [{ headers: { a: '123456' }, body: Buffer.from('x') }]);
    const tooBig = await collect(chunked([Buffer.from(`--${B}\r\n${block}x\r\n--${B}--`)]), B, { maxHeaderBytes: 12 });
    assert.ok(isMultipartError('header-too-large')(tooBig.error));
  });

  test('an endless header line fails without buffering it', async () => {
    const source = lazySource(function* () {
      yield Buffer.from(`--${B}\r\nX-Endless: `);
      for (let i = 0; i < 10_000; i++) yield Buffer.alloc(64 * 1024, 0x61);
    });
    const result = await collect(source, B, { onStop: 'destroy' });
    assert.ok(isMultipartError('header-too-large')(result.error));
    assert.ok(source.produced < 512 * 1024);
    assert.ok(source.destroyed);
  });

  test('overlong transport padding', async () => {
    const result = await collect(chunked([Buffer.from(`--${B}${' '.repeat(100)}\r\n\r\nx\r\n--${B}--`)]), B, {
      maxHeaderBytes: 50,
    });
    assert.ok(isMultipartError('header-too-large')(result.error));
  });

  test('header line without a colon, or with an empty or invalid name', async () => {
    for (const line of ['NoColonHere', ': value', 'Bad Name: value']) {
      const result = await collect(chunked([Buffer.from(`--${B}\r\n${line}\r\n\r\nx\r\n--${B}--`)]));
      assert.deepEqual(result.parts, []);
      assert.ok(isMultipartError('bad-header')(result.error), line);
    }
  });
});

/** A source that generates its chunks only when read, and counts what it produced. */
function lazySource(generate: () => Generator<Buffer>): Readable & { produced: number } {
  const iterator = generate();
  const source = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      const next = iterator.next();
      if (next.done) {
        this.push(null);
        return;
      }
      source.produced += next.value.length;
      this.push(next.value);
    },
  }) as Readable & { produced: number };
  source.produced = 0;
  return source;
}

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('readMultipart: flow control', () => {
  const MB = 1024 * 1024;

  test('a 50 MB part streams to a slow consumer with bounded buffering', async () => {
    const chunkSize = 64 * 1024;
    const chunkCount = (50 * MB) / chunkSize;
    const expectedHash = createHash('sha256');
    const source = lazySource(function* () {
      yield Buffer.from(`--${B}\r\nContent-Type: application/dicom\r\n\r\n`);
      for (let i = 0; i < chunkCount; i++) {
        const chunk = Buffer.alloc(chunkSize, i & 0xff);
        // near-delimiters, some straddling chunk edges
        chunk.write(`\r\n--${B.slice(0, 8)}`, 0, 'latin1');
        chunk.write(`\r\n--${B}`.slice(0, 3 + (i % (B.length + 1))), chunkSize - 3 - (i % (B.length + 1)), 'latin1');
        expectedHash.update(chunk);
        yield chunk;
      }
      yield Buffer.from(`\r\n--${B}--\r\n`);
    });

    let consumed = 0;
    let maxLag = 0;
    const hash = createHash('sha256');
    const slowSink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        consumed += chunk.length;
        hash.update(chunk);
        maxLag = Math.max(maxLag, source.produced - consumed);
        setImmediate(callback); // one event-loop turn per chunk: slower than the source
      },
    });

    let parts = 0;
    for await (const part of readMultipart(source, B)) {
      parts++;
      await pipeline(part.body, slowSink);
    }
    assert.equal(parts, 1);
    assert.equal(consumed, 50 * MB);
    assert.equal(hash.digest('hex'), expectedHash.digest('hex'));
    // source buffer + one chunk in the reader + body buffer + sink buffer
    assert.ok(maxLag < 1 * MB, `bytes read ahead of the consumer: ${maxLag}`);
  });

  test('the source stays paused while a body is not read', async () => {
    const source = lazySource(function* () {
      yield Buffer.from(`--${B}\r\n\r\n`);
      for (let i = 0; i < 160; i++) yield Buffer.alloc(64 * 1024, 1);
      yield Buffer.from(`\r\n--${B}--`);
    });
    const gen = readMultipart(source, B);
    const first = await gen.next();
    assert.ok(!first.done);
    await ticks(200);
    const before = source.produced;
    assert.ok(before < 512 * 1024, `read ${before} bytes with nobody reading`);
    assert.ok(source.isPaused());
    // Reading resumes the flow.
    assert.equal((await readAll(first.value.body)).length, 160 * 64 * 1024);
    assert.deepEqual(await gen.next(), { done: true, value: undefined });
  });

  test('early return() drains the source by default and destroys the open body', async () => {
    const source = lazySource(function* () {
      yield Buffer.from(`--${B}\r\n\r\n`);
      for (let i = 0; i < 100; i++) yield Buffer.alloc(64 * 1024, 2);
      yield Buffer.from(`\r\n--${B}\r\n\r\nsecond\r\n--${B}--`);
    });
    const ended = once(source, 'end');
    let body: Readable | undefined;
    let bodyEnded = false;
    for await (const part of readMultipart(source, B)) {
      body = part.body;
      body.on('end', () => {
        bodyEnded = true;
      });
      break;
    }
    assert.ok(body?.destroyed);
    await ended; // drained to the end: an HTTP request could still be answered
    assert.equal(bodyEnded, false);
    assert.ok(source.produced > 100 * 64 * 1024);
  });

  test("early return() with onStop: 'destroy' destroys the source", async () => {
    const source = lazySource(function* () {
      yield Buffer.from(`--${B}\r\n\r\n`);
      for (let i = 0; i < 100; i++) yield Buffer.alloc(64 * 1024, 2);
      yield Buffer.from(`\r\n--${B}--`);
    });
    const gen = readMultipart(source, B, { onStop: 'destroy' });
    const first = await gen.next();
    assert.ok(!first.done);
    const firstBytes = await new Promise<Buffer>((resolve) => first.value.body.once('data', resolve));
    assert.ok(firstBytes.length > 0);
    await gen.return(undefined);
    assert.ok(source.destroyed);
    assert.ok(first.value.body.destroyed);
    assert.ok(source.produced < 1024 * 1024);
  });

  test('return() after reading complete parts, before the close delimiter', async () => {
    const m = Buffer.from(`--${B}\r\n\r\none\r\n--${B}\r\n\r\ntwo\r\n--${B}--`);
    const gen = readMultipart(chunked([m]), B);
    const first = await gen.next();
    assert.ok(!first.done);
    assert.equal((await readAll(first.value.body)).toString(), 'one');
    assert.deepEqual(await gen.return(undefined), { done: true, value: undefined });
    assert.deepEqual(await gen.next(), { done: true, value: undefined });
  });

  test('moving on without reading a body skips it', async () => {
    const m = Buffer.concat([
      Buffer.from(`--${B}\r\n\r\n`),
      Buffer.alloc(300_000, 1),
      Buffer.from(`\r\n--${B}\r\n\r\n`),
      Buffer.alloc(300_000, 2),
      Buffer.from(`\r\n--${B}\r\nA: 3\r\n\r\nthird\r\n--${B}--`),
    ]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < m.length; i += 65_536) pieces.push(m.subarray(i, i + 65_536));
    const seen: string[] = [];
    for await (const part of readMultipart(chunked(pieces), B)) {
      if (part.index === 2) seen.push((await readAll(part.body)).toString());
      else seen.push(`skipped ${part.index}`);
    }
    assert.deepEqual(seen, ['skipped 0', 'skipped 1', 'third']);
  });

  test('destroying a body mid-read skips the rest of that part', async () => {
    const m = Buffer.concat([
      Buffer.from(`--${B}\r\n\r\n`),
      Buffer.alloc(500_000, 1),
      Buffer.from(`\r\n--${B}\r\n\r\nnext\r\n--${B}--`),
    ]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < m.length; i += 10_000) pieces.push(m.subarray(i, i + 10_000));
    const gen = readMultipart(chunked(pieces), B);
    const first = await gen.next();
    assert.ok(!first.done);
    await new Promise<void>((resolve) =>
      first.value.body.once('data', () => {
        first.value.body.destroy(new Error('rejected by the consumer'));
        resolve();
      }),
    );
    const second = await gen.next();
    assert.ok(!second.done);
    assert.equal((await readAll(second.value.body)).toString(), 'next');
    assert.deepEqual(await gen.next(), { done: true, value: undefined });
  });
});
