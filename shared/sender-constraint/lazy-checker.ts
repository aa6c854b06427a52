/**
 * The sender-constraint step of a function in which no issuer enables DPoP, with its code loaded on
 * the first token that needs it: a plain bearer token (no `cnf`, scheme `Bearer`) never does, so the
 * bearer path neither parses nor pays for the binding checks (docs/performance.md#dpop). Only types
 * are imported here, so that nothing of the checks ends up in the bundle that uses this.
 */
import type { SenderConstraintChecker } from './checker.ts';

/**
 * A checker that answers `needed` itself and loads the real checker (`withoutDpop()` of
 * ./checker.ts) on the first `check`. A failed load fails that check (a 5xx, never an Allow) and
 * is tried again by the next one.
 */
export function lazySenderConstraint(load: () => Promise<SenderConstraintChecker>): SenderConstraintChecker {
  let loading: Promise<SenderConstraintChecker> | undefined;
  return {
    // As withoutDpop(): with DPoP off for every issuer, only the DPoP scheme and a `cnf` claim need it.
    needed: (token) => token.scheme === 'DPoP' || token.cnf !== undefined,
    async check(token, request, issuer, nowMs) {
      loading ??= load().catch((err: unknown) => {
        loading = undefined;
        throw err;
      });
      return (await loading).check(token, request, issuer, nowMs);
    },
  };
}
