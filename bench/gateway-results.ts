/**
 * Where `npm run bench:gateway` writes its figures: a plain run to the untracked results folder, a run
 * with `--update-results` to the committed copy. `npm run bench` reports the newer of the two.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT, STATE_DIR } from '../tools/paths.ts';

export const COMMITTED_GATEWAY_RESULTS = resolve(PROJECT_ROOT, 'bench', 'gateway-results.json');
export const UNTRACKED_GATEWAY_RESULTS = resolve(STATE_DIR, 'bench', 'results', 'gateway-results.json');

/** The newer of the two result files, or undefined when neither exists. */
export function latestGatewayResults(): string | undefined {
  const present = [UNTRACKED_GATEWAY_RESULTS, COMMITTED_GATEWAY_RESULTS].filter((f) => existsSync(f));
  return present.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}
