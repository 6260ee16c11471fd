/**
 * What a route needs, from its method, route template and parameters:
 * - public: the health checks, the API documentation, and /metrics unless configured otherwise;
 * - the DICOMweb routes: read (GET, HEAD) or write (POST) on the store the path names;
 * - POST /api/studies/{study}/complete: write on its store (an upload that is done), or admin;
 * - GET /api/stores: any authenticated caller (names, kinds and health only);
 * - the rest of /api (subscriptions, forwarding, study status and events, audit, API keys): admin.
 */
import { isDicomwebRoute } from '../events/tokens/study-token.guard';

export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'store'; permission: 'read' | 'write'; store: string; orAdmin?: boolean }
  | { kind: 'admin' };

const PUBLIC = new Set(['/health/live', '/health/ready', '/docs', '/docs/openapi.yaml', '/docs/openapi.json']);

export function routeAccess(method: string, route: string, params: Record<string, unknown>, query: Record<string, unknown>, defaultStore: string, publicMetrics: boolean): RouteAccess {
  if (PUBLIC.has(route) || (publicMetrics && route === '/metrics')) return { kind: 'public' };
  if (isDicomwebRoute(route)) {
    const store = typeof params.store === 'string' ? params.store : defaultStore;
    const read = method === 'GET' || method === 'HEAD';
    return { kind: 'store', permission: read ? 'read' : 'write', store };
  }
  if (method === 'POST' && route === '/api/studies/:study/complete') {
    return { kind: 'store', permission: 'write', store: typeof query.store === 'string' ? query.store : defaultStore, orAdmin: true };
  }
  if (method === 'GET' && route === '/api/stores') return { kind: 'authenticated' };
  return { kind: 'admin' };
}
