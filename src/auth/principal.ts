/**
 * Who a request comes from, once authenticated (auth.guard.ts), and what it may do: read and write
 * on all stores or named ones, and administer. Attached to the request for the handlers, the audit
 * trail and the rate limits.
 */
import type { FastifyRequest } from 'fastify';
import { currentRequestContext } from '../logging/request-context';

export type PrincipalKind = 'jwt' | 'api-key' | 'study-token' | 'anonymous';

export interface Grants {
  /** Stores readable: every store ('*') or the names. */
  read: ReadonlySet<string>;
  write: ReadonlySet<string>;
  admin: boolean;
}

export interface Principal {
  kind: PrincipalKind;
  /** For logs and the audit trail: "jwt:<sub>", "api-key:<name>", "study-token:<store>/<study>", "anonymous". */
  id: string;
  grants: Grants;
}

export const ALL = '*';
export const NOTHING: Grants = { read: new Set(), write: new Set(), admin: false };
export const EVERYTHING: Grants = { read: new Set([ALL]), write: new Set([ALL]), admin: true };

export function mayUse(grants: Grants, permission: 'read' | 'write', store: string): boolean {
  const set = grants[permission];
  return set.has(ALL) || set.has(store);
}

/**
 * Grants of scopes: `<prefix>read`, `<prefix>write` (every store), `<prefix>read:<store>`,
 * `<prefix>write:<store>` (one store), `<prefix>admin`. Other scopes grant nothing here.
 */
export function grantsOf(scopes: Iterable<string>, prefix: string): Grants {
  const read = new Set<string>();
  const write = new Set<string>();
  let admin = false;
  for (const scope of scopes) {
    if (!scope.startsWith(prefix)) continue;
    const rest = scope.slice(prefix.length);
    if (rest === 'admin') admin = true;
    const m = /^(read|write)(?::([a-z0-9][a-z0-9-]{0,62}))?$/.exec(rest);
    if (!m) continue;
    (m[1] === 'read' ? read : write).add(m[2] ?? ALL);
  }
  return { read, write, admin };
}

const PRINCIPAL = Symbol('principal');

export function attachPrincipal(request: FastifyRequest, principal: Principal): void {
  (request as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
  // For what runs below the HTTP layer without the request: a federated store's members.
  const context = currentRequestContext();
  if (context) context.mayRead = (store) => mayUse(principal.grants, 'read', store);
}

export function principalOf(request: FastifyRequest): Principal | undefined {
  return (request as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
}
