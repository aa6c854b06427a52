// A loopback proxy in front of dynalite that can be switched, mid-test, into the ways DynamoDB fails:
// refusing connections (reset), never answering, throttling, denying access, 500s. Hand-written
// because the point is to flip one live endpoint between healthy and sick to test recovery.
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the proxy behaves. */
export type DynamoMode = 'ok' | 'reset' | 'hang' | 'throttle' | 'denied' | 'error-500';

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
  setMode(mode: DynamoMode): void;
  /** Requests received (all modes). */
  requests(): number;
  close(): Promise<void>;
}

/** Starts the proxy for the dynalite at `target`. */
export async function startDynamoProxy(target: string): Promise<DynamoProxy> {
  let mode: DynamoMode = 'ok';
  let count = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    count++;
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === 'hang') {
      req.resume();
      hanging.add(res);
      return;
    }
    if (mode === 'error-500') {
      req.resume();
      res
        .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
        .end('{"__type":"InternalServerError"}');
      return;
    }
    if (mode === 'throttle' || mode === 'denied') {
      req.resume();
      const { type, message } = ERRORS[mode];
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
    setMode: (m) => {
      mode = m;
    },
    requests: () => count,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
