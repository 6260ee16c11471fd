/**
 * Answers the few requests Fastify refuses by itself, before any hook or Nest filter runs: a path
 * that is not valid percent-encoding (FST_ERR_BAD_URL) and a path parameter over maxParamLength
 * (FST_ERR_MAX_PARAM_LENGTH). Fastify's own answer to those has neither the Warning header and
 * JSON reason of every other error (dicomweb/errors.ts) nor the CORS headers, so a browser viewer
 * saw a bare network error instead of the reason. Passed as `frameworkErrors` to the adapter.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CorsConfig } from '../config/security-config';
import { warningHeader } from '../dicomweb/errors';
import { corsHeadersFor, CorsRequest } from './cors';

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

function corsRequestOf(request: FastifyRequest): CorsRequest {
  return {
    method: request.method,
    origin: header(request, 'origin'),
    requestMethod: header(request, 'access-control-request-method'),
    requestHeaders: header(request, 'access-control-request-headers'),
  };
}

type FrameworkErrorHandler = (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => void;

export function answerFrameworkErrors(config: CorsConfig): FrameworkErrorHandler {
  return (error, request, reply) => {
    const [status, phrase, message] =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, 'URI Too Long', 'a segment of the URL path is too long (a UID has at most 64 characters, a store name is short)']
        : error.code === 'FST_ERR_BAD_URL'
          ? [400, 'Bad Request', 'the URL path is not valid percent-encoding: each % must start %XX, and the bytes must be UTF-8 (RFC 3986 2.1)']
          : [500, 'Internal Server Error', 'Internal error; it has been logged'];
    const cors = corsHeadersFor(config, corsRequestOf(request));
    // A preflight of such a URL is answered as any other, so that the page gets to read the refusal.
    if ('access-control-allow-methods' in cors) {
      reply.status(204).headers(cors).header('content-length', '0').send();
      return;
    }
    reply
      .status(status)
      .headers(cors)
      .header('warning', warningHeader(message))
      .header('x-request-id', request.id)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ status, error: phrase, message });
  };
}
