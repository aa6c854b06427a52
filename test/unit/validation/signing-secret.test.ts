// The forwarder with its signing key read at run time: signed with the current value, and nothing
// sent at all when the key cannot be read.
import { describe, expect, it } from 'vitest';
import { cachedSecret, staticSecret } from '../../../shared/secrets/secret-value.ts';
import { createForwarder, type UpstreamRequest } from '../../../shared/upstream/forward.ts';
import { verifyReceivedRequest } from '../../../shared/upstream/signing.ts';

const KEY = 'signing-key-from-secrets-manager-0123456789';
const request: UpstreamRequest = {
  method: 'GET',
  template: '/orders',
  pathParams: {},
  querySpecs: [],
  query: {},
  headers: new Map(),
  body: undefined,
  identity: { client: 'c', principal: 'p', scopes: 'orders:read' },
};

function recordingFetch() {
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    sent.push({ url: String(url), headers: Object.fromEntries(new Headers(init.headers)) });
    return new Response('{}', { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

describe('createForwarder with a signing secret read at run time', () => {
  it('signs with the value the secret holds', async () => {
    const { fetch, sent } = recordingFetch();
    const forward = createForwarder({
      baseUrl: 'https://backend.example.com',
      signingSecret: staticSecret(KEY),
      timeoutMs: 1000,
      maxResponseBytes: 1000,
      fetch,
      clock: () => 1_800_000_000,
    });

    const result = await forward(request);

    expect(result.ok).toBe(true);
    expect(
      verifyReceivedRequest(
        KEY,
        { method: 'GET', target: '/orders', headers: sent[0]?.headers ?? {}, body: '' },
        1_800_000_000,
      ),
    ).toBeUndefined();
  });

  it('sends nothing and answers signing_secret_unavailable when the secret cannot be read', async () => {
    const { fetch, sent } = recordingFetch();
    const unreadable = cachedSecret(
      { read: async () => Promise.reject(new Error('AccessDeniedException')) },
      { secretId: 'x', ttlMs: 1000, missIntervalMs: 1000, retryMs: 1000, clock: () => 0 },
    );
    const forward = createForwarder({
      baseUrl: 'https://backend.example.com',
      signingSecret: unreadable,
      timeoutMs: 1000,
      maxResponseBytes: 1000,
      fetch,
    });

    expect(await forward(request)).toEqual({ ok: false, reason: 'signing_secret_unavailable' });
    expect(sent).toEqual([]);
  });
});
