/**
 * One codec worker thread (codec-pool.ts starts them): decodes, encodes and renders frames, one
 * job at a time, so the event loop of the gateway never runs a codec.
 */
import { parentPort } from 'node:worker_threads';
import { CodecRequest, CodecResponse } from './codec-jobs';
import { renderFrame } from './render/render-frame';
import { CorruptFrame, decodeFrame, encodeFrame } from './wasm-codecs';

async function run(request: CodecRequest): Promise<Buffer> {
  const { job } = request;
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  if (job.op === 'decode') return decodeFrame(job.codec, bytes, job.format);
  if (job.op === 'encode') return encodeFrame(job.codec, bytes, job.format);
  return renderFrame(bytes, job.format, job.render);
}

parentPort!.on('message', (request: CodecRequest) => {
  run(request).then(
    (out) => {
      // Own the bytes alone, so that they can be transferred instead of copied.
      // (a copy when the Buffer is a slice of Node's shared pool, which must never be transferred).
      const view = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.byteLength > 4096 ? new Uint8Array(out.buffer, 0, out.byteLength) : new Uint8Array(out);
      const response: CodecResponse = { id: request.id, ok: true, bytes: view };
      parentPort!.postMessage(response, [view.buffer as ArrayBuffer]);
    },
    (e: unknown) => {
      // A trap in a codec (bad input it does not check) is the input's fault too, but leaves the
      // module's memory undefined: this worker retires.
      const trap = e instanceof Error && e.name === 'RuntimeError';
      const corrupt = trap || e instanceof CorruptFrame || (e instanceof Error && e.name === 'InvalidDicom');
      const response: CodecResponse = { id: request.id, ok: false, corrupt, message: e instanceof Error ? e.message : String(e), retire: trap };
      parentPort!.postMessage(response);
    },
  );
});
