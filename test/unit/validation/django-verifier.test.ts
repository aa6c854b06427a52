/**
 * The documented Python verifier (docs/django/gatehouse_signature.py) accepts what the forwarder
 * signs and refuses a changed request: the docs' example is checked, not just written.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { signatureHeaders } from '../../../shared/upstream/signing.ts';

const SECRET = 'django-doc-secret-0123456789abcdef0123';

function pythonVerify(input: Record<string, unknown>): string {
  const script = [
    'import json, sys',
    "sys.path.insert(0, 'docs/django')",
    'from gatehouse_signature import verify',
    'a = json.loads(sys.stdin.read())',
    "r = verify(a['secret'], a['method'], a['path'], a['query'], a['headers'], a['body'].encode('utf-8'), a['now'])",
    "print('ok' if r is None else r)",
  ].join('\n');
  return execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }).trim();
}

// The example is Python: checked wherever python3 exists (CI always has it), skipped elsewhere.
const hasPython = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!hasPython)('the Django example verifier', () => {
  const parts = {
    timestamp: 1_767_225_600,
    method: 'POST',
    path: '/api/orders/ord_1%2F2',
    query: 'limit=5',
    client: 'c1',
    principal: 'user%C3%A9',
    scopes: 'orders:write',
    headers: [['idempotency-key', 'order-2026-0001']] as [string, string][],
    body: '{"a":"é"}',
  };
  const headers = {
    ...signatureHeaders(SECRET, parts),
    'idempotency-key': 'order-2026-0001',
    'x-gatehouse-client': parts.client,
    'x-gatehouse-principal': parts.principal,
    'x-gatehouse-scopes': parts.scopes,
  };
  const input = {
    secret: SECRET,
    method: 'POST',
    path: parts.path,
    query: parts.query,
    headers,
    body: parts.body,
    now: parts.timestamp,
  };

  it('accepts a request signed by the forwarder', () => {
    expect(pythonVerify(input)).toBe('ok');
  });

  it.each([
    ['the path', { path: '/api/orders/ord_1/2' }],
    ['the body', { body: '{"a":"e"}' }],
    ['the scopes', { headers: { ...headers, 'x-gatehouse-scopes': 'orders:admin' } }],
    ['a signed header', { headers: { ...headers, 'idempotency-key': 'order-2026-9999' } }],
    ['the signed header list', { headers: { ...headers, 'x-gatehouse-signed-headers': '' } }],
  ])('refuses a request whose %s changed', (_name, change) => {
    expect(pythonVerify({ ...input, ...change })).toBe('signature_mismatch');
  });

  it('refuses a request that lost a signed header', () => {
    const { 'idempotency-key': _dropped, ...rest } = headers;
    expect(pythonVerify({ ...input, headers: rest })).toBe('signature_mismatch');
  });

  it('refuses an old request', () => {
    expect(pythonVerify({ ...input, now: parts.timestamp + 301 })).toBe('signature_expired');
  });
});
