import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CredentialAdminError,
  checkGrantAgainst,
  createKey,
  documentScopes,
} from '../../../shared/credentials/admin.ts';
import { usageKeyFailureOf } from '../../../shared/credentials/apigateway-usage-keys.ts';
import { itemToKey, itemToUser, keyToItem, userToItem } from '../../../shared/credentials/dynamo-store.ts';
import type {
  CredentialAdminStore,
  KeyRecord,
  UsageKey,
  UserRecord,
} from '../../../shared/credentials/store.ts';
import {
  newUsageKeyValue,
  type UsageKeyRegistry,
  usagePlansFromOutputs,
} from '../../../shared/credentials/usage-keys.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { templateUsagePlans } from '../../../tools/local/api-keys.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { loadTemplate, TemplateError } from '../../../tools/template/template.ts';

const key: KeyRecord = {
  keyId: 'AAAAAAAAAAAA',
  hash: 'sha256:x',
  clientId: 'c',
  name: '',
  scopes: ['orders:read'],
  status: 'active',
  createdAt: 1,
  expiresAt: undefined,
  allowedCidrs: [],
  tier: 'basic',
  previousHash: undefined,
  previousHashExpiresAt: undefined,
  usageKey: { id: 'abc123defg', value: 'usage-value-0123456789abcdef' },
};
const user: UserRecord = {
  username: 'alice',
  hash: 'scrypt$x',
  clientId: 'alice',
  scopes: ['orders:read'],
  status: 'active',
  createdAt: 1,
  allowedCidrs: [],
  tier: 'basic',
  failures: 0,
  failureWindowStart: undefined,
  lockedUntil: undefined,
  usageKey: { id: 'u1', value: 'user-usage-value-0123456789' },
};

describe('usage keys in DynamoDB items', () => {
  it('round-trips a key and a user with their usage keys', () => {
    expect(itemToKey(keyToItem(key))?.usageKey).toEqual(key.usageKey);
    expect(itemToUser(userToItem(user))?.usageKey).toEqual(user.usageKey);
  });

  it('reads an item with half a usage key (id or value missing) as having none', () => {
    const item = keyToItem(key);
    delete item.usageKeyValue;
    expect(itemToKey(item)?.usageKey).toBeUndefined();
  });

  it('writes no usage key attributes for a record without one', () => {
    expect(Object.keys(keyToItem({ ...key, usageKey: undefined }))).not.toContain('usageKeyId');
  });
});

describe('usagePlansFromOutputs', () => {
  it('reads <Tier>UsagePlanId outputs as tiers and ignores the rest', () => {
    expect(
      usagePlansFromOutputs({
        BasicUsagePlanId: 'p1abc',
        PremiumUsagePlanId: 'p2def',
        CredentialsTableName: 'T',
        UsagePlanId: 'no-tier',
      }),
    ).toEqual({ basic: 'p1abc', premium: 'p2def' });
  });
});

