import { describe, expect, it } from 'vitest';
import type { ApiModel, UsagePlanModel } from '../../../tools/gateway/model.ts';
import {
  cachedApiKeyLookup,
  findPlan,
  quotaPeriodStart,
  UsageMeter,
} from '../../../tools/gateway/usage-plans.ts';
import type { LocalApiKey } from '../../../tools/local/api-keys.ts';

const plan = (over: Partial<UsagePlanModel> = {}): UsagePlanModel => ({
  id: 'BasicUsagePlan',
  throttle: { rateLimit: 2, burstLimit: 3 },
  quota: undefined,
  keyValues: ['k'],
  ...over,
});

describe('UsageMeter', () => {
  it('lets a burst through, then throttles, then refills at the rate', () => {
    // Arrange
    let now = 1_000_000;
    const meter = new UsageMeter(() => now);
    const p = plan();

    // Act
    const burst = [meter.take(p, 'k'), meter.take(p, 'k'), meter.take(p, 'k'), meter.take(p, 'k')];
    now += 500; // 0.5 s at 2 rps = one token
    const refilled = [meter.take(p, 'k'), meter.take(p, 'k')];

    // Assert
    expect(burst).toEqual(['ok', 'ok', 'ok', 'throttled']);
    expect(refilled).toEqual(['ok', 'throttled']);
  });

  it('keeps one bucket per key', () => {
    // Arrange
    const meter = new UsageMeter(() => 0);
    const p = plan({ throttle: { rateLimit: 1, burstLimit: 1 } });

    // Act
    const a = [meter.take(p, 'a'), meter.take(p, 'a')];
    const b = meter.take(p, 'b');

    // Assert
    expect(a).toEqual(['ok', 'throttled']);
    expect(b).toBe('ok');
  });

  it('refuses requests over the quota until the next period', () => {
    // Arrange
    let now = Date.UTC(2026, 10, 22, 23, 59, 0);
    const meter = new UsageMeter(() => now);
    const p = plan({ throttle: undefined, quota: { limit: 2, period: 'DAY', offset: 0 } });

    // Act
    const today = [meter.take(p, 'k'), meter.take(p, 'k'), meter.take(p, 'k')];
    now = Date.UTC(2026, 10, 23, 0, 0, 1);
    const tomorrow = meter.take(p, 'k');

    // Assert
    expect(today).toEqual(['ok', 'ok', 'quota_exceeded']);
    expect(tomorrow).toBe('ok');
  });

  it.each([
    ['DAY', 0, Date.UTC(2026, 10, 22)],
    ['WEEK', 0, Date.UTC(2026, 10, 22)], // 2026-11-22 is a Sunday
    ['WEEK', 1, Date.UTC(2026, 10, 16)],
    ['MONTH', 0, Date.UTC(2026, 10, 1)],
  ] as const)('starts a %s period (offset %d) where API Gateway does', (period, offset, expected) => {
    // Act
    const start = quotaPeriodStart({ limit: 1, period, offset }, Date.UTC(2026, 10, 22, 15));

    // Assert
    expect(start).toBe(expected);
  });
});

describe('findPlan', () => {
  const api = (plans: UsagePlanModel[]) => ({ usagePlans: plans }) as unknown as ApiModel;
  const basic = plan({ id: 'BasicUsagePlan', keyValues: ['declared-key-0123456789'] });
  const premium = plan({ id: 'PremiumUsagePlan', keyValues: [] });
  const made = new Map<string, LocalApiKey>([
    ['usage-a-0123456789abcdef', { id: 'a', enabled: true, planIds: ['PremiumUsagePlan'] }],
    ['usage-off-0123456789abcd', { id: 'b', enabled: false, planIds: ['PremiumUsagePlan'] }],
    ['usage-else-0123456789abc', { id: 'c', enabled: true, planIds: ['OtherApiPlan'] }],
  ]);
  const lookup = async (value: string) => made.get(value);

  it.each([
    ['a key the template declares', 'declared-key-0123456789', 'BasicUsagePlan'],
    ['an enabled usage key made by the CLI, in its own plan', 'usage-a-0123456789abcdef', 'PremiumUsagePlan'],
    ['a disabled usage key', 'usage-off-0123456789abcd', undefined],
    ['a usage key in a plan of another API', 'usage-else-0123456789abc', undefined],
    ['an unknown value', 'nobody-0123456789abcdefg', undefined],
    ['no key at all', '', undefined],
  ])('finds %s → %s', async (_name, key, expected) => {
    // Act
    const found = await findPlan(api([basic, premium]), key, lookup);

    // Assert
    expect(found?.id).toBe(expected);
  });

  it('finds only declared keys without the local API keys', async () => {
    expect(await findPlan(api([basic, premium]), 'usage-a-0123456789abcdef', undefined)).toBeUndefined();
  });
});

describe('cachedApiKeyLookup', () => {
  it('reads a found key once per second, an unknown one every time', async () => {
    // Arrange
    let now = 0;
    const reads: string[] = [];
    const key: LocalApiKey = { id: 'a', enabled: true, planIds: ['BasicUsagePlan'] };
    const lookup = cachedApiKeyLookup(
      async (value) => {
        reads.push(value);
        return value === 'known-0123456789abcdef' ? key : undefined;
      },
      () => now,
      1000,
    );

    // Act
    await lookup('known-0123456789abcdef');
    now = 999;
    const cached = await lookup('known-0123456789abcdef');
    now = 1000;
    await lookup('known-0123456789abcdef');
    await lookup('unknown-0123456789abcde');
    await lookup('unknown-0123456789abcde');

    // Assert
    expect(cached).toBe(key);
    expect(reads).toEqual([
      'known-0123456789abcdef',
      'known-0123456789abcdef',
      'unknown-0123456789abcde',
      'unknown-0123456789abcde',
    ]);
  });
});
