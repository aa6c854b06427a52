// The local gateway with template.yaml, end to end over sockets, for the two ways beyond bearer
// scopes: tenant-bound paths (docs/tenant-binding.md) through both authorizers and the request
// validator, REST and HTTP API; and the AWS_IAM service route (docs/deploy.md#service-to-service-routes-aws_iam)
// signed with SigV4 by local IAM credentials, one of them a session of FulfilmentCallbackRole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createUser } from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import { type RunningGateway, startGateway } from '../../tools/gateway/gateway.ts';
import type { IamCredentialConfig } from '../../tools/gateway/iam-credentials.ts';
import { accessEntries } from '../support/access-log.ts';
import { signedFetch } from '../support/sigv4.ts';

const JWT = 'JwtAuthorizerFunction';
const VALIDATOR = 'RequestValidatorFunction';

/** A session of the template's FulfilmentCallbackRole: its identity policy is the role's. */
const FULFILMENT: IamCredentialConfig = {
  accessKeyId: 'AKIAFULFILMENTSVC001',
  secretAccessKey: 'fulfilment-service-secret-0123456789',
  role: 'FulfilmentCallbackRole',
  session: 'fulfilment',
};
/** A principal of the same account whose policy allows nothing on execute-api. */
const OTHER: IamCredentialConfig = {
  accessKeyId: 'AKIAREPORTINGSVC0001',
  secretAccessKey: 'reporting-service-secret-0123456789',
  user: 'reporting',
  policy: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};
const UPDATE = JSON.stringify({ status: 'shipped', carrier: 'DHL', trackingNumber: 'JD014600006281230000' });