describe('newUsageKeyValue', () => {
  it('makes 40 hex characters, different every time', () => {
    const values = new Set(Array.from({ length: 100 }, newUsageKeyValue));
    expect(values.size).toBe(100);
    for (const v of values) expect(v).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('checkGrantAgainst', () => {
  const catalog = {
    scopes: documentScopes(ROUTES),
    scopesFrom: 'openapi.yaml',
    tiers: ['basic', 'premium'],
    tiersFrom: 'template.yaml',
  };

  it('takes the scopes from the routes of the document', () => {
    expect(catalog.scopes).toEqual(['orders:admin', 'orders:read', 'orders:write']);
  });

  it.each([
    [
      [],
      'basic',
      'at least one scope is required (--scopes), from those openapi.yaml defines: orders:admin orders:read orders:write',
    ],
    [
      ['orders:read', 'orders:delete'],
      'basic',
      'scope "orders:delete" is not defined by openapi.yaml (valid: orders:admin orders:read orders:write)',
    ],
    [['orders:read'], 'gold', 'tier "gold" is not defined by template.yaml (valid: basic, premium)'],
  ])('refuses scopes %j with tier %s: %s', (scopes, tier, message) => {
    const check = () => checkGrantAgainst({ scopes, tier }, catalog);
    expect(check).toThrow(CredentialAdminError);
    expect(check).toThrow(message);
  });

  it('accepts defined scopes and a defined tier', () => {
    expect(() =>
      checkGrantAgainst({ scopes: ['orders:read', 'orders:write'], tier: 'premium' }, catalog),
    ).not.toThrow();
  });
});

describe('usageKeyFailureOf', () => {
  it.each([
    ['NotFoundException', 'usage_plan_unknown'],
    ['AccessDeniedException', 'usage_key_denied'],
    ['CredentialsProviderError', 'usage_key_no_credentials'],
    ['ConflictException', 'usage_key_conflict'],
    ['LimitExceededException', 'usage_key_limit'],
    ['TooManyRequestsException', 'usage_key_unavailable'],
    ['SomethingElse', 'usage_key_error'],
  ])('maps %s to %s', (name, reason) => {
    expect(usageKeyFailureOf({ name })).toBe(reason);
  });
});

describe('templateUsagePlans', () => {
  it('reads the project template’s tiers from its <Tier>UsagePlanId outputs', () => {
    expect(templateUsagePlans(loadTemplate(join(PROJECT_ROOT, 'template.yaml')))).toEqual({
      basic: 'BasicUsagePlan',
      premium: 'PremiumUsagePlan',
    });
  });

  it('refuses an output that names something other than a usage plan', () => {
    const template = {
      Resources: { CredentialsTable: { Type: 'AWS::DynamoDB::Table' } },
      Outputs: { GoldUsagePlanId: { Value: { Ref: 'CredentialsTable' } } },
    };
    expect(() => templateUsagePlans(template)).toThrow(TemplateError);
  });
});

describe('createKey with a usage key registry', () => {
  const options = {
    clientId: 'c',
    name: '',
    scopes: ['orders:read'],
    tier: 'basic',
    allowedCidrs: [],
    environment: 'live' as const,
    expiresAt: undefined,
    pepper: undefined,
  };
  /** A registry that records what it is asked, and can fail its removals. */
  const registry = (failRemove: boolean) => {
    const made: UsageKey[] = [];
    const removed: string[] = [];
    const r: UsageKeyRegistry = {
      where: 'the test registry',
      plans: { basic: 'plan-b' },
      create: async (request) => {
        const key = { id: `id${made.length}`, value: request.value };
        made.push(key);
        return key;
      },
      setEnabled: async () => undefined,
      remove: async (key) => {
        if (failRemove) throw new Error('remove refused');
        removed.push(key.id);
        return true;
      },
      checkPlans: async () => undefined,
    };
    return { r, made, removed };
  };
  const failingStore = {
    putKey: async () => {
      throw new Error('table gone');
    },
  } as unknown as CredentialAdminStore;

  it('takes the usage key away again when the record cannot be written', async () => {
    const { r, made, removed } = registry(false);
    await expect(createKey(failingStore, { ...options, usageKeys: r }, 1)).rejects.toThrow('table gone');
    expect(removed).toEqual(made.map((k) => k.id));
  });

  it('names the usage key left behind when taking it away fails too', async () => {
    const { r } = registry(true);
    const attempt = createKey(failingStore, { ...options, usageKeys: r }, 1);
    await expect(attempt).rejects.toThrow(CredentialAdminError);
    await expect(createKey(failingStore, { ...options, usageKeys: r }, 1)).rejects.toThrow(
      /usage key id1 could not be deleted \(remove refused\): delete it in the test registry/,
    );
  });

  it('refuses a tier the registry has no plan for, before making anything', async () => {
    const { r, made } = registry(false);
    await expect(createKey(failingStore, { ...options, tier: 'gold', usageKeys: r }, 1)).rejects.toThrow(
      'tier "gold" has no usage plan (valid: basic)',
    );
    expect(made).toEqual([]);
  });
});
