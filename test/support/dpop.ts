import {
  createDpopVerifier,
  DPOP_DEFAULTS,
  type DpopVerifier,
  type DpopVerifierOptions,
} from '../../shared/dpop/proof.ts';
import { memoryReplayStore, type ProofReplayStore } from '../../shared/dpop/replay.ts';
import { type DpopKey, type DpopKeyAlgorithm, generateDpopKey } from '../../tools/dpop/dpop-key.ts';
import { createDpopProof, type ProofOptions } from '../../tools/dpop/proof.ts';

/** The frozen clock of the DPoP tests (epoch milliseconds). */
export const NOW_MS = 1_750_000_000_000;
export const NOW_S = NOW_MS / 1000;
/** The public URL of the request under test. */
export const URL = 'https://api.example.com/orders/42';
/** An access token (its content does not matter to the proof checks). */
export const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

const keys = new Map<string, DpopKey>();
/** One key per algorithm for the whole test file (RSA generation is slow). */
export function keyFor(alg: DpopKeyAlgorithm = 'ES256'): DpopKey {
  let key = keys.get(alg);
  if (key === undefined) {
    key = generateDpopKey(alg);
    keys.set(alg, key);
  }
  return key;
}

/** A proof for GET {@link URL} with {@link TOKEN} at the frozen clock, with overrides. */
export function proofFor(key: DpopKey = keyFor(), options: Partial<ProofOptions> = {}): string {
  return createDpopProof(key, { method: 'GET', url: URL, accessToken: TOKEN, iat: NOW_S, ...options });
}

/** A verifier with the default options, an in-memory replay store on the frozen clock, and overrides. */
export function testVerifier(overrides: Partial<DpopVerifierOptions> = {}): DpopVerifier {
  const replay: ProofReplayStore = memoryReplayStore({ capacity: 1000, now: () => NOW_MS });
  return createDpopVerifier({ ...DPOP_DEFAULTS, nonces: null, replay, ...overrides });
}
