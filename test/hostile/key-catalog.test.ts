// The key authorizer's hostile-input catalog, through the REAL built bundle against dynalite:
// API-key junk, near-miss secrets (one character changed, bad checksum), revoked, expired and
// rotated-away keys, Basic-auth abuse, and credential smuggling.
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createUser, rotateKey, setUserStatus } from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { startTestDynamo, TABLE, type TestDynamo } from '../support/dynalite.ts';
import { type BundleUnderTest, startBundle } from './support/bundle.ts';
import { type Status, statusOfInvocation } from './support/jwt-harness.ts';

const PEPPER = 'hostile-suite-pepper-0123456789';
// Cheap scrypt for the users made here; the parameters are stored with each hash.
const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The key format's checksum (base62 of CRC-32, 6 characters), to forge well-formed near misses. */
function checksum(body: string): string {
  let rest = BigInt(crc32(body));
  let out = '';
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(6, '0');
}

/** Changes one character of the secret part; `fixChecksum` recomputes the checksum so the key parses. */
function nearMiss(key: string, fixChecksum: boolean): string {
  const parts = key.split('_');
  const secret = parts[3] as string;
  const swapped = `${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
  const body = [...parts.slice(0, 3), swapped].join('_');
  return `${body}_${fixChecksum ? checksum(body) : parts[4]}`;
}

type Headers = Record<string, string | string[]>;
function event(
  headers: Headers,
  options: { method?: string; query?: Record<string, string>; sourceIp?: string } = {},
) {
  const method = options.method ?? 'GET';
  const path = '/orders/ord_12345678';
  const single = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? (v.at(-1) as string) : v]),
  );
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/${method}${path}`,
    resource: '/orders/{id}',
    path,
    httpMethod: method,
    headers: single,
    multiValueHeaders: Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
    ),
    queryStringParameters: options.query ?? {},
    multiValueQueryStringParameters: Object.fromEntries(
      Object.entries(options.query ?? {}).map(([k, v]) => [k, [v]]),
    ),
    pathParameters: { id: 'ord_12345678' },
    requestContext: { requestId: 'hostile-1', identity: { sourceIp: options.sourceIp ?? '203.0.113.10' } },
  };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Credentials {
  read: string;
  cidr: string;
  revoked: string;
  expired: string;
  rotatedOld: string;
  testEnv: string;
  user: { name: string; password: string };
  lockedUser: { name: string; password: string };
  revokedUser: { name: string; password: string };
}

interface KeyCase {
  readonly name: string;
  readonly event: (c: Credentials) => ReturnType<typeof event>;
  readonly expected: Status;
}

