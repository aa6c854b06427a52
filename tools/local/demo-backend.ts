/**
 * The "orders" demo service the local gateway puts behind the request validator: an in-memory HTTP
 * server on loopback that answers the routes of openapi.yaml. It trusts its caller (the validator
 * already checked the request), exactly like a backend behind API Gateway would.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADERS, verifyReceivedRequest } from '../../shared/upstream/signing.ts';

/** One stored order (the `Order` schema of openapi.yaml). */
export interface DemoOrder {
  readonly id: string;
  readonly status: 'pending' | 'paid' | 'shipped' | 'cancelled';
  readonly createdAt: string;
  readonly [field: string]: unknown;
}

/** A running demo backend. */
export interface DemoBackend {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Requests served so far (tests and the benchmark read it). */
  readonly requestCount: () => number;
  /** What the backend saw of each request (identity headers the validator sent), oldest first. */
  readonly received: () => readonly ReceivedRequest[];
  close(): Promise<void>;
}

/** One request as the backend saw it (no body, no credential: the gateway consumed those). */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  /** `x-gatehouse-principal` / `-client` / `-scopes` as sent by the validator. */
  readonly principal: string | undefined;
  readonly client: string | undefined;
  readonly scopes: string | undefined;
}

/** Options of {@link startDemoBackend}. */
export interface DemoBackendOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Orders present at start. */
  readonly orders?: readonly DemoOrder[];
  /** Orders of each tenant present at start (`GET /tenants/{tenantId}/orders`), by tenant. */
  readonly tenantOrders?: Readonly<Record<string, readonly DemoOrder[]>>;
  /**
   * UPSTREAM_SIGNING_SECRET of the validator: when set, unsigned or badly signed requests get 401,
   * as a real backend behind Gatehouse should answer.
   */
  readonly signingSecret?: string;
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function newOrderId(): string {
  const bytes = randomBytes(12);
  return `ord_${[...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;
}

/** Two orders so that `GET /orders` shows something on a fresh start. */
export function sampleOrders(): DemoOrder[] {
  return [
    {
      id: 'ord_demo0001',
      status: 'paid',
      createdAt: '2026-01-01T10:00:00Z',
      customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
      items: [{ sku: 'BOOK-001', quantity: 1, unitPrice: { currency: 'EUR', amount: 2500 } }],
    },
    {
      id: 'ord_demo0002',
      status: 'pending',
      createdAt: '2026-01-02T11:30:00Z',
      customer: { email: 'alan@example.com', name: 'Alan Turing' },
      items: [{ sku: 'PEN-042', quantity: 3, unitPrice: { currency: 'GBP', amount: 199 } }],
    },
  ];
}

/** One order for each of two tenants, `acme` and `globex` (docs/tenant-binding.md). */
export function sampleTenantOrders(): Record<string, DemoOrder[]> {
  const order = (id: string, name: string, email: string): DemoOrder => ({
    id,
    status: 'paid',
    createdAt: '2026-01-03T09:00:00Z',
    customer: { email, name },
    items: [{ sku: 'DESK-007', quantity: 1, unitPrice: { currency: 'USD', amount: 34900 } }],
  });
  return {
    acme: [order('ord_acme0001', 'Wile E. Coyote', 'wile@acme.example')],
    globex: [order('ord_globex01', 'Hank Scorpio', 'hank@globex.example')],
  };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the demo backend. */
export async function startDemoBackend(options: DemoBackendOptions = {}): Promise<DemoBackend> {
  const orders = new Map<string, DemoOrder>((options.orders ?? sampleOrders()).map((o) => [o.id, o]));
  const tenants = new Map<string, Map<string, DemoOrder>>(
    Object.entries(options.tenantOrders ?? sampleTenantOrders()).map(([tenant, list]) => [
      tenant,
      new Map(list.map((o) => [o.id, o])),
    ]),
  );
  const byIdempotencyKey = new Map<string, string>();
  let count = 0;
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    count++;
    handle(req, res).catch(() => send(res, 500, { message: 'demo backend failure' }));
  });

  const header = (req: IncomingMessage, name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://backend.local');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    received.push({
      method,
      path: url.pathname,
      principal: header(req, SIGNATURE_HEADERS.principal),
      client: header(req, SIGNATURE_HEADERS.client),
      scopes: header(req, SIGNATURE_HEADERS.scopes),
    });
    if (received.length > 1000) received.shift();
    if (options.signingSecret !== undefined) {
      const failure = verifyReceivedRequest(
        options.signingSecret,
        { method, target: req.url ?? '/', headers: req.headers, body: raw },
        Math.floor(Date.now() / 1000),
      );
      if (failure !== undefined) return send(res, 401, { message: failure });
    }
    if (path === '/health' && method === 'GET') return send(res, 200, { status: 'ok' });
    if (path === '/orders' && method === 'GET') {
      const status = url.searchParams.get('status');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const items = [...orders.values()].filter((o) => status === null || o.status === status);
      return send(res, 200, { items: items.slice(0, limit), nextCursor: null });
    }
    if (path === '/orders' && method === 'POST') {
      const body = raw;
      const key = req.headers['idempotency-key'];
      const replay = typeof key === 'string' ? byIdempotencyKey.get(key) : undefined;
      if (replay !== undefined) return send(res, 201, orders.get(replay));
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return send(res, 400, { message: 'body is not JSON' });
      }
      const order: DemoOrder = {
        ...input,
        id: newOrderId(),
        status: 'pending',
        createdAt: new Date().toISOString(),
      };
      orders.set(order.id, order);
      if (typeof key === 'string') byIdempotencyKey.set(key, order.id);
      return send(res, 201, order);
    }
    // The tenant in the path is the caller's own: the authorizer's policy and the validator's
    // check refused any other before the request got here.
    const tenantPath = /^\/tenants\/([^/]+)\/orders(?:\/([^/]+))?$/.exec(path);
    if (tenantPath !== null && method === 'GET') {
      const own = tenants.get(decodeURIComponent(tenantPath[1] as string)) ?? new Map<string, DemoOrder>();
      if (tenantPath[2] === undefined) {
        const limit = Number(url.searchParams.get('limit') ?? 100);
        return send(res, 200, { items: [...own.values()].slice(0, limit), nextCursor: null });
      }
      const order = own.get(decodeURIComponent(tenantPath[2]));
      return order === undefined ? send(res, 404, { message: 'no such order' }) : send(res, 200, order);
    }
    // Service to service (AWS_IAM): API Gateway checked the caller's signature and role.
    const callback = /^\/internal\/fulfilment\/([^/]+)\/callback$/.exec(path);
    if (callback !== null && method === 'POST') {
      const id = decodeURIComponent(callback[1] as string);
      const stores = [orders, ...tenants.values()];
      const store = stores.find((m) => m.has(id));
      if (store === undefined) return send(res, 404, { message: 'no such order' });
      let update: { status?: unknown };
      try {
        update = JSON.parse(raw) as { status?: unknown };
      } catch {
        return send(res, 400, { message: 'body is not JSON' });
      }
      const status = update.status === 'cancelled' ? 'cancelled' : 'shipped';
      store.set(id, { ...(store.get(id) as DemoOrder), status });
      return send(res, 202, { orderId: id, status });
    }
    const one = /^\/orders\/([^/]+)$/.exec(path);
    if (one?.[1] !== undefined) {
      const id = decodeURIComponent(one[1]);
      const order = orders.get(id);
      if (method === 'GET')
        return order === undefined ? send(res, 404, { message: 'no such order' }) : send(res, 200, order);
      if (method === 'DELETE') {
        if (order === undefined) return send(res, 404, { message: 'no such order' });
        orders.delete(id);
        return send(res, 204);
      }
      return send(res, 405, { message: 'method not allowed' });
    }
    return send(res, 404, { message: 'not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requestCount: () => count,
    received: () => [...received],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
