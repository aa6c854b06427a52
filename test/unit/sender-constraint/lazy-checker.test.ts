// The sender-constraint step of a function without DPoP, loaded on the first token that needs it:
// the same `needed` answers as withoutDpop(), one load for every check, and a failed load that
// fails its check and is tried again.
import { describe, expect, it } from 'vitest';
import {
  type SenderConstraintChecker,
  type SenderRequest,
  withoutDpop,
} from '../../../shared/sender-constraint/checker.ts';
import { lazySenderConstraint } from '../../../shared/sender-constraint/lazy-checker.ts';
import type { PresentedToken } from '../../../shared/sender-constraint/token-binding.ts';
import { keyFor, NOW_MS, TOKEN } from '../../support/dpop.ts';

const key = keyFor('ES256');
const request: SenderRequest = {
  method: 'GET',
  domainName: 'api.example.com',
  stage: 'v1',
  path: '/orders/42',
  dpopProofs: [],
  event: {},
};
const token = (scheme: PresentedToken['scheme'], cnf: unknown): PresentedToken => ({
  scheme,
  token: TOKEN,
  cnf,
});

/** A loader that counts its calls and answers with `withoutDpop()`, or fails while `failing`. */
function countingLoader(): { load: () => Promise<SenderConstraintChecker>; calls: number; failing: boolean } {
  const state = {
    calls: 0,
    failing: false,
    load: async () => {
      state.calls += 1;
      if (state.failing) throw new Error('dpop.mjs could not be read');
      return withoutDpop();
    },
  };
  return state;
}

describe('lazySenderConstraint', () => {
  it.each([
    ['Bearer', undefined],
    ['Bearer', { jkt: key.thumbprint }],
    ['Bearer', { 'x5t#S256': 'x' }],
    ['Bearer', 'not an object'],
    ['DPoP', undefined],
    ['DPoP', { jkt: key.thumbprint }],
  ] as const)('says whether a %s token with cnf %j needs the step as withoutDpop() does', (scheme, cnf) => {
    // Arrange
    const loader = countingLoader();
    const lazy = lazySenderConstraint(loader.load);

    // Act
    const needed = lazy.needed(token(scheme, cnf), 'https://issuer');

    // Assert: the same answer, and nothing loaded to give it.
    expect(needed).toBe(withoutDpop().needed(token(scheme, cnf), 'https://issuer'));
    expect(loader.calls).toBe(0);
  });

  it('loads the checker once, on the first check, and answers as the loaded checker', async () => {
    // Arrange
    const loader = countingLoader();
    const lazy = lazySenderConstraint(loader.load);

    // Act
    const first = await lazy.check(token('DPoP', { jkt: key.thumbprint }), request, 'https://issuer', NOW_MS);
    const second = await lazy.check(
      token('Bearer', { jkt: key.thumbprint }),
      request,
      'https://issuer',
      NOW_MS,
    );

    // Assert
    expect(first).toEqual({ ok: false, reason: 'dpop_not_enabled' });
    expect(second).toEqual({ ok: false, reason: 'token_dpop_bound_as_bearer' });
    expect(loader.calls).toBe(1);
  });

  it('fails the check when the load fails, and loads again on the next check', async () => {
    // Arrange
    const loader = countingLoader();
    loader.failing = true;
    const lazy = lazySenderConstraint(loader.load);

    // Act
    const failed = lazy.check(token('Bearer', { 'x5t#S256': 'x' }), request, 'https://issuer', NOW_MS);

    // Assert: a rejection (the authorizer answers 5xx), never an answer.
    await expect(failed).rejects.toThrow('dpop.mjs could not be read');
    loader.failing = false;
    await expect(
      lazy.check(token('Bearer', { 'x5t#S256': 'x' }), request, 'https://issuer', NOW_MS),
    ).resolves.toEqual({ ok: false, reason: 'token_cnf_invalid' });
    expect(loader.calls).toBe(2);
  });
});
