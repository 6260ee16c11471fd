/**
 * Enters each request's context (request-context.ts) before anything else runs for it, echoes its
 * id to the client (`X-Request-Id`, on the raw answer so that answers streamed outside Fastify
 * carry it too) and writes one debug line when the answer ends: method, route pattern, status,
 * duration. The route pattern, never the URL: query strings carry patient names and IDs (and
 * their values are redacted from any line logged for the request, query-redactions.ts).
 */
import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { queryRedactions } from './query-redactions';
import { RequestContext, runInRequestContext } from './request-context';

const CONTEXT = Symbol('request context');
type WithContext = FastifyRequest & { [CONTEXT]?: RequestContext };

export function installRequestContext(fastify: FastifyInstance): void {
  const logger = new Logger('HTTP');
  fastify.addHook('onRequest', (request, reply, done) => {
    const redactions = queryRedactions(request.query);
    const context: RequestContext = { requestId: String(request.id), ...(redactions.length > 0 ? { redactions } : {}) };
    (request as WithContext)[CONTEXT] = context;
    reply.raw.setHeader('X-Request-Id', context.requestId);
    const started = process.hrtime.bigint();
    reply.raw.once('close', () => {
      const status = reply.raw.headersSent ? reply.raw.statusCode : 'aborted';
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      runInRequestContext(context, () => logger.debug(`${request.method} ${request.routeOptions?.url ?? '(no route)'} -> ${status} in ${ms} ms`));
    });
    runInRequestContext(context, done);
  });
  // Body parsers finish in the socket's callbacks: the handler is entered in the context again.
  fastify.addHook('preHandler', (request, _reply, done) => {
    const context = (request as WithContext)[CONTEXT];
    if (context) runInRequestContext(context, done);
    else done();
  });
}
