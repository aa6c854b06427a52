import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the test JWKS server answers. `close-reused`: the first request of a connection is answered
 * and the connection kept alive; a later request on it finds the connection closed, as when a
 * server's idle timeout fires while the client reuses the socket. `close`: every connection is
 * closed when a request arrives.
 */
export type JwksMode = 'ok' | 'error-500' | 'forbidden-403' | 'hang' | 'not-json' | 'close-reused' | 'close';

/** A JWKS served over loopback HTTP, with a request counter and failure modes. */
export interface JwksServer {
  readonly url: string;
  readonly jwksUri: string;
  /** Requests received for the JWKS. */
  readonly requests: () => number;
  setKeys(keys: readonly Readonly<Record<string, unknown>>[]): void;
  setMode(mode: JwksMode): void;
  close(): Promise<void>;
}

/** Starts a JWKS server on 127.0.0.1 with a free port. */
export async function startJwksServer(
  keys: readonly Readonly<Record<string, unknown>>[] = [],
): Promise<JwksServer> {
  let current = keys;
  let mode: JwksMode = 'ok';
  let count = 0;
  const hanging = new Set<ServerResponse>();
  const answered = new WeakSet<Socket>();
  const server: Server = createServer((req, res) => {
    count++;
    if (mode === 'close') return void req.socket.destroy();
    if (mode === 'close-reused') {
      if (answered.has(req.socket)) return void req.socket.destroy();
      answered.add(req.socket);
    }
    if (mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (mode === 'error-500') return void res.writeHead(500).end('oops');
    if (mode === 'forbidden-403') return void res.writeHead(403).end('denied');
    if (mode === 'not-json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current }));
    void req;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    requests: () => count,
    setKeys: (k) => {
      current = k;
    },
    setMode: (m) => {
      mode = m;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback URL on which nothing listens (connection refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}
