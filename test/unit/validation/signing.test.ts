import { describe, expect, it } from 'vitest';
import {
  headerSafe,
  signatureHeaders,
  stringToSign,
  verifySignature,
} from '../../../shared/upstream/signing.ts';

const SECRET = 'test-secret-of-at-least-32-characters!!';
const parts = {
  timestamp: 1_767_225_600,
  method: 'POST',
  path: '/api/orders',
  query: 'a=1',
  client: 'c1',
  principal: 'p1',
  scopes: 'orders:write',
  headers: [['idempotency-key', 'order-0001']] as [string, string][],
  body: '{"a":1}',
};

describe('request signatures', () => {
  it('builds the documented string to sign', () => {
    expect(stringToSign(parts)).toBe(
      'GATEHOUSE-HMAC-SHA256\n1767225600\nPOST\n/api/orders\na=1\nc1\np1\norders:write\nidempotency-key\nidempotency-key:order-0001\n015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    );
  });

  it('lists no signed headers when the request carries none', () => {
    expect(
      stringToSign({ ...parts, headers: [] })
        .split('\n')
        .slice(8),
    ).toEqual(['', '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862']);
    expect(signatureHeaders(SECRET, { ...parts, headers: [] })['x-gatehouse-signed-headers']).toBe('');
  });

  it('verifies its own signature', () => {
    // Arrange
    const headers = signatureHeaders(SECRET, parts);
    // Act
    const failure = verifySignature(
      SECRET,
      { ...parts, timestamp: headers['x-gatehouse-timestamp'] },
      headers['x-gatehouse-signature'],
      parts.timestamp + 10,
    );
    // Assert
    expect(failure).toBeUndefined();
    expect(headers['x-gatehouse-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
    expect(headers['x-gatehouse-signed-headers']).toBe('idempotency-key');
  });

  it.each([
    ['path', { path: '/api/orders/../admin' }],
    ['query', { query: 'a=2' }],
    ['body', { body: '{"a":2}' }],
    ['principal', { principal: 'p2' }],
    ['scopes', { scopes: 'orders:admin' }],
    ['method', { method: 'DELETE' }],
    ['signed header value', { headers: [['idempotency-key', 'order-0002']] as [string, string][] }],
    ['signed header list', { headers: [] }],
  ])('refuses a request whose %s changed after signing', (_name, change) => {
    const headers = signatureHeaders(SECRET, parts);
    const failure = verifySignature(
      SECRET,
      { ...parts, ...change, timestamp: headers['x-gatehouse-timestamp'] },
      headers['x-gatehouse-signature'],
      parts.timestamp,
    );
    expect(failure).toBe('signature_mismatch');
  });

  it('refuses an old signature and a missing one', () => {
    const headers = signatureHeaders(SECRET, parts);
    const signed = { ...parts, timestamp: headers['x-gatehouse-timestamp'] };
    expect(verifySignature(SECRET, signed, headers['x-gatehouse-signature'], parts.timestamp + 301)).toBe(
      'signature_expired',
    );
    expect(verifySignature(SECRET, signed, undefined, parts.timestamp)).toBe('signature_missing');
  });

  it('keeps identity values header-safe', () => {
    expect(headerSafe('user\r\nX-Evil: 1')).toBe('user%0D%0AX-Evil: 1');
    expect(headerSafe('100%é')).toBe('100%25%C3%A9');
    expect(headerSafe('bad\ud800')).toBe('bad%EF%BF%BD');
  });
});
