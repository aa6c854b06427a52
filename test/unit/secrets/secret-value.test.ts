import { describe, expect, it } from 'vitest';
import {
  type CachedSecretOptions,
  cachedSecret,
  type SecretReader,
  SecretUnavailableError,
  staticSecret,
} from '../../../shared/secrets/secret-value.ts';

const ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:test-AbCdEf';

/** A reader over a mutable value that counts reads and can fail or stall. */
function fakeReader(initial: string) {
  const state = { value: initial, reads: 0, fail: false, release: undefined as (() => void) | undefined };
  const reader: SecretReader = {
    async read(secretId) {
      expect(secretId).toBe(ID);
      state.reads++;
      if (state.release !== undefined) await new Promise<void>((r) => (state.release = r));
      if (state.fail) throw new Error('Secrets Manager is down');
      return state.value;
    },
  };
  return { reader, state };
}

function setup(options: Partial<CachedSecretOptions> = {}) {
  const { reader, state } = fakeReader('value-one');
  let now = 1_000_000;
  const stale: unknown[] = [];
  const secret = cachedSecret(reader, {
    secretId: ID,
    ttlMs: 300_000,
    missIntervalMs: 60_000,
    retryMs: 10_000,
    clock: () => now,
    onStale: (err) => stale.push(err),
    ...options,
  });
  return { secret, state, stale, advance: (ms: number) => (now += ms) };
}

describe('cachedSecret', () => {
  it('reads once and serves the cached value within the TTL', async () => {
    const { secret, state, advance } = setup();

    const first = await secret.get();
    advance(299_999);
    const second = await secret.get();

    expect([first, second]).toEqual(['value-one', 'value-one']);
    expect(state.reads).toBe(1);
  });

  it('reads the current value again after the TTL (rotation without a deploy)', async () => {
    const { secret, state, advance } = setup();
    await secret.get();

    state.value = 'value-two';
    advance(300_000);

    expect(await secret.get()).toBe('value-two');
    expect(state.reads).toBe(2);
  });

  it('shares one read between concurrent callers', async () => {
    const { secret, state } = setup();
    state.release = () => undefined;
    const pending = [secret.get(), secret.get(), secret.get()];
    await Promise.resolve();
    (state.release as () => void)();

    expect(await Promise.all(pending)).toEqual(['value-one', 'value-one', 'value-one']);
    expect(state.reads).toBe(1);
  });

  it('rejects with SecretUnavailableError naming the secret, never a value, when it was never read', async () => {
    const { secret, state } = setup();
    state.fail = true;

    await expect(secret.get()).rejects.toThrow(SecretUnavailableError);
    await expect(secret.get()).rejects.toThrow(`secret ${ID} could not be read`);
  });

  it('serves the previous value when a re-read fails, reports it, and retries after the back-off', async () => {
    const { secret, state, stale, advance } = setup();
    await secret.get();
    state.fail = true;
    advance(300_000);

    const during = await secret.get();
    advance(9_999);
    await secret.get();
    const readsDuringBackoff = state.reads;
    state.fail = false;
    state.value = 'value-two';
    advance(1);

    expect(during).toBe('value-one');
    expect(stale).toHaveLength(1);
    expect(readsDuringBackoff).toBe(2);
    expect(await secret.get()).toBe('value-two');
  });

  it('refuses a value its check rejects, as if it could not be read', async () => {
    const { secret, state } = setup({ check: (v) => (v.length < 16 ? 'is too short' : undefined) });
    state.value = 'short';

    await expect(secret.get()).rejects.toThrow(`secret ${ID} is too short`);
  });

  it('re-reads after a miss, at most once per interval, and says whether the value changed', async () => {
    const { secret, state, advance } = setup();
    await secret.get();
    state.value = 'value-two';

    const first = await secret.refreshAfterMiss();
    const flood = await Promise.all(Array.from({ length: 50 }, () => secret.refreshAfterMiss()));
    advance(59_999);
    const tooSoon = await secret.refreshAfterMiss();
    advance(1);
    const unchanged = await secret.refreshAfterMiss();

    expect(first).toBe(true);
    expect(await secret.get()).toBe('value-two');
    expect(flood.every((changed) => changed === false)).toBe(true);
    expect(tooSoon).toBe(false);
    expect(unchanged).toBe(false);
    expect(state.reads).toBe(3);
  });

  it('never rejects from refreshAfterMiss, even when the read fails', async () => {
    const { secret, state } = setup();
    await secret.get();
    state.fail = true;

    await expect(secret.refreshAfterMiss()).resolves.toBe(false);
    expect(await secret.get()).toBe('value-one');
  });
});

describe('staticSecret', () => {
  it('always serves its value and never changes', async () => {
    const secret = staticSecret('local-value');

    expect(await secret.get()).toBe('local-value');
    expect(await secret.refreshAfterMiss()).toBe(false);
  });
});
