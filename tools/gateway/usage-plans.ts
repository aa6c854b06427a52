/**
 * Usage plan enforcement as API Gateway does it per API key: a token bucket (rate per second,
 * burst capacity) and a quota per period. Pure apart from the clock passed in.
 */
import type { LocalApiKey } from '../local/api-keys.ts';
import type { ApiModel, QuotaModel, ThrottleModel, UsagePlanModel } from './model.ts';

/** Why a request was refused by a usage plan (429), or `ok`. */
export type UsageOutcome = 'ok' | 'throttled' | 'quota_exceeded';

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Start of the quota period holding `nowMs` (UTC, like API Gateway; offset in days/weekdays). */
export function quotaPeriodStart(quota: QuotaModel, nowMs: number): number {
  const d = new Date(nowMs);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (quota.period === 'DAY') return day;
  if (quota.period === 'WEEK') {
    // Offset 0 = Sunday, as in API Gateway's QuotaSettings.
    const back = (d.getUTCDay() - quota.offset + 7) % 7;
    return day - back * 86_400_000;
  }
  const startThisMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1 + quota.offset);
  return startThisMonth <= nowMs
    ? startThisMonth
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1 + quota.offset);
}

/**
 * The usage plan of this API that an API key belongs to, as API Gateway finds it: the key (the
 * `x-api-key` header, or the authorizer's `usageIdentifierKey`) must be an enabled API key in a plan
 * attached to the API's stage. Keys come from the template (`AWS::ApiGateway::UsagePlanKey`), or are
 * the usage keys `npm run keys` / `users` made (`lookup`, the local gateway's API keys), one per
 * credential, so each client is metered on its own. Undefined → 403 `INVALID_API_KEY`.
 */
export async function findPlan(
  api: ApiModel,
  key: string | undefined,
  lookup: ((value: string) => Promise<LocalApiKey | undefined>) | undefined,
): Promise<UsagePlanModel | undefined> {
  if (key === undefined || key === '') return undefined;
  const declared = api.usagePlans.find((p) => p.keyValues.includes(key));
  if (declared !== undefined || lookup === undefined) return declared;
  const made = await lookup(key);
  if (made === undefined || !made.enabled) return undefined;
  return api.usagePlans.find((p) => made.planIds.includes(p.id));
}

/** How long the gateway reuses an API key it looked up (docs/local-gateway.md#api-gateway-behaviour). */
export const API_KEY_CACHE_MS = 1000;

/**
 * The local API keys looked up at most once per `ttlMs` per value: each lookup is a DynamoDB read
 * served by the embedded DynamoDB in the gateway's own process, and a read per request halved the
 * key API's throughput (`npm run bench:gateway`). Only keys found are remembered, so a key made a
 * moment ago works at once; a key disabled or deleted is refused within `ttlMs`.
 */
export function cachedApiKeyLookup(
  lookup: (value: string) => Promise<LocalApiKey | undefined>,
  clock: () => number,
  ttlMs: number = API_KEY_CACHE_MS,
): (value: string) => Promise<LocalApiKey | undefined> {
  const found = new Map<string, { key: LocalApiKey; until: number }>();
  return async (value) => {
    const now = clock();
    const hit = found.get(value);
    if (hit !== undefined && hit.until > now) return hit.key;
    const key = await lookup(value);
    if (key === undefined) found.delete(value);
    else {
      // Bounded: a long run with many keys forgets the oldest first.
      if (found.size >= 10_000) found.delete(found.keys().next().value as string);
      found.set(value, { key, until: now + ttlMs });
    }
    return key;
  };
}

/**
 * Token buckets by id (rate per second refills, burst is the capacity), API Gateway's throttling
 * algorithm (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
 */
export class ThrottleBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Takes one token from bucket `id`; false when it is empty (429). */
  take(id: string, throttle: ThrottleModel): boolean {
    const now = this.#clock();
    const bucket = this.#buckets.get(id) ?? { tokens: throttle.burstLimit, updatedMs: now };
    bucket.tokens = Math.min(
      throttle.burstLimit,
      bucket.tokens + ((now - bucket.updatedMs) / 1000) * throttle.rateLimit,
    );
    bucket.updatedMs = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Token buckets and quota counters for the keys of one API's usage plans. */
export class UsageMeter {
  readonly #buckets: ThrottleBuckets;
  readonly #quotas = new Map<string, { periodStart: number; used: number }>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
    this.#buckets = new ThrottleBuckets(clock);
  }

  /**
   * Counts one request of `key` under `plan`; says whether it may pass. `method` is the plan's
   * per-method throttle of the route (`ApiStages[].Throttle`), applied per key before the plan's
   * own throttle; both buckets must have a token.
   */
  take(
    plan: UsagePlanModel,
    key: string,
    method?: { readonly id: string; readonly throttle: ThrottleModel },
  ): UsageOutcome {
    const now = this.#clock();
    const id = `${plan.id}\u0000${key}`;
    if (method !== undefined && !this.#buckets.take(`${id}\u0000${method.id}`, method.throttle))
      return 'throttled';
    if (plan.throttle !== undefined && !this.#buckets.take(id, plan.throttle)) return 'throttled';
    if (plan.quota !== undefined) {
      const start = quotaPeriodStart(plan.quota, now);
      const counter = this.#quotas.get(id);
      const current =
        counter === undefined || counter.periodStart !== start ? { periodStart: start, used: 0 } : counter;
      if (current.used >= plan.quota.limit) return 'quota_exceeded';
      current.used++;
      this.#quotas.set(id, current);
    }
    return 'ok';
  }
}