const KEY_CASES: readonly KeyCase[] = [
  {
    name: 'control: valid API key with the route scope',
    event: (c) => event({ 'x-api-key': c.read }),
    expected: 200,
  },
  {
    name: 'control: valid Basic user',
    event: (c) => event({ Authorization: basic(c.user.name, c.user.password) }),
    expected: 200,
  },
  {
    name: 'valid key without the route scope (DELETE)',
    event: (c) => event({ 'x-api-key': c.read }, { method: 'DELETE' }),
    expected: 403,
  },
  {
    name: 'valid key from outside its allowed CIDR',
    event: (c) => event({ 'x-api-key': c.cidr }),
    expected: 403,
  },
  { name: 'revoked key', event: (c) => event({ 'x-api-key': c.revoked }), expected: 401 },
  { name: 'expired key', event: (c) => event({ 'x-api-key': c.expired }), expected: 401 },
  {
    name: 'key replaced by rotation, grace period over',
    event: (c) => event({ 'x-api-key': c.rotatedOld }),
    expected: 401,
  },
  {
    name: 'near miss: one secret character changed (checksum now wrong)',
    event: (c) => event({ 'x-api-key': nearMiss(c.read, false) }),
    expected: 401,
  },
  {
    name: 'near miss: one secret character changed, checksum recomputed',
    event: (c) => event({ 'x-api-key': nearMiss(c.read, true) }),
    expected: 401,
  },
  {
    name: 'bad checksum (last character changed)',
    event: (c) => event({ 'x-api-key': `${c.read.slice(0, -1)}${c.read.endsWith('A') ? 'B' : 'A'}` }),
    expected: 401,
  },
  {
    name: 'test-environment key against the live function',
    event: (c) => event({ 'x-api-key': c.testEnv }),
    expected: 401,
  },
  {
    name: 'key id of a real key with a well-formed random secret',
    event: (c) =>
      event({
        'x-api-key': (() => {
          const p = c.read.split('_');
          const body = `${p[0]}_${p[1]}_${p[2]}_${'x'.repeat(43)}`;
          return `${body}_${checksum(body)}`;
        })(),
      }),
    expected: 401,
  },
  { name: 'truncated key', event: (c) => event({ 'x-api-key': c.read.slice(0, -8) }), expected: 401 },
  {
    name: 'key with a prefix in upper case',
    event: (c) => event({ 'x-api-key': c.read.replace('gatehouse', 'GATEHOUSE') }),
    expected: 401,
  },
  {
    name: 'key with a zero-width space inside',
    event: (c) => event({ 'x-api-key': `${c.read.slice(0, 20)}\u200b${c.read.slice(20)}` }),
    expected: 401,
  },
  { name: 'junk: SQL injection', event: () => event({ 'x-api-key': "' OR '1'='1' --" }), expected: 401 },
  {
    name: 'junk: DynamoDB expression injection',
    event: () => event({ 'x-api-key': 'gatehouse_live_#pk = :v OR attribute_exists(pk)' }),
    expected: 401,
  },
  { name: 'junk: 16 KB key', event: () => event({ 'x-api-key': 'k'.repeat(16_384) }), expected: 401 },
  { name: 'junk: empty key', event: () => event({ 'x-api-key': '' }), expected: 401 },
  {
    name: 'junk: NUL bytes',
    event: () => event({ 'x-api-key': 'gatehouse_live_\u0000\u0000' }),
    expected: 401,
  },
  { name: 'key in the query string', event: (c) => event({}, { query: { api_key: c.read } }), expected: 401 },
  {
    name: 'valid key header plus a key in the query string',
    event: (c) => event({ 'x-api-key': c.read }, { query: { apikey: c.read } }),
    expected: 401,
  },
  {
    name: 'two x-api-key headers (one valid)',
    event: (c) => event({ 'x-api-key': [c.read, 'junk'] }),
    expected: 401,
  },
  {
    name: 'key and Basic together',
    event: (c) => event({ 'x-api-key': c.read, Authorization: basic(c.user.name, c.user.password) }),
    expected: 401,
  },
  {
    name: 'key sent as a Bearer token',
    event: (c) => event({ Authorization: `Bearer ${c.read}` }),
    expected: 401,
  },
  {
    name: 'Basic: wrong password',
    event: (c) => event({ Authorization: basic(c.user.name, `${c.user.password}x`) }),
    expected: 401,
  },
  {
    name: 'Basic: unknown user',
    event: () => event({ Authorization: basic('nobody-here', 'whatever-password') }),
    expected: 401,
  },
  {
    name: 'Basic: locked user',
    event: (c) => event({ Authorization: basic(c.lockedUser.name, c.lockedUser.password) }),
    expected: 401,
  },
  {
    name: 'Basic: revoked user',
    event: (c) => event({ Authorization: basic(c.revokedUser.name, c.revokedUser.password) }),
    expected: 401,
  },
  {
    name: 'Basic: not base64',
    event: () => event({ Authorization: 'Basic %%%not-base64%%%' }),
    expected: 401,
  },
  {
    name: 'Basic: no colon',
    event: () => event({ Authorization: `Basic ${Buffer.from('justauser').toString('base64')}` }),
    expected: 401,
  },
  {
    name: 'Basic: empty password',
    event: (c) => event({ Authorization: basic(c.user.name, '') }),
    expected: 401,
  },
  {
    name: 'Basic: 4 KB password',
    event: (c) => event({ Authorization: basic(c.user.name, 'p'.repeat(4096)) }),
    expected: 401,
  },
  {
    name: 'Basic: username with a DynamoDB key prefix',
    event: () => event({ Authorization: basic('key#abc', 'whatever-password') }),
    expected: 401,
  },
  {
    name: 'Basic: invalid UTF-8 in the credentials',
    event: () =>
      event({ Authorization: `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}` }),
    expected: 401,
  },
  { name: 'no credential at all', event: () => event({}), expected: 401 },
];

