import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { formatContentType, parseContentType } from '../../src/dicomweb/multipart/content-type';
import { readMultipart } from '../../src/dicomweb/multipart/multipart-reader';
import {
  closeDelimiter,
  multipartStream,
  newBoundary,
  OutgoingPart,
  partHeader,
} from '../../src/dicomweb/multipart/multipart-writer';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* inPieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('multipart writer', () => {
  test('newBoundary is random, short and needs no quoting', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const boundary = newBoundary();
      assert.match(boundary, /^[A-Za-z0-9-]{1,70}$/);
      seen.add(boundary);
    }
    assert.equal(seen.size, 1000);
    const b = newBoundary();
    assert.equal(formatContentType('multipart/related', { boundary: b }), `multipart/related; boundary=${b}`);
  });

  test('partHeader: first part has no leading CRLF, later parts do', () => {
    const headers = { 'Content-Type': 'application/dicom', 'Content-Location': '/studies/1' };
    assert.equal(
      partHeader('abc', headers, false).toString('latin1'),
      '--abc\r\nContent-Type: application/dicom\r\nContent-Location: /studies/1\r\n\r\n',
    );
    assert.equal(partHeader('abc', {}, true).toString('latin1'), '\r\n--abc\r\n\r\n');
  });

  test('closeDelimiter', () => {
    assert.equal(closeDelimiter('abc').toString('latin1'), '\r\n--abc--\r\n');
    assert.equal(closeDelimiter('abc', false).toString('latin1'), '--abc--\r\n');
  });

  test('refuses header injection and invalid boundaries', () => {
    assert.throws(() => partHeader('abc', { 'Content-Type': 'a\r\nX-Evil: 1' }, false), TypeError);
    assert.throws(() => partHeader('abc', { 'Bad Name': 'x' }, false), TypeError);
    assert.throws(() => partHeader('', {}, false), TypeError);
    assert.throws(() => partHeader('a'.repeat(71), {}, false), TypeError);
    assert.throws(() => closeDelimiter('ends with space '), TypeError);
    assert.throws(() => multipartStream('bad\nboundary', []), TypeError);
  });

  test('multipartStream produces the exact RFC 2046 layout', async () => {
    const stream = multipartStream('b', [
      { headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('one') },
      { headers: {}, body: inPieces(Buffer.from('two'), 1) },
    ]);
    assert.equal(
      (await bytesOf(stream)).toString('latin1'),
      '--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n',
    );
  });

  test('multipartStream with no parts', async () => {
    assert.equal((await bytesOf(multipartStream('b', []))).toString('latin1'), '--b--\r\n');
  });

  test('round trip through readMultipart', async () => {
    const boundary = newBoundary();
    const tricky = Buffer.concat([
      Buffer.from(`\r\n--${boundary}x\r\n--${boundary.slice(0, 10)}\r\n--\r\n`),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff)),
      Buffer.from('\r'),
    ]);
    const bodies = [Buffer.from('plain'), tricky, Buffer.alloc(0), Buffer.alloc(200_000, 0x0d)];
    const parts: OutgoingPart[] = bodies.map((body, i) => ({
      headers: { 'Content-Type': 'application/dicom', 'X-Index': String(i) },
      body: i % 2 === 0 ? body : inPieces(body, 1000),
    }));
    const contentType = formatContentType('multipart/related', { type: 'application/dicom', boundary });
    const parsed = parseContentType(contentType);
    assert.ok(parsed);
    assert.equal(parsed.params.type, 'application/dicom');

    const received: Array<{ index: number; headers: Record<string, string>; body: Buffer }> = [];
    for await (const part of readMultipart(multipartStream(boundary, parts), parsed.params.boundary)) {
      received.push({ index: part.index, headers: part.headers, body: await bytesOf(part.body) });
    }
    assert.deepEqual(
      received,
      bodies.map((body, i) => ({
        index: i,
        headers: { 'content-type': 'application/dicom', 'x-index': String(i) },
        body,
      })),
    );
  });

  test('round trip with a boundary that must be quoted', async () => {
    const boundary = "a'()+_,-./:=? z";
    const contentType = formatContentType('multipart/related', { type: 'application/dicom', boundary });
    assert.equal(contentType, `multipart/related; type="application/dicom"; boundary="${boundary}"`);
    const parsed = parseContentType(contentType);
    assert.equal(parsed?.params.boundary, boundary);
    const stream = multipartStream(boundary, [{ headers: {}, body: Buffer.from('x') }]);
    const bodies: string[] = [];
    for await (const part of readMultipart(stream, boundary)) bodies.push((await bytesOf(part.body)).toString());
    assert.deepEqual(bodies, ['x']);
  });

  test('multipartStream pulls bodies only as fast as it is read, and closes them when destroyed', async () => {
    let produced = 0;
    let closed = false;
    async function* bigBody(): AsyncGenerator<Buffer> {
      try {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield Buffer.alloc(64 * 1024, 1);
        }
      } finally {
        closed = true;
      }
    }
    const stream = multipartStream('b', [{ headers: {}, body: bigBody() }]);
    await ticks(100);
    assert.ok(produced <= 2, `produced ${produced} chunks with nobody reading`);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    assert.ok(first.length > 0);
    stream.pause();
    await ticks(100);
    assert.ok(produced < 10, `produced ${produced} chunks while paused`);
    stream.destroy();
    await ticks(10);
    assert.ok(closed, 'the body iterator must be closed');
  });
});

