import { describe, expect, it } from 'vitest';
import { AwsCallError, type AwsFailure } from '../../../shared/aws/json-call.ts';
import { storeFailureOf, withinBudget } from '../../../shared/credentials/dynamo-store.ts';

/** Keeps the event loop busy for `ms`, as parsing a huge answer would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer can fire meanwhile
  }
}

describe('withinBudget', () => {
  it('answers within the budget', async () => {
    await expect(withinBudget('GetItem', 1000, async () => 'item')).resolves.toBe('item');
  });

  it('aborts a call that does not answer within the budget (store_timeout)', async () => {
    let aborted = false;
    const call = (signal: AbortSignal) =>
      new Promise<never>(() => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
      });
    await expect(withinBudget('GetItem', 30, call)).rejects.toMatchObject({
      name: 'CredentialStoreError',
      reason: 'store_timeout',
    });
    expect(aborted).toBe(true);
  });

  it('refuses an answer that arrived after the budget although the timer could not fire first', async () => {
    const late = async () => {
      blockFor(80);
      return 'an answer nobody may use';
    };
    await expect(withinBudget('GetItem', 30, late)).rejects.toMatchObject({ reason: 'store_timeout' });
  });

  it.each([0, -5, Number.NaN])('starts no call with a budget of %s ms', async (budget) => {
    let called = false;
    const call = async () => {
      called = true;
      return 'item';
    };
    await expect(withinBudget('GetItem', budget, call)).rejects.toMatchObject({ reason: 'store_timeout' });
    expect(called).toBe(false);
  });
});

describe('storeFailureOf', () => {
  it.each([
    ['throttled', 'store_throttled'],
    ['access_denied', 'store_denied'],
    ['not_found', 'table_missing'],
    ['timeout', 'store_timeout'],
    ['unavailable', 'store_unavailable'],
    ['response_too_large', 'store_response_too_large'],
    ['server_error', 'store_error'],
    ['validation', 'store_error'],
    ['error', 'store_error'],
  ] as const)("maps the functions' client's %s to %s", (code: AwsFailure, reason) => {
    expect(storeFailureOf(new AwsCallError(code, 'SomeType', 'failed'))).toBe(reason);
  });

  it.each([
    ['ProvisionedThroughputExceededException', 'store_throttled'],
    ['ResourceNotFoundException', 'table_missing'],
    ['TimeoutError', 'store_timeout'],
    ['CredentialsProviderError', 'store_no_credentials'],
  ])("maps the SDK's %s (the CLIs) to %s", (name, reason) => {
    expect(storeFailureOf({ name })).toBe(reason);
  });
});
