// The forwarder with its signing key read at run time: signed with the current value, and nothing
// sent at all when the key cannot be read. The backend is a loopback HTTP server that records what
// reaches it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cachedSecret, staticSecret } from '../../../shared/secrets/secret-value.ts';
import { createForwarder, type UpstreamRequest } from '../../../shared/upstream/forward.ts';
import { verifyReceivedRequest } from '../../../shared/upstream/signing.ts';

const KEY = 'signing-key-from-secrets-manager-0123456789';
const NOW = 1_800_000_000;
const request: UpstreamRequest = {
  method: 'GET',
  template: '/orders',
  pathParams: {},
  querySpecs: [],
  query: {},
  headerSpecs: [],
  headers: new Map(),
  body: undefined,
  identity: { client: 'c', principal: 'p', scopes: 'orders:read' },
};

let server: Server;
let baseUrl: string;
const sent: { method: string; target: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    sent.push({ method: req.method ?? '', target: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  sent.length = 0;
});

describe('createForwarder with a signing secret read at run time', () => {
  it('signs with the value the secret holds', async () => {
    // Arrange
    const forward = createForwarder({
      baseUrl,
      signingSecret: staticSecret(KEY),
      timeoutMs: 5000,
      maxResponseBytes: 1000,
      clock: () => NOW,
    });

    // Act
    const result = await forward(request);

    // Assert
    expect(result.ok).toBe(true);
    expect(sent).toHaveLength(1);
    const received = sent[0] as (typeof sent)[number];
    expect(
      verifyReceivedRequest(
        KEY,
        { method: received.method, target: received.target, headers: received.headers, body: '' },
        NOW,
      ),
    ).toBeUndefined();
  });

  it('sends nothing and answers signing_secret_unavailable when the secret cannot be read', async () => {
    // Arrange
    const unreadable = cachedSecret(
      { read: async () => Promise.reject(new Error('AccessDeniedException')) },
      { secretId: 'x', ttlMs: 1000, missIntervalMs: 1000, retryMs: 1000, clock: () => 0 },
    );
    const forward = createForwarder({
      baseUrl,
      signingSecret: unreadable,
      timeoutMs: 5000,
      maxResponseBytes: 1000,
    });

    // Act
    const result = await forward(request);

    // Assert
    expect(result).toEqual({ ok: false, reason: 'signing_secret_unavailable' });
    expect(sent).toEqual([]);
  });
});