describe('content-type', () => {
  test('parses the PS3.18 STOW form', () => {
    assert.deepEqual(parseContentType('multipart/related; type="application/dicom"; boundary=abc123'), {
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'abc123' },
    });
  });

  test('lower-cases the media type and parameter names, not values', () => {
    assert.deepEqual(parseContentType('Multipart/Related; BOUNDARY=AbC; Type=Application/DICOM'), {
      mediaType: 'multipart/related',
      params: { boundary: 'AbC', type: 'Application/DICOM' },
    });
  });

  test('tolerates whitespace around ; and =, empty and trailing parameters', () => {
    assert.deepEqual(parseContentType('  multipart/related ;type = "application/dicom" ;; boundary= x ;  '), {
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'x' },
    });
    assert.deepEqual(parseContentType('application/dicom'), { mediaType: 'application/dicom', params: {} });
  });

  test('unquotes quoted-strings with backslash escapes', () => {
    assert.deepEqual(parseContentType('multipart/related; boundary="a \\"b\\" \\\\ c;d=e"; x=y')?.params, {
      boundary: 'a "b" \\ c;d=e',
      x: 'y',
    });
  });

  test('first occurrence of a parameter wins; __proto__ is a plain parameter', () => {
    const parsed = parseContentType('a/b; x=1; X=2; __proto__=3');
    assert.equal(parsed?.params.x, '1');
    assert.equal(Object.getPrototypeOf(parsed?.params), Object.prototype);
    assert.equal(parsed?.params['__proto__'], '3');
  });

  test('garbage is undefined', () => {
    for (const header of [
      undefined,
      '',
      'multipart',
      '/related',
      'multipart/',
      'multi part/related',
      'multipart/related; boundary',
      'multipart/related; =x',
      'multipart/related; boundary="unterminated',
      'multipart/related; boundary="a"b',
      'multipart/related; boundary=a"b',
      'multipart/related; bad name=x',
    ]) {
      assert.equal(parseContentType(header), undefined, String(header));
    }
  });

  test('formatContentType quotes type always and other values when needed', () => {
    assert.equal(
      formatContentType('multipart/related', { type: 'application/dicom', boundary: 'abc' }),
      'multipart/related; type="application/dicom"; boundary=abc',
    );
    assert.equal(formatContentType('multipart/related', { type: 'x' }), 'multipart/related; type="x"');
    assert.equal(
      formatContentType('application/dicom', { 'transfer-syntax': '1.2.840.10008.1.2.1' }),
      'application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
    );
    assert.equal(formatContentType('a/b', { x: 'q"u\\o', y: '' }), 'a/b; x="q\\"u\\\\o"; y=""');
    assert.throws(() => formatContentType('a/b', { x: 'a\r\nb' }), TypeError);
    assert.throws(() => formatContentType('ab', {}), TypeError);
  });

  test('format then parse is the identity', () => {
    const params = { type: 'application/dicom+json', boundary: 'x y"z\\', start: '<root>' };
    assert.deepEqual(parseContentType(formatContentType('multipart/related', params)), {
      mediaType: 'multipart/related',
      params,
    });
  });
});
