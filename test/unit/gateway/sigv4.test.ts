import { describe, expect, it } from 'vitest';
import { type LocalIamCredential, type SignedRequest, verifySigV4 } from '../../../tools/gateway/sigv4.ts';
import { signedHeaders } from '../../support/sigv4.ts';

const CREDENTIAL: LocalIamCredential = {
  accessKeyId: 'AKIAUNITTEST00000001',
  secretAccessKey: 'unit-test-secret-0123456789abcdef',
  principal: { arn: 'arn:aws:iam::123456789012:user/unit', accountId: '123456789012', userId: 'AIDAUNIT' },
  statements: [],
};
const URL_ = 'http://127.0.0.1:3000/orders/a%20b?x=y%20z&a=1&a=2';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

async function signed(
  over: { body?: string; date?: Date; secret?: string; headers?: Record<string, string> } = {},
) {
  const headers = await signedHeaders(URL_, {
    accessKeyId: CREDENTIAL.accessKeyId,
    secretAccessKey: over.secret ?? CREDENTIAL.secretAccessKey,
    method: 'POST',
    body: over.body ?? '{"a":1}',
    headers: { 'content-type': 'application/json', ...(over.headers ?? {}) },
    signingDate: over.date ?? new Date(NOW),
  });
  const raw = ['Host', '127.0.0.1:3000'];
  for (const [k, v] of Object.entries(headers)) raw.push(k, v);
  const request: SignedRequest = {
    method: 'POST',
    rawPath: '/orders/a%20b',
    rawQuery: 'x=y%20z&a=1&a=2',
    rawHeaders: raw,
    body: Buffer.from(over.body ?? '{"a":1}'),
  };
  return request;
}

const verify = (request: SignedRequest, nowMs = NOW) =>
  verifySigV4(request, {
    region: 'us-east-1',
    nowMs,
    credential: (id) => (id === CREDENTIAL.accessKeyId ? CREDENTIAL : undefined),
  });

describe('verifySigV4', () => {
  it('accepts a request signed by the AWS SDK signer with the local credential', async () => {
    // Act
    const outcome = await verify(await signed());

    // Assert
    expect(outcome).toEqual({ ok: true, credential: CREDENTIAL });
  });

  it.each([
    ['unsigned', (r: SignedRequest) => ({ ...r, rawHeaders: ['Host', '127.0.0.1:3000'] }), 'unsigned'],
    [
      'a changed body',
      (r: SignedRequest) => ({ ...r, body: Buffer.from('{"a":2}') }),
      'payload_hash_mismatch',
    ],
    ['a changed path', (r: SignedRequest) => ({ ...r, rawPath: '/orders/c' }), 'signature_mismatch'],
    ['a changed query', (r: SignedRequest) => ({ ...r, rawQuery: 'x=y%20z&a=1' }), 'signature_mismatch'],
    ['a changed method', (r: SignedRequest) => ({ ...r, method: 'PUT' }), 'signature_mismatch'],
    [
      'a Bearer token instead of a signature',
      (r: SignedRequest) => ({ ...r, rawHeaders: ['Host', 'x', 'Authorization', 'Bearer abc.def.ghi'] }),
      'incomplete_signature',
    ],
    [
      'a presigned URL',
      (r: SignedRequest) => ({ ...r, rawHeaders: ['Host', 'x'], rawQuery: 'X-Amz-Signature=abc' }),
      'presigned_url',
    ],
  ])('refuses %s', async (_name, change, reason) => {
    // Act
    const outcome = await verify(change(await signed()));

    // Assert
    expect(outcome).toMatchObject({ ok: false, reason });
  });

  it('refuses a wrong secret with API Gateway’s message and no echo of the request', async () => {
    // Act
    const outcome = await verify(await signed({ secret: 'another-secret-0123456789abcdef' }));

    // Assert
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'signature_mismatch',
      errorType: 'InvalidSignatureException',
    });
    expect(JSON.stringify(outcome)).not.toContain('Credential=');
  });

  it('refuses an unknown access key and a session token', async () => {
    // Act
    const withToken = await verify(await signed({ headers: { 'x-amz-security-token': 'tok' } }));
    const unknownKey = await verifySigV4(await signed(), {
      region: 'us-east-1',
      nowMs: NOW,
      credential: () => undefined,
    });

    // Assert
    expect(withToken).toMatchObject({ ok: false, reason: 'security_token' });
    expect(unknownKey).toMatchObject({
      ok: false,
      reason: 'unknown_access_key',
      message: 'The security token included in the request is invalid.',
    });
  });

  it.each([
    [-6 * 60 * 1000, /^Signature expired: /],
    [6 * 60 * 1000, /^Signature not yet current: /],
  ])('refuses a signature %i ms away from the clock', async (offset, message) => {
    // Act
    const outcome = await verify(await signed({ date: new Date(NOW + offset) }));

    // Assert
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'signature_expired',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a credential scoped to another region', async () => {
    // Arrange
    const request = await signed();

    // Act
    const otherRegion = await verifySigV4(request, {
      region: 'eu-west-1',
      nowMs: NOW,
      credential: () => CREDENTIAL,
    });

    // Assert
    expect(otherRegion).toMatchObject({ ok: false, reason: 'scope_mismatch' });
  });
});
