// The JWT authorizer's hostile-input catalog. Every case runs through the pure factory with the real
// verifier (fast, keys on a loopback JWKS); a sample of the same cases runs through the REAL built
// bundle at the end to show the bundle answers the same.
import {
  createHash,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  sign as nodeSign,
  randomUUID,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { type TestKey, testKey } from '../support/keys.ts';
import { type BundleUnderTest, startBundle } from './support/bundle.ts';
import {
  claims,
  HOSTILE_ISSUER,
  hostileAuthorizer,
  issuersEnv,
  publicKeyAsHmacSecret,
  restEvent,
  type Status,
  sign,
  statusOfInvocation,
} from './support/jwt-harness.ts';

const rsa = testKey('RS256', 'rsa-main');
const ec = testKey('ES256', 'ec-main');
const ed = testKey('EdDSA', 'ed-main');
const weak1024 = testKey('RS256-1024', 'weak-1024');
const attacker = testKey('RS256', 'rsa-main'); // same kid as the real key, different key pair
const e1Pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const e1Jwk = {
  ...createPublicKey(e1Pair.privateKey).export({ format: 'jwk' }),
  e: 'AQ',
  kid: 'weak-e1',
  alg: 'RS256',
  use: 'sig',
};

const P256_ORDER = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

function rs(
  payload: Record<string, unknown> | string = claims(),
  header: Record<string, unknown> | string = {},
): string {
  const h = typeof header === 'string' ? header : { alg: 'RS256', kid: rsa.kid, typ: 'at+jwt', ...header };
  return sign(h, payload, rsa.privateKey, 'RS256');
}

function withKey(
  key: TestKey,
  alg: string,
  payload = claims(),
  header: Record<string, unknown> = {},
): string {
  return sign({ alg, kid: key.kid, ...header }, payload, key.privateKey, alg);
}

/** A token with a raw signature (hand-made, not produced by a signer). */
function withSignature(
  header: Record<string, unknown>,
  signature: Buffer | string,
  payload = claims(),
): string {
  return `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}.${typeof signature === 'string' ? signature : b64(signature)}`;
}

/** With e = 1, RSA "verification" is the identity: the PKCS#1 v1.5 encoding itself is a valid signature. */
function eOneForgery(): string {
  const input = `${b64(JSON.stringify({ alg: 'RS256', kid: 'weak-e1' }))}.${b64(JSON.stringify(claims()))}`;
  const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(input).digest(),
  ]);
  const em = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.alloc(256 - 3 - digestInfo.length, 0xff),
    Buffer.from([0]),
    digestInfo,
  ]);
  return `${input}.${b64(em)}`;
}

function nested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

interface JwtCase {
  readonly name: string;
  /** The Authorization header value(s); a token alone is sent as `Bearer <token>`. */
  readonly authorization: () => string | string[] | undefined;
  readonly event?: Parameters<typeof restEvent>[1];
  readonly expected: Status;
}

const bearer = (token: () => string) => () => `Bearer ${token()}`;
const now = () => Math.floor(Date.now() / 1000);

