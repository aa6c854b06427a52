/**
 * Per-client quotas: each credential (an API key or a Basic user) gets an API Gateway API key of its
 * own in its tier's usage plan, and the authorizer returns that key's value as `usageIdentifierKey`,
 * so API Gateway throttles and counts each client on its own (docs/key-authorizer.md#per-client-quotas).
 * This module is the contract; the adapters are `apigateway-usage-keys.ts` (AWS, CLI only) and
 * `tools/local/api-keys.ts` (the local gateway's emulation in the embedded DynamoDB).
 */
import { randomBytes } from 'node:crypto';
import type { UsageKey } from './store.ts';

/** What a new usage key is made with. */
export interface UsageKeyRequest {
  /** API Gateway API key name (`gatehouse-key-<keyId>`, `gatehouse-user-<username>`). */
  readonly name: string;
  readonly description: string;
  /** The usage plan to add the key to. */
  readonly planId: string;
  /** The key's value (see {@link newUsageKeyValue}); never a Gatehouse secret. */
  readonly value: string;
}

/** Where credentials' usage keys live: API Gateway, or the local gateway's emulation of it. */
export interface UsageKeyRegistry {
  /** For messages: `API Gateway in eu-west-1`, `the local gateway's API keys`. */
  readonly where: string;
  /**
   * Tier → usage plan id, for the tiers this target defines; undefined when they are not known
   * (then existing usage keys can be disabled, enabled and deleted, but none created).
   */
  readonly plans: Readonly<Record<string, string>> | undefined;
  /**
   * Creates an enabled API key with the request's value and adds it to the usage plan. Either both
   * happen or neither: a key that cannot join its plan is deleted again before this rejects.
   */
  create(request: UsageKeyRequest): Promise<UsageKey>;
  /** Enables or disables the key (API Gateway refuses a disabled key with 403). */
  setEnabled(key: UsageKey, enabled: boolean): Promise<void>;
  /** Deletes the key, which also takes it out of its usage plan; false when it did not exist. */
  remove(key: UsageKey): Promise<boolean>;
  /** Fails (`usage_plan_unknown`) unless every plan of {@link plans} exists: called before a change. */
  checkPlans(): Promise<void>;
}

/** Why a usage key operation failed (the CLI turns each into a message saying what to do). */
export type UsageKeyFailure =
  | 'usage_plan_unknown'
  | 'usage_key_denied'
  | 'usage_key_no_credentials'
  | 'usage_key_unavailable'
  | 'usage_key_conflict'
  | 'usage_key_limit'
  | 'usage_key_error';

/** A usage key operation failed; the message names no key value, `cause` keeps the SDK error. */
export class UsageKeyError extends Error {
  override readonly name = 'UsageKeyError';
  readonly reason: UsageKeyFailure;

  constructor(reason: UsageKeyFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * A new usage key value: 160 random bits as 40 hex characters (API Gateway wants at least 20).
 * Independent of the credential's secret, so knowing one tells nothing about the other.
 */
export function newUsageKeyValue(): string {
  return randomBytes(20).toString('hex');
}

/** A stack output that names a tier's usage plan: `BasicUsagePlanId` → tier `basic`. */
const PLAN_OUTPUT = /^([A-Za-z0-9]+)UsagePlanId$/;

/**
 * The tiers a stack defines, from its outputs: each `<Tier>UsagePlanId` output (e.g.
 * `BasicUsagePlanId`) names tier `<tier>` (the prefix in lower case) and its usage plan id. The same
 * convention is read from template.yaml locally and from CloudFormation for a deployed stack.
 */
export function usagePlansFromOutputs(outputs: Readonly<Record<string, string>>): Record<string, string> {
  const plans: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) {
    const tier = PLAN_OUTPUT.exec(key)?.[1];
    if (tier !== undefined && value !== '') plans[tier.toLowerCase()] = value;
  }
  return plans;
}
