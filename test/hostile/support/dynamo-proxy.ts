// A loopback proxy in front of dynalite that can be switched, mid-test, into the ways DynamoDB fails:
// refusing connections (reset), never answering, throttling, denying access, 500s, or answering
// with a body far larger than any record (a hostile or broken endpoint). A fault can target one
// operation (e.g. `UpdateItem` throttled while `GetItem` works). Hand-written because the point is
// to flip one live endpoint between healthy and sick to test recovery.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the proxy behaves. */
export type DynamoMode = 'ok' | 'reset' | 'hang' | 'throttle' | 'denied' | 'error-500' | 'huge';

/** A DynamoDB operation, as named in the `X-Amz-Target` header. */
export type DynamoOperation = 'GetItem' | 'UpdateItem' | 'PutItem' | 'DeleteItem' | 'Scan';

/** Size of the `huge` answer: a well-formed GetItem/UpdateItem reply padded to 200 MB. */
export const HUGE_BYTES = 200 * 1024 * 1024;

const ERRORS: Record<'throttle' | 'denied', { type: string; message: string }> = {
  throttle: {
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded.',
  },
  denied: {
    type: 'com.amazon.coral.service#AccessDeniedException',
    message: 'User is not authorized to perform: dynamodb:GetItem',
  },
};

export interface DynamoProxy {
  readonly endpoint: string;
  /** Sets the behaviour for every operation, or only for `operation` (the others are proxied). */
  setMode(mode: DynamoMode, operation?: DynamoOperation): void;
  /** Requests received (all modes). */
  requests(): number;
  /** Requests received per operation (all modes). */
  requestsOf(operation: DynamoOperation): number;
  /** Bytes of `huge` answers actually written before the client hung up. */
  hugeBytesSent(): number;
  close(): Promise<void>;
}

function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : '';
}

/** Streams a 200 MB reply in 64 KB chunks, as fast as the client reads, until it hangs up. */
function sendHuge(res: ServerResponse, onBytes: (n: number) => void): void {
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let sent = 0;
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
  res.write('{"Item":{"pk":{"S":"');
  const pump = () => {
    while (sent < HUGE_BYTES && !res.destroyed) {
      sent += chunk.length;
      onBytes(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end('"}}}');
  };
  pump();
}

/** Starts the proxy for the dynalite at `target`. */
export async function startDynamoProxy(target: string): Promise<DynamoProxy> {
  let mode: DynamoMode = 'ok';
  const only = new Map<string, DynamoMode>();
  let count = 0;
  let huge = 0;
  const perOperation = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    count++;
    const operation = operationOf(req);
    perOperation.set(operation, (perOperation.get(operation) ?? 0) + 1);
    const current = only.get(operation) ?? mode;
    if (current === 'reset') {
      req.socket.destroy();
      return;
    }
    if (current === 'hang') {
      req.resume();
      hanging.add(res);
      return;
    }
    if (current === 'huge') {
      req.resume();
      sendHuge(res, (n) => {
        huge += n;
      });
      return;
    }
    if (current === 'error-500') {
      req.resume();
      res
        .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
        .end('{"__type":"InternalServerError"}');
      return;
    }
    if (current === 'throttle' || current === 'denied') {
      req.resume();
      const { type, message } = ERRORS[current];
      res
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
        .end(JSON.stringify({ __type: type, message }));
      return;
    }
    const upstream = request(
      `${target}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode: (m, operation) => {
      if (operation === undefined) {
        mode = m;
        only.clear();
      } else only.set(operation, m);
    },
    requests: () => count,
    requestsOf: (operation) => perOperation.get(operation) ?? 0,
    hugeBytesSent: () => huge,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