let dynamo: TestDynamo;
let bundle: BundleUnderTest;
let creds: Credentials;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const now = Date.now();
  const key = async (options: Partial<Parameters<typeof createKey>[1]> = {}) =>
    createKey(
      dynamo.store,
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        clientId: 'hostile-client',
        name: 'hostile',
        environment: 'live',
        expiresAt: undefined,
        pepper: PEPPER,
        usageKeys: dynamo.usageKeys,
        ...options,
      },
      now,
    );
  const user = async (name: string) => {
    const made = await createUser(
      dynamo.store,
      hasher,
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        username: name,
        password: undefined,
        clientId: undefined,
        usageKeys: dynamo.usageKeys,
      },
      now,
    );
    return { name, password: made.secret };
  };
  const read = await key();
  const cidr = await key({ allowedCidrs: ['10.0.0.0/8'] });
  const revoked = await key();
  await dynamo.store.putKey({ ...revoked.record, status: 'revoked' }, 'replace');
  const expired = await key({ expiresAt: now + 60_000 });
  await dynamo.store.putKey({ ...expired.record, expiresAt: now - 1000 }, 'replace');
  const rotated = await key();
  const next = await rotateKey(
    dynamo.store,
    rotated.record.keyId,
    { environment: 'live', pepper: PEPPER, graceMs: 3_600_000 },
    now,
  );
  await dynamo.store.putKey({ ...next.record, previousHashExpiresAt: now - 1000 }, 'replace');
  const testEnv = await key({ environment: 'test' });
  const lockedUser = await user('hostile-locked');
  await setUserStatus(dynamo.store, lockedUser.name, 'lock', dynamo.usageKeys);
  const revokedUser = await user('hostile-revoked');
  await setUserStatus(dynamo.store, revokedUser.name, 'revoke', dynamo.usageKeys);
  creds = {
    read: read.secret,
    cidr: cidr.secret,
    revoked: revoked.secret,
    expired: expired.secret,
    rotatedOld: rotated.secret,
    testEnv: testEnv.secret,
    user: await user('hostile-user'),
    lockedUser,
    revokedUser,
  };
  bundle = await startBundle('KeyAuthorizerFunction', {
    CREDENTIALS_TABLE: TABLE,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    API_KEY_PEPPER: PEPPER,
    API_KEY_ENVIRONMENT: 'live',
    HTTP_API_SIMPLE_RESPONSES: 'false',
  });
}, 60_000);

afterAll(async () => {
  await bundle?.close();
  await dynamo?.close();
});

describe('key authorizer hostile catalog (real built bundle, dynalite)', () => {
  it.each(KEY_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const e = c.event(creds);

    const result = await bundle.runtime.invoke(e);

    expect(statusOfInvocation(result, e.methodArn)).toBe(c.expected);
  });

  it('logged no presented key or password', () => {
    const logs = bundle.logs();
    const secrets = [
      creds.read,
      creds.read.split('_')[3] as string,
      creds.user.password,
      creds.revoked,
      creds.expired,
    ];

    expect(secrets.filter((s) => logs.includes(s))).toEqual([]);
  });
});
