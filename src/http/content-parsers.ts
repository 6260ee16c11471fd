/**
 * Request body parsing for the whole app. DICOMweb bodies are never read by Fastify: STOW
 * streams `request.raw` itself, and every other DICOMweb route must be able to refuse a body with
 * its own DICOM-conformant reason (Fastify's text and JSON parsers would answer first, and its
 * text parser fails on binary data). JSON bodies of the other routes (/api) are parsed with
 * Fastify's own safe JSON parser and a size limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

function isDicomwebPath(url: string): boolean {
  return url.startsWith('/dicomweb') || /^\/stores\/[^/]+\/dicomweb(\/|$|\?)/.test(url);
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0].trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function readText(payload: NodeJS.ReadableStream, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`request body larger than ${limit} bytes`), { statusCode: 413 }));
        (payload as unknown as { destroy?: () => void }).destroy?.();
        return;
      }
      chunks.push(chunk);
    });
    payload.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    payload.on('error', reject);
  });
}

export function registerContentParsers(fastify: FastifyInstance, jsonBodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('*', (request: FastifyRequest, payload, done) => {
    if (isDicomwebPath(request.url) || !isJson(request.headers['content-type'])) {
      done(null);
      return;
    }
    readText(payload, jsonBodyLimit).then(
      (text) => parseJson(request, text, done),
      (error: Error) => done(error, undefined),
    );
  });
}
