/**
 * A tiny static web site on its own port, so that a page loaded from it is of another origin than
 * the gateway (another port is enough): what a browser viewer such as OHIF is to the gateway.
 * Serves the files it is given, 404 for anything else, and nothing it has not been given.
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface SiteFile {
  type: string;
  body: string | Buffer;
}

export interface StaticSite {
  /** http://127.0.0.1:PORT, exactly as a browser sends it in Origin. */
  origin: string;
  close(): Promise<void>;
}

export async function startStaticSite(files: Record<string, SiteFile>): Promise<StaticSite> {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://site').pathname];
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
