/**
 * The verified study token of a request, for code that runs after the guard (study-token.guard.ts):
 * STOW uses it to refuse instances of other studies and to mark what it stores as written back by
 * an AI service. Kept per raw request object, so it dies with the request.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

export interface StudyTokenScope {
  store: string;
  study: string;
}

const scopes = new WeakMap<IncomingMessage, StudyTokenScope>();

function rawOf(request: FastifyRequest | IncomingMessage): IncomingMessage {
  return 'raw' in request ? (request as FastifyRequest).raw : request;
}

/** The store and study the request's valid study token allows; undefined without one. */
export function studyTokenOf(request: FastifyRequest | IncomingMessage): StudyTokenScope | undefined {
  return scopes.get(rawOf(request));
}

/** Called by the guard once the token verified and the path is within its scope. */
export function attachStudyToken(request: FastifyRequest | IncomingMessage, scope: StudyTokenScope): void {
  scopes.set(rawOf(request), { store: scope.store, study: scope.study });
}
