/**
 * The re-framing of relayed multipart answers (part-header-rewriter.ts): the same bodies come
 * out, whatever the chunking, with only the headers kept; a cut message is an error, never a
 * shorter complete one. The gateway's own multipart reader is the judge of the output.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PartHeaderRewriter } from '../../src/dicomweb/multipart/part-header-rewriter';
import { readMultipart } from '../../src/dicomweb/multipart/multipart-reader';
import { noise } from '../fixtures/wado-images';

const BOUNDARY = '7e1031a1-8a8d-45ee-a4a1-af53922c0b02';
const keepType = (h: Record<string, string>) => ({ 'Content-Type': h['content-type'] ?? 'application/octet-stream' });

/** An answer as Orthanc writes frames: Content-Location, Content-Type, Content-Length, MIME-Version. */
function orthancFrames(bodies: Buffer[], newline = '\r\n'): Buffer {
  const chunks: Buffer[] = [Buffer.from(`preamble to ignore${newline}`)];
  bodies.forEach((body, i) => {
    chunks.push(
      Buffer.from(
        `${i === 0 ? '' : newline}--${BOUNDARY}${newline}Content-Location: http://orthanc.internal:8042/dicom-web/frames/${i + 1}${newline}` +
          `Content-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1${newline}Content-Length: ${body.length}${newline}MIME-Version: 1.0${newline}${newline}`,
      ),
      body,
    );
  });
  chunks.push(Buffer.from(`${newline}--${BOUNDARY}--${newline}epilogue`));
  return Buffer.concat(chunks);
}

async function rewrite(input: Buffer, chunkSize: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkSize) pieces.push(input.subarray(at, at + chunkSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), new PartHeaderRewriter(BOUNDARY, keepType), async function* (source: AsyncIterable<Buffer>) {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

async function parts(message: Buffer): Promise<{ headers: Record<string, string>; body: Buffer }[]> {
  const out: { headers: Record<string, string>; body: Buffer }[] = [];
  for await (const part of readMultipart(Readable.from([message]), BOUNDARY)) {
    const chunks: Buffer[] = [];
    for await (const c of part.body) chunks.push(c as Buffer);
    out.push({ headers: part.headers, body: Buffer.concat(chunks) });
  }
  return out;
}

describe('PartHeaderRewriter', () => {
  // Bodies that hold CR, LF, dashes and near-delimiters, so every split can fool a careless scanner.
  const bodies = [
    Buffer.concat([noise(3000, 'a'), Buffer.from(`\r\n--${BOUNDARY.slice(0, 20)}\r\n\r`), noise(500, 'b')]),
    Buffer.from(`\r\n--${BOUNDARY}X not a delimiter\n--`),
    Buffer.alloc(0),
    noise(70_000, 'c'),
  ];

  test('every split of the stream gives the same parts, with the upstream-only headers gone', async () => {
    const input = orthancFrames(bodies);
    const sizes = [1, 2, 3, 7, 13, 64, 100, 1000, 4096, input.length];
    for (const size of sizes) {
      const output = await rewrite(input, size);
      const got = await parts(output);
      assert.equal(got.length, bodies.length, `chunk size ${size}`);
      got.forEach((p, i) => {
        assert.ok(p.body.equals(bodies[i]), `chunk size ${size}, part ${i + 1}`);
        assert.deepEqual(p.headers, { 'content-type': 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1' });
      });
      assert.ok(!output.includes('orthanc.internal'), 'no Content-Location survives');
      assert.ok(output.toString('latin1').startsWith(`--${BOUNDARY}\r\n`), 'no preamble');
      assert.ok(output.toString('latin1').endsWith(`\r\n--${BOUNDARY}--\r\n`), 'no epilogue');
    }
  });

  test('bare LF line ends are read too', async () => {
    const got = await parts(await rewrite(orthancFrames(bodies, '\n'), 5));
    assert.deepEqual(got.map((p) => p.body.length), bodies.map((b) => b.length));
  });

  test('a message cut anywhere is an error, never a complete-looking shorter message', async () => {
    const input = orthancFrames(bodies.slice(0, 2));
    for (const cut of [0, 10, 40, 200, 1500, input.length - 30, input.length - 12]) {
      await assert.rejects(rewrite(input.subarray(0, cut), 17), /ended (before its first part|inside part)/, `cut at ${cut}`);
    }
  });

  test('a header block without an end is refused within its limit', async () => {
    const input = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: x\r\n`), Buffer.alloc(40_000, 0x41)]);
    await assert.rejects(rewrite(input, 1000), /header block over/);
  });
});