const JWT_CASES: readonly JwtCase[] = [
  // Controls: the same harness allows what it should, so every 401 below means something.
  {
    name: 'control: valid RS256 token with the route scope',
    authorization: bearer(() => rs()),
    expected: 200,
  },
  { name: 'control: valid ES256 token', authorization: bearer(() => withKey(ec, 'ES256')), expected: 200 },
  { name: 'control: valid EdDSA token', authorization: bearer(() => withKey(ed, 'EdDSA')), expected: 200 },
  {
    name: 'valid token without the route scope',
    authorization: bearer(() => rs(claims({ scope: 'orders:write' }))),
    expected: 403,
  },
  {
    name: 'valid read token on DELETE /orders/{id} (needs orders:admin)',
    authorization: bearer(() => rs()),
    event: { method: 'DELETE' },
    expected: 403,
  },
  {
    name: 'valid token on a route not in openapi.yaml',
    authorization: bearer(() => rs()),
    event: { path: '/admin/users', resource: '/admin/users' },
    expected: 403,
  },
  {
    name: 'scp array element smuggling two scopes in one string',
    authorization: bearer(() => rs(claims({ scope: undefined, scp: ['orders:read orders:admin'] }))),
    event: { method: 'DELETE' },
    expected: 403,
  },
  // Algorithm attacks.
  {
    name: 'alg none, empty signature',
    authorization: bearer(() => withSignature({ alg: 'none', kid: rsa.kid }, '')),
    expected: 401,
  },
  {
    name: 'alg none, with a signature',
    authorization: bearer(() => withSignature({ alg: 'none', kid: rsa.kid }, 'c2ln')),
    expected: 401,
  },
  {
    name: 'alg "None" (case variant)',
    authorization: bearer(() => withSignature({ alg: 'None', kid: rsa.kid }, '')),
    expected: 401,
  },
  {
    name: 'HS256 signed with the RSA public key (PEM) as the HMAC secret',
    authorization: bearer(() =>
      sign({ alg: 'HS256', kid: rsa.kid }, claims(), publicKeyAsHmacSecret(rsa.publicKey), 'HS256'),
    ),
    expected: 401,
  },
  {
    name: 'HS256 signed with the JWK text as the HMAC secret',
    authorization: bearer(() =>
      sign(
        { alg: 'HS256', kid: rsa.kid },
        claims(),
        createSecretKey(Buffer.from(JSON.stringify(rsa.jwk))),
        'HS256',
      ),
    ),
    expected: 401,
  },
  {
    name: 'PS256 (not in the issuer allow list) signed with the real key',
    authorization: bearer(() => sign({ alg: 'PS256', kid: rsa.kid }, claims(), rsa.privateKey, 'PS256')),
    expected: 401,
  },
  {
    name: 'header says ES256 but the kid is the RSA key',
    authorization: bearer(() => sign({ alg: 'ES256', kid: rsa.kid }, claims(), ec.privateKey, 'ES256')),
    expected: 401,
  },
  {
    name: 'header alg is a number',
    authorization: bearer(() => withSignature({ alg: 256, kid: rsa.kid }, 'AAAA')),
    expected: 401,
  },
  // Claims.
  { name: 'no exp', authorization: bearer(() => rs(claims({ exp: undefined }))), expected: 401 },
  {
    name: 'exp in the far future (year 2999)',
    authorization: bearer(() => rs(claims({ exp: 32_472_144_000 }))),
    expected: 401,
  },
  {
    name: 'exp in the far future without iat',
    authorization: bearer(() => rs(claims({ iat: undefined, exp: now() + 10 * 365 * 86400 }))),
    expected: 401,
  },
  {
    name: 'exp as a string',
    authorization: bearer(() => rs(claims({ exp: String(now() + 600) }))),
    expected: 401,
  },
  { name: 'exp null', authorization: bearer(() => rs(claims({ exp: null }))), expected: 401 },
  {
    name: 'expired an hour ago',
    authorization: bearer(() => rs(claims({ iat: now() - 7200, exp: now() - 3600 }))),
    expected: 401,
  },
  {
    name: 'iat in the future (an hour ahead)',
    authorization: bearer(() => rs(claims({ iat: now() + 3600, exp: now() + 4000 }))),
    expected: 401,
  },
  {
    name: 'nbf in the future',
    authorization: bearer(() => rs(claims({ nbf: now() + 3600 }))),
    expected: 401,
  },
  {
    name: 'lifetime longer than the maximum (exp - iat = 2 days)',
    authorization: bearer(() => rs(claims({ exp: now() + 2 * 86400 }))),
    expected: 401,
  },
  { name: 'sub missing', authorization: bearer(() => rs(claims({ sub: undefined }))), expected: 401 },
  { name: 'sub empty', authorization: bearer(() => rs(claims({ sub: '' }))), expected: 401 },
  {
    name: 'issuer not configured',
    authorization: bearer(() => rs(claims({ iss: 'https://evil.example' }))),
    expected: 401,
  },
  {
    name: 'issuer with a trailing slash (near miss)',
    authorization: bearer(() => rs(claims({ iss: `${HOSTILE_ISSUER}/` }))),
    expected: 401,
  },
  {
    name: 'audience of another API',
    authorization: bearer(() => rs(claims({ aud: 'billing-api' }))),
    expected: 401,
  },
  // Header extensions and sender-chosen keys.
  {
    name: 'unknown crit extension',
    authorization: bearer(() => rs(claims(), { crit: ['x-gatehouse'], 'x-gatehouse': 1 })),
    expected: 401,
  },
  {
    name: 'crit b64 (RFC 7797 unencoded payload)',
    authorization: bearer(() => rs(claims(), { crit: ['b64'], b64: false })),
    expected: 401,
  },
  {
    name: 'jku pointing at an attacker JWKS',
    authorization: bearer(() =>
      withKey(attacker, 'RS256', claims(), { jku: 'https://evil.example/jwks.json' }),
    ),
    expected: 401,
  },
  {
    name: 'x5u pointing at an attacker certificate',
    authorization: bearer(() =>
      withKey(attacker, 'RS256', claims(), { x5u: 'https://evil.example/cert.pem' }),
    ),
    expected: 401,
  },
  {
    name: 'jwk header embedding the attacker key',
    authorization: bearer(() => withKey(attacker, 'RS256', claims(), { jwk: attacker.jwk })),
    expected: 401,
  },
  {
    name: 'x5c header with an attacker chain',
    authorization: bearer(() => withKey(attacker, 'RS256', claims(), { x5c: ['MIIB'] })),
    expected: 401,
  },
  {
    name: 'attacker key under the real kid',
    authorization: bearer(() => withKey(attacker, 'RS256')),
    expected: 401,
  },
  // Weak keys in the JWKS are dropped at load, so tokens naming them find no key.
  {
    name: 'signed with a 1024-bit RSA key published in the JWKS',
    authorization: bearer(() => withKey(weak1024, 'RS256')),
    expected: 401,
  },
  {
    name: 'RSA e = 1 key in the JWKS with a forged identity signature',
    authorization: bearer(eOneForgery),
    expected: 401,
  },
  // Duplicate JSON members: two parsers, two readings.
  {
    name: 'duplicate alg in the header',
    authorization: bearer(() => rs(claims(), `{"alg":"none","alg":"RS256","kid":"${rsa.kid}"}`)),
    expected: 401,
  },
  {
    name: 'duplicate sub in the payload',
    authorization: bearer(() => rs(JSON.stringify(claims()).replace('{', '{"sub":"admin",'))),
    expected: 401,
  },
  {
    name: 'duplicate scope in the payload (escalation)',
    authorization: bearer(() => rs(JSON.stringify(claims()).replace('}', ',"scope":"orders:admin"}'))),
    event: { method: 'DELETE' },
    expected: 401,
  },
  {
    name: '__proto__ member in an attacker-signed payload',
    authorization: bearer(() =>
      sign(
        { alg: 'RS256', kid: rsa.kid },
        JSON.stringify(claims()).replace('{', '{"__proto__":{"scope":"orders:admin"},'),
        attacker.privateKey,
        'RS256',
      ),
    ),
    expected: 401,
  },
  {
    name: '__proto__ member in an issuer-signed payload is inert data (no scope gained)',
    authorization: bearer(() =>
      rs(JSON.stringify(claims()).replace('{', '{"__proto__":{"scope":"orders:admin"},')),
    ),
    event: { method: 'DELETE' },
    expected: 403,
  },
  {
    name: 'payload nested 200 levels deep',
    authorization: bearer(() => rs(claims({ x: nested(200) }))),
    expected: 401,
  },
  // ES256 signature shapes.
  {
    name: 'ES256 r = s = 0 ("psychic signature")',
    authorization: bearer(() => withSignature({ alg: 'ES256', kid: ec.kid }, Buffer.alloc(64))),
    expected: 401,
  },
  {
    name: 'ES256 r = s = n (the group order)',
    authorization: bearer(() =>
      withSignature({ alg: 'ES256', kid: ec.kid }, Buffer.concat([P256_ORDER, P256_ORDER])),
    ),
    expected: 401,
  },
  {
    name: 'ES256 signature one byte short',
    authorization: bearer(() =>
      withKey(ec, 'ES256').replace(
        /\.[^.]*$/,
        (s) => `.${b64(Buffer.from(s.slice(1), 'base64url').subarray(1))}`,
      ),
    ),
    expected: 401,
  },
  {
    name: 'ES256 signature DER-encoded instead of P1363',
    authorization: bearer(() => {
      const t = withKey(ec, 'ES256');
      const input = t.slice(0, t.lastIndexOf('.'));
      const der = derSignature(input);
      return `${input}.${b64(der)}`;
    }),
    expected: 401,
  },
  {
    name: 'ES256 empty signature',
    authorization: bearer(() => withSignature({ alg: 'ES256', kid: ec.kid }, '')),
    expected: 401,
  },
  // kid values.
  {
    name: 'kid missing',
    authorization: bearer(() => sign({ alg: 'RS256' }, claims(), rsa.privateKey, 'RS256')),
    expected: 401,
  },
  { name: 'kid empty', authorization: bearer(() => rs(claims(), { kid: '' })), expected: 401 },
  {
    name: 'kid path traversal',
    authorization: bearer(() => rs(claims(), { kid: '../../../../dev/null' })),
    expected: 401,
  },
  {
    name: 'kid SQL injection',
    authorization: bearer(() => rs(claims(), { kid: "' OR '1'='1" })),
    expected: 401,
  },
  { name: 'kid as a number', authorization: bearer(() => rs(claims(), { kid: 12345 })), expected: 401 },
  {
    name: 'kid 4 KB long',
    authorization: bearer(() => rs(claims(), { kid: 'k'.repeat(4096) })),
    expected: 401,
  },
  // Token shape.
  {
    name: 'payload changed after signing (scope escalated)',
    authorization: bearer(() => {
      const [h, , s] = rs().split('.');
      return `${h}.${b64(JSON.stringify(claims({ scope: 'orders:admin' })))}.${s}`;
    }),
    event: { method: 'DELETE' },
    expected: 401,
  },
  { name: 'signature stripped', authorization: bearer(() => rs().replace(/\.[^.]*$/, '.')), expected: 401 },
  { name: 'two segments', authorization: bearer(() => rs().split('.').slice(0, 2).join('.')), expected: 401 },
  { name: 'four segments', authorization: bearer(() => `${rs()}.AAAA`), expected: 401 },
  {
    name: 'base64 padding in a segment',
    authorization: bearer(() => rs().replace('.', '=.')),
    expected: 401,
  },
  {
    name: 'standard base64 alphabet (+ and /)',
    authorization: bearer(() => rs().replace(/-/g, '+').replace(/_/g, '/') + '+/'),
    expected: 401,
  },
  {
    name: 'header is not JSON',
    authorization: bearer(() => `${b64('not json')}.${b64(JSON.stringify(claims()))}.AAAA`),
    expected: 401,
  },
  {
    name: 'header is a JSON array',
    authorization: bearer(() => `${b64('["RS256"]')}.${b64(JSON.stringify(claims()))}.AAAA`),
    expected: 401,
  },
  { name: 'payload is JSON null', authorization: bearer(() => rs('null')), expected: 401 },
  {
    name: 'payload is not UTF-8',
    authorization: bearer(
      () =>
        `${b64(JSON.stringify({ alg: 'RS256', kid: rsa.kid }))}.${b64(Buffer.from([0xff, 0xfe, 0x7b]))}.AAAA`,
    ),
    expected: 401,
  },
  {
    name: 'token of 9 KB',
    authorization: bearer(() => rs(claims({ pad: 'x'.repeat(9000) }))),
    expected: 401,
  },
  // The Authorization header itself.
  { name: 'no Authorization header', authorization: () => undefined, expected: 401 },
  {
    name: 'Basic scheme instead of Bearer',
    authorization: () => `Basic ${b64('admin:admin')}`,
    expected: 401,
  },
  { name: 'Bearer with no token', authorization: () => 'Bearer', expected: 401 },
  { name: 'Bearer with two tokens', authorization: () => `Bearer ${rs()} ${rs()}`, expected: 401 },
  {
    name: 'two Authorization headers (one valid)',
    authorization: () => [`Bearer ${rs()}`, 'Bearer x.y.z'],
    expected: 401,
  },
  { name: 'Cyrillic homoglyph in the scheme', authorization: () => `Веarer ${rs()}`, expected: 401 },
  {
    name: 'valid token also sent as access_token in the query',
    authorization: bearer(() => rs()),
    event: { query: { access_token: 'x' } },
    expected: 401,
  },
];

