import { describe, expect, it } from 'vitest';
import { memoryReplayStore, ReplayStoreUnavailableError, replayKey } from '../../../shared/dpop/replay.ts';

describe('in-memory replay store', () => {
  it('claims a proof once until it expires, then again', async () => {
    let now = 1000;
    const store = memoryReplayStore({ capacity: 10, now: () => now });
    expect(await store.claim('j1', 'https://a.example/x', 2000)).toBe('fresh');
    expect(await store.claim('j1', 'https://a.example/x', 2000)).toBe('replayed');
    expect(await store.claim('j1', 'https://a.example/y', 2000)).toBe('fresh');
    now = 2000;
    expect(await store.claim('j1', 'https://a.example/x', 3000)).toBe('fresh');
  });

  it('lets exactly one of many concurrent claims of a proof win', async () => {
    const store = memoryReplayStore({ capacity: 10, now: () => 0 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.claim('j', 'https://a.example/', 10)),
    );
    expect(results.filter((r) => r === 'fresh')).toHaveLength(1);
  });

  it('fails closed when full of unexpired proofs, and recovers once they expire', async () => {
    let now = 0;
    const store = memoryReplayStore({ capacity: 2, now: () => now });
    await store.claim('a', 'u', 100);
    await store.claim('b', 'u', 50);
    await expect(store.claim('c', 'u', 100)).rejects.toThrow(ReplayStoreUnavailableError);
    now = 60;
    expect(await store.claim('c', 'u', 200)).toBe('fresh');
    expect(await store.claim('a', 'u', 100)).toBe('replayed');
  });

  it('keys records by a fixed-size hash that separates jti and htu', () => {
    expect(replayKey('a', 'bc')).not.toBe(replayKey('ab', 'c'));
    expect(replayKey('x'.repeat(500), 'u')).toHaveLength(43);
  });
});
