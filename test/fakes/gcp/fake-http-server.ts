/**
 * One HTTP/1.1 server of the fake (keep-alive on, 127.0.0.1 port 0) with what both of them share:
 * the request log, and - for the DICOMweb server only - the test's latency before an answer's
 * headers, armed faults and the outage switch (connections destroyed at once). The protocol on top
 * classifies, handles and writes its errors in its own shape.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Fault, FaultInjection } from './fault-injection';

export interface RequestRecord {
  kind: 'token' | 'dicomweb';
  method: string;
  /** Path and query string as sent. */
  path: string;
  operation: string;
  status: number;
  bytesIn: number;
}

export interface RequestContext {
  operation: string;
  addWireBytes(n: number): void;
}

export interface FakeProtocol {
  kind: RequestRecord['kind'];
  /** The operation a request asks for (Google's method name, or 'Unknown'), before it is handled. */
  classify(req: IncomingMessage): string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
  /** Answers any error in the protocol's shape (headers not yet sent). */
  writeError(req: IncomingMessage, res: ServerResponse, error: unknown, ctx: RequestContext): Promise<void>;
  /** The error an armed fault answers with. */
  faultError?(fault: Fault, operation: string): Error;
}

export interface SharedServerState {
  latencyMs: number;
  down: boolean;
  faults: FaultInjection;
  log: RequestRecord[];
}

export interface FakeServer {
  url: string;
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFakeServer(protocol: FakeProtocol, state: SharedServerState, options: { faultable: boolean }): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ keepAlive: true }, (req, res) => void serve(req, res));
  server.keepAliveTimeout = 30_000;
  const isDown = () => options.faultable && state.down;
  server.on('connection', (socket: Socket) => {
    if (isDown()) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (isDown()) {
      req.socket.destroy();
      return;
    }
    let bytesIn = 0;
    const ctx: RequestContext = { operation: 'Unknown', addWireBytes: (n) => (bytesIn += n) };
    const path = req.url ?? '/';
    // Logged when the answer is handed to the OS, or when the connection goes without one (status 0).
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      state.log.push({ kind: protocol.kind, method: req.method ?? 'GET', path, operation: ctx.operation, status: res.headersSent ? res.statusCode : 0, bytesIn });
    };
    res.on('finish', log);
    res.on('close', log);
    try {
      ctx.operation = protocol.classify(req);
      if (options.faultable) {
        if (state.latencyMs > 0) await sleep(state.latencyMs);
        if (isDown()) {
          req.socket.destroy();
          return;
        }
        const fault = state.faults.take();
        if (fault && protocol.faultError) throw protocol.faultError(fault, ctx.operation);
      }
      await protocol.handle(req, res, ctx);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else await protocol.writeError(req, res, error, ctx).catch(() => res.destroy());
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
