/**
 * A TCP proxy for fault tests, between the gateway and its upstream: it can hold back every chunk
 * of the upstream's answers (a slow upstream), stall once a connection has carried some bytes (an
 * upstream that stops in the middle), or cut connections after some bytes (an upstream or network
 * that fails in the middle of an answer). The settings can change between requests.
 */
import { createServer, Server, Socket, connect } from 'node:net';
import { AddressInfo } from 'node:net';

export interface ProxyFaults {
  /** Each chunk from the upstream waits this long before going on. */
  delayMs: number;
  /** After this many bytes from the upstream on one connection, it is cut (both sides destroyed). */
  cutAfterBytes?: number;
  /** After this many bytes from the upstream on one connection, nothing more is passed on. */
  stallAfterBytes?: number;
}

export interface TcpProxy {
  port: number;
  faults: ProxyFaults;
  /** Connections cut so far. */
  cuts: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const proxy: TcpProxy = { port: 0, faults: { delayMs: 0 }, cuts: 0, close: async () => undefined };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    // The upstream's close travels like its data: after the chunks held back before it. Orthanc
    // closes a keep-alive connection 1 s after its answer; passed on at once, that close would
    // break a request the proxy is still delaying ("other side closed") instead of letting it
    // time out as a slow upstream would.
    upstream.on('close', () => void queue.then(end));
    client.pipe(upstream);
    let carried = 0;
    // Chunks are passed on in order, each after the delay in force when it arrived.
    let queue = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const { delayMs, cutAfterBytes, stallAfterBytes } = proxy.faults;
      upstream.pause();
      queue = queue.then(async () => {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (client.destroyed) return;
        let out = chunk;
        if (cutAfterBytes !== undefined && carried + out.length >= cutAfterBytes) {
          client.write(out.subarray(0, Math.max(0, cutAfterBytes - carried)));
          proxy.cuts++;
          // A reset, not a clean end: as a crashed upstream or a broken network would leave it.
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (stallAfterBytes !== undefined && carried + out.length >= stallAfterBytes) {
          out = out.subarray(0, Math.max(0, stallAfterBytes - carried));
          carried += out.length;
          if (out.length > 0) client.write(out);
          return; // never resumed: the rest is held back
        }
        carried += out.length;
        client.write(out);
        upstream.resume();
      });
    });
    upstream.on('end', () => void queue.then(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