// ES256 in DER form: what a naive signer (or OpenSSL's default) produces; JWS requires P1363.
function derSignature(input: string): Buffer {
  return nodeSign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'der' });
}

let jwks: JwksServer;
let authorizer: ReturnType<typeof hostileAuthorizer>;

beforeAll(async () => {
  jwks = await startJwksServer([rsa.jwk, ec.jwk, ed.jwk, weak1024.jwk, e1Jwk]);
  authorizer = hostileAuthorizer(jwks.jwksUri);
});
afterAll(async () => {
  await jwks.close();
});

describe('JWT authorizer hostile catalog (pure factory, real verifier, loopback JWKS)', () => {
  it('has at least 60 named cases', () => {
    expect(JWT_CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(JWT_CASES.map((c) => c.name)).size).toBe(JWT_CASES.length);
  });

  it.each(JWT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const status = await authorizer.authorize(restEvent(c.authorization(), c.event));

    expect(status).toBe(c.expected);
  });

  it('dropped the weak keys from the JWKS when it loaded them', async () => {
    await authorizer.authorize(restEvent(`Bearer ${rs()}`));

    const dropped = authorizer.observer.warnings.join('\n');
    expect(dropped).toContain('"kid":"weak-1024","reason":"rsa_modulus_too_small"');
    expect(dropped).toContain('"kid":"weak-e1","reason":"rsa_exponent_not_65537"');
  });
});

