/**
 * First start: seeds a demo API key and a demo Basic user into the embedded DynamoDB and returns
 * the curl lines that use them. The secrets are shown once, on the terminal (never in the access
 * log); later starts find the demo user and say how to make new credentials instead.
 */
import { seedDemoCredentials } from '../../shared/credentials/admin.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { RunningGateway } from './gateway.ts';

/** Lines for the start banner. */
export interface SeedLines {
  readonly lines: readonly string[];
}

/** Seeds when the run has a credentials table; curl lines for the API the key authorizer guards. */
export async function seedDemo(gateway: RunningGateway): Promise<SeedLines> {
  const store = gateway.services.credentialStore;
  let config: Readonly<Record<string, string>> | undefined;
  let keyApiUrl: string | undefined;
  for (const api of gateway.apis) {
    for (const fn of api.authorizerFunctions) {
      const env = gateway.environmentOf(fn);
      if (keyApiUrl === undefined && env !== undefined && 'CREDENTIALS_TABLE' in env) {
        config = env;
        keyApiUrl = api.url;
      }
    }
  }
  if (store === undefined || keyApiUrl === undefined || config === undefined) return { lines: [] };
  const seeded = await seedDemoCredentials(store, createPasswordHasher(), {
    environment: config.API_KEY_ENVIRONMENT === 'test' ? 'test' : 'live',
    pepper:
      config.API_KEY_PEPPER === undefined || config.API_KEY_PEPPER === '' ? undefined : config.API_KEY_PEPPER,
    now: Date.now(),
    // Each demo credential gets its own usage key in the basic plan, as `npm run keys` would make.
    usageKeys: gateway.services.usageKeys,
  });
  if (seeded === undefined) {
    // Records made before per-client quotas have no usage key: the key API refuses them (403).
    const keys = (await store.listKeys()).filter((k) => k.status === 'active' && k.usageKey === undefined);
    const users = (await store.listUsers()).filter((u) => u.status !== 'revoked' && u.usageKey === undefined);
    const migrate =
      keys.length + users.length === 0
        ? []
        : [
            `  ${keys.length} key(s) and ${users.length} user(s) here have no usage key of their own, so the key API refuses them`,
            '  (403 usage_key_missing). Give them one: npm run keys -- migrate; npm run users -- migrate',
          ];
    return {
      lines: [
        '',
        '  Demo credentials were seeded at the first start (and shown then). New ones, while this runs:',
        "  npm run keys -- create --client me --scopes 'orders:read orders:write'",
        "  npm run users -- create alice --scopes 'orders:read'",
        ...migrate,
      ],
    };
  }
  const basic = Buffer.from(`${seeded.username}:${seeded.password}`).toString('base64');
  return {
    lines: [
      '',
      'Demo credentials (seeded now, shown only this once; the store keeps hashes only):',
      `  curl -i -H "x-api-key: ${seeded.apiKey}" ${keyApiUrl}/orders`,
      `  curl -i -u '${seeded.username}:${seeded.password}' ${keyApiUrl}/orders`,
      `  curl -i -H "Authorization: Basic ${basic}" ${keyApiUrl}/orders`,
    ],
  };
}
