/**
 * Which client request a piece of work belongs to, carried across every await by
 * AsyncLocalStorage: entered for each HTTP request (request-context.hooks.ts) and for each queue
 * job that a request caused (running-jobs.ts). The logger writes its id on every line and the
 * upstream client sends it on as `x-request-id`, so one id follows an upload from the client's
 * request to the forwarding job and the upstream's own logs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
  /** Values of the request's query string (patient names, IDs, birth dates...): a line logged
   *  while handling it has them replaced, should an upstream's error message quote them back. */
  readonly redactions?: readonly string[];
  /** Which stores the request's client may read, once authenticated (auth/principal.ts sets it):
   *  a federated store shows only the members a client may read. Absent: no authentication ran. */
  mayRead?: (store: string) => boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The id of the request (or request-caused job) being handled here, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Runs `fn` under this request id, or under none: work that no request caused (a reconciler pass,
 * a retry found in SQLite) must not inherit the id of whatever happened to start its worker.
 */
export function runWithRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId ? storage.run({ requestId }, fn) : storage.exit(fn);
}
