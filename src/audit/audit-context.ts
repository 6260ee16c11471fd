/**
 * What a handler tells the audit trail about its request beyond the URL: the studies it touched
 * (the studies a search returned, the studies a STOW stored into) and the bytes it received. Kept
 * on the request.
 */
import type { FastifyRequest } from 'fastify';

const STUDIES = Symbol('audited studies');
const BYTES = Symbol('audited request bytes');

type Holder = Record<symbol, Set<string> | undefined>;

export function noteStudies(request: FastifyRequest, uids: Iterable<string | undefined>): void {
  const holder = request as unknown as Holder;
  const set = (holder[STUDIES] ??= new Set<string>());
  for (const uid of uids) if (uid) set.add(uid);
}

export function notedStudies(request: FastifyRequest): string[] {
  return [...((request as unknown as Holder)[STUDIES] ?? [])];
}

/** The bytes of the request body the handler read (uploads): sockets cannot tell, they read ahead. */
export function noteRequestBytes(request: FastifyRequest, bytes: number): void {
  (request as unknown as Record<symbol, number>)[BYTES] = bytes;
}

export function notedRequestBytes(request: FastifyRequest): number | undefined {
  return (request as unknown as Record<symbol, number | undefined>)[BYTES];
}