describe('JWKS flood of unknown kids', () => {
  it('keeps JWKS downloads rate-bounded and known keys working', async () => {
    const server = await startJwksServer([rsa.jwk]);
    const flooded = hostileAuthorizer(server.jwksUri);
    await flooded.authorize(restEvent(`Bearer ${rs()}`));
    const before = server.requests();

    const statuses = await Promise.all(
      Array.from({ length: 300 }, () =>
        flooded.authorize(restEvent(`Bearer ${rs(claims(), { kid: randomUUID() })}`)),
      ),
    );
    const known = await flooded.authorize(restEvent(`Bearer ${rs()}`));

    expect(new Set(statuses)).toEqual(new Set([401]));
    // aws-jwt-verify's penalty box: at most one refetch per 10 s per JWKS, however many kids.
    expect(server.requests() - before).toBeLessThanOrEqual(1);
    expect(known).toBe(200);
    await server.close();
  });
});

describe('JWT authorizer bundle sample (real built bundle)', () => {
  let bundle: BundleUnderTest;
  beforeAll(async () => {
    bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(jwks.jwksUri),
      HTTP_API_SIMPLE_RESPONSES: 'false',
    });
  });
  afterAll(async () => {
    await bundle.close();
  });

  const SAMPLE = JWT_CASES.filter((_c, i) => i % 5 === 0 || i < 4);
  it.each(SAMPLE.map((c) => [c.name, c] as const))('bundle: %s', async (_name, c) => {
    const event = restEvent(c.authorization(), c.event);

    const result = await bundle.runtime.invoke(event);

    expect(statusOfInvocation(result, event.methodArn as string)).toBe(c.expected);
  });
});