describe('local gateway: tenant-bound paths and the AWS_IAM service route (template.yaml)', () => {
  let gateway: RunningGateway;
  const access: string[] = [];
  const token = (claims: Record<string, unknown>, scope = 'orders:read') =>
    gateway.services.issuer?.mint({ scope, claims }) as string;
  const api = (id: string, path: string) => `${gateway.urls[id]}${path}`;

  beforeAll(async () => {
    gateway = await startGateway({
      port: 0,
      issuerPort: 0,
      inMemory: true,
      iamCredentials: [FULFILMENT, OTHER],
      accessLog: (line) => access.push(line),
      functionLog: () => undefined,
      info: () => undefined,
    });
  });
  afterAll(async () => {
    await gateway.close();
  });

  describe('tenant-bound paths', () => {
    it.each(['OrdersApi', 'OrdersHttpApi'])(
      '%s: serves the caller’s own tenant and refuses another tenant’s path at the gateway (403, the validator never runs)',
      async (id) => {
        // Arrange
        const bearer = { authorization: `Bearer ${token({ 'custom:tenant_id': 'acme' })}` };

        // Act
        const own = await fetch(api(id, '/tenants/acme/orders'), { headers: bearer });
        const one = await fetch(api(id, '/tenants/acme/orders/ord_acme0001'), { headers: bearer });
        const served = gateway.invocations(VALIDATOR);
        // Same token, same route keys as the two requests above: an HTTP API cache keyed by the
        // route key would reuse their `true` here (the validator would then be the only check).
        const other = await fetch(api(id, '/tenants/globex/orders'), { headers: bearer });
        const otherOne = await fetch(api(id, '/tenants/globex/orders/ord_globex01'), { headers: bearer });

        // Assert
        expect(own.status).toBe(200);
        expect(((await own.json()) as { items: { id: string }[] }).items.map((o) => o.id)).toEqual([
          'ord_acme0001',
        ]);
        expect(one.status).toBe(200);
        expect([other.status, otherOne.status]).toEqual([403, 403]);
        expect(gateway.invocations(VALIDATOR)).toBe(served);
      },
    );

    it('refuses another tenant from the token cache too: the cached policy names the tenant, not a wildcard', async () => {
      // Arrange: one token, its policy cached by OrdersApi's TOKEN authorizer on the first request.
      const bearer = { authorization: `Bearer ${token({ 'custom:tenant_id': 'globex' })}` };
      const first = await fetch(api('OrdersApi', '/tenants/globex/orders'), { headers: bearer });
      const invoked = gateway.invocations(JWT);

      // Act
      const cachedOther = await fetch(api('OrdersApi', '/tenants/acme/orders'), { headers: bearer });
      const cachedOwn = await fetch(api('OrdersApi', '/tenants/globex/orders/ord_globex01'), {
        headers: bearer,
      });

      // Assert
      expect(first.status).toBe(200);
      expect([cachedOther.status, cachedOwn.status]).toEqual([403, 200]);
      expect(gateway.invocations(JWT)).toBe(invoked);
    });

    it.each([
      ['a wildcard', '*', 'tenant_claim_unsafe'],
      ['a slash', 'acme/orders', 'tenant_claim_unsafe'],
      ['a value outside the schema', 'ACME', 'tenant_claim_invalid'],
      ['no claim', undefined, 'tenant_claim_missing'],
    ])(
      'refuses a token whose tenant claim is %s with 403 (%s), never reaching the backend',
      async (_, value, reason) => {
        // Arrange
        const claims = value === undefined ? {} : { 'custom:tenant_id': value };
        const bearer = { authorization: `Bearer ${token(claims)}` };
        const served = gateway.invocations(VALIDATOR);
        const before = access.length;

        // Act
        const res = await fetch(api('OrdersApi', '/tenants/acme/orders'), { headers: bearer });

        // Assert
        expect(res.status).toBe(403);
        expect(gateway.invocations(VALIDATOR)).toBe(served);
        expect(accessEntries(access.slice(before)).at(-1)).toMatchObject({ authorizerReason: reason });
      },
    );

    it('binds API keys and Basic users by their tenant (OrdersKeyApi and OrdersKeyHttpApi)', async () => {
      // Arrange
      const store = gateway.services.credentialStore;
      if (store === undefined) throw new Error('the gateway started no credentials table');
      const grant = {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        usageKeys: gateway.services.usageKeys,
      };
      const key = await createKey(
        store,
        {
          ...grant,
          tenant: 'acme',
          clientId: 'acme-app',
          name: 'tenant test',
          environment: 'live',
          expiresAt: undefined,
          pepper: undefined,
        },
        Date.now(),
      );
      const hasher = createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } });
      const user = await createUser(
        store,
        hasher,
        { ...grant, tenant: 'globex', username: 'hank', password: undefined, clientId: undefined },
        Date.now(),
      );
      const basic = `Basic ${Buffer.from(`hank:${user.secret}`).toString('base64')}`;

      // Act
      const statuses: number[] = [];
      for (const id of ['OrdersKeyApi', 'OrdersKeyHttpApi']) {
        for (const path of ['/tenants/acme/orders', '/tenants/globex/orders'])
          statuses.push((await fetch(api(id, path), { headers: { 'x-api-key': key.secret } })).status);
        for (const path of ['/tenants/globex/orders', '/tenants/acme/orders'])
          statuses.push((await fetch(api(id, path), { headers: { authorization: basic } })).status);
      }

      // Assert
      expect(statuses).toEqual([200, 403, 200, 403, 200, 403, 200, 403]);
    });
  });

  describe('POST /internal/fulfilment/{orderId}/callback (AWS_IAM)', () => {
    const url = () => api('OrdersApi', '/internal/fulfilment/ord_demo0001/callback');
    const json = { 'content-type': 'application/json' };

    it('refuses an unsigned request with 403, without running any function', async () => {
      // Arrange
      const [jwt, validator] = [gateway.invocations(JWT), gateway.invocations(VALIDATOR)];

      // Act
      const res = await fetch(url(), { method: 'POST', headers: json, body: UPDATE });

      // Assert
      expect(res.status).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      expect([gateway.invocations(JWT), gateway.invocations(VALIDATOR)]).toEqual([jwt, validator]);
    });

    it('refuses a bearer token there: no Lambda authorizer runs on an AWS_IAM route', async () => {
      // Arrange
      const jwt = gateway.invocations(JWT);

      // Act
      const res = await fetch(url(), {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${token({}, 'orders:read orders:write orders:admin')}` },
        body: UPDATE,
      });

      // Assert
      expect(res.status).toBe(403);
      expect(gateway.invocations(JWT)).toBe(jwt);
    });

    it.each([
      ['a wrong secret', { secretAccessKey: 'not-the-secret-0123456789abcdef' }, {}, 'signature_mismatch'],
      [
        'another body than the one signed',
        {},
        { sendBody: '{"status":"cancelled"}' },
        'payload_hash_mismatch',
      ],
      [
        'a signature 10 minutes old',
        {},
        { signingDate: new Date(Date.now() - 600_000) },
        'signature_expired',
      ],
    ])('refuses a request signed with %s with 403', async (_, credential, options, reason) => {
      // Arrange
      const validator = gateway.invocations(VALIDATOR);
      const before = access.length;

      // Act
      const res = await signedFetch(url(), {
        accessKeyId: FULFILMENT.accessKeyId,
        secretAccessKey: FULFILMENT.secretAccessKey,
        ...credential,
        method: 'POST',
        headers: json,
        body: UPDATE,
        ...options,
      });

      // Assert
      expect(res.status).toBe(403);
      expect(gateway.invocations(VALIDATOR)).toBe(validator);
      expect(accessEntries(access.slice(before)).at(-1)).toMatchObject({ authorizerReason: reason });
    });

    it('refuses a correctly signed request of a principal without the role with 403 AccessDenied', async () => {
      // Arrange
      const validator = gateway.invocations(VALIDATOR);

      // Act
      const res = await signedFetch(url(), {
        accessKeyId: OTHER.accessKeyId,
        secretAccessKey: OTHER.secretAccessKey,
        method: 'POST',
        headers: json,
        body: UPDATE,
      });

      // Assert
      expect(res.status).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toContain(
        'User: arn:aws:iam::123456789012:user/reporting is not authorized to perform: execute-api:Invoke',
      );
      expect(gateway.invocations(VALIDATOR)).toBe(validator);
    });

    it('forwards a request signed by the role, with the IAM principal as the caller', async () => {
      // Act
      const res = await signedFetch(url(), {
        accessKeyId: FULFILMENT.accessKeyId,
        secretAccessKey: FULFILMENT.secretAccessKey,
        method: 'POST',
        headers: json,
        body: UPDATE,
      });

      // Assert
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ orderId: 'ord_demo0001', status: 'shipped' });
      expect(gateway.demoBackend?.received().at(-1)).toMatchObject({
        method: 'POST',
        path: '/internal/fulfilment/ord_demo0001/callback',
        principal: 'arn:aws:sts::123456789012:assumed-role/FulfilmentCallbackRole/fulfilment',
      });
    });

    it('lets the role call nothing else: signed requests to other routes are not IAM-authorized', async () => {
      // Act: the role's signature on a JWT route is no bearer token (401), and on an unknown path 403.
      const orders = await signedFetch(api('OrdersApi', '/orders'), {
        accessKeyId: FULFILMENT.accessKeyId,
        secretAccessKey: FULFILMENT.secretAccessKey,
      });
      const deeper = await signedFetch(api('OrdersApi', '/internal/fulfilment/a/b/callback'), {
        accessKeyId: FULFILMENT.accessKeyId,
        secretAccessKey: FULFILMENT.secretAccessKey,
        method: 'POST',
        headers: json,
        body: UPDATE,
      });

      // Assert
      expect(orders.status).toBe(401);
      expect(deeper.status).toBe(403);
    });
  });
});
