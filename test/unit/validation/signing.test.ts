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
  body: '{"a":1}',
};

describe('request signatures', () => {
  it('builds the documented string to sign', () => {
    expect(stringToSign(parts)).toBe(
      'GATEHOUSE-HMAC-SHA256\n1767225600\nPOST\n/api/orders\na=1\nc1\np1\norders:write\n015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    );
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
  });

  it.each([
    ['path', { path: '/api/orders/../admin' }],
    ['query', { query: 'a=2' }],
    ['body', { body: '{"a":2}' }],
    ['principal', { principal: 'p2' }],
    ['scopes', { scopes: 'orders:admin' }],
    ['method', { method: 'DELETE' }],
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
