/**
 * One HTTP/1.1 server per AWS host the fake stands for (keep-alive on, port 0 of 127.0.0.1), with
 * what every host shares: a request id on each answer, the test's latency before the answer's
 * headers, armed faults (throttling, failures), the outage switch (connections destroyed at once)
 * and the request log. The host's protocol classifies, handles and answers errors in its own shape.
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Fault, FaultInjection, HostName } from './fault-injection';

export interface RequestRecord {
  host: HostName;
  method: string;
  /** Path and query string as sent. */
  path: string;
  operation: string;
  status: number;
  bytesIn: number;
}

export interface RequestContext {
  requestId: string;
  operation: string;
  addWireBytes(n: number): void;
}

export interface HostProtocol {
  host: HostName;
  /** The operation a request asks for (AWS's name, or 'Unknown'), before it is handled. */
  classify(req: IncomingMessage): string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
  /** Answers any error in the host's wire shape (headers not yet sent). */
  writeError(res: ServerResponse, error: unknown, ctx: RequestContext, closeConnection: boolean): void;
  /** The error an armed fault answers with. */
  faultError(fault: Fault): Error;
}

export interface SharedHostState {
  latencyMs: number;
  down: boolean;
  faults: FaultInjection;
  log: RequestRecord[];
}

export interface HostServer {
  url: string;
  /** Destroys every open connection: the outage switch. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Reads and discards a body the fake will not use, so the connection stays reusable. */
async function drain(req: IncomingMessage, ctx: RequestContext, maxBytes: number): Promise<boolean> {
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    ctx.addWireBytes((chunk as Buffer).length);
    if (total > maxBytes) return false;
  }
  return true;
}

export async function startHostServer(protocol: HostProtocol, state: SharedHostState): Promise<HostServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ keepAlive: true }, (req, res) => void serve(req, res));
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    if (state.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    let bytesIn = 0;
    const ctx: RequestContext = { requestId: randomUUID(), operation: 'Unknown', addWireBytes: (n) => (bytesIn += n) };
    // The request target as sent, query included: tests check what was asked (limit, includefield...).
    const path = req.url ?? '/';
    res.setHeader('x-amzn-RequestId', ctx.requestId);
    if (protocol.host === 's3') res.setHeader('x-amz-request-id', ctx.requestId);
    // Logged when the answer is handed to the OS ('finish'), before the client can have read it,
    // or when the connection goes without an answer ('close').
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      state.log.push({ host: protocol.host, method: req.method ?? 'GET', path, operation: ctx.operation, status: res.headersSent ? res.statusCode : 0, bytesIn });
    };
    res.on('finish', log);
    res.on('close', log);
    try {
      ctx.operation = protocol.classify(req);
      if (state.latencyMs > 0) await sleep(state.latencyMs);
      if (state.down) {
        req.socket.destroy();
        return;
      }
      const fault = state.faults.take(protocol.host);
      if (fault) {
        const drained = await drain(req, ctx, 64 * 1024 * 1024);
        protocol.writeError(res, protocol.faultError(fault), ctx, !drained);
        return;
      }
      await protocol.handle(req, res, ctx);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else protocol.writeError(res, error, ctx, !req.complete);
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
