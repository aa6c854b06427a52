/**
 * Prints a sample event with fresh tokens, for the real SAM CLI:
 *
 *   npm run -s event -- events/jwt-authorizer/allow.json \
 *     | sam local invoke JwtAuthorizerFunction -e - --env-vars events/env.json
 *
 * Every `{{gatehouse:token ...}}` placeholder becomes a token signed by the published development
 * issuer, which events/env.json trusts through an inline JWKS (tools/issuer/published-issuer.ts):
 * no issuer to start, no network inside SAM's container. DPoP proofs and client certificates
 * (`{{gatehouse:dpop ...}}`, `{{gatehouse:cert ...}}`) are made for the event. Placeholders for API
 * keys and Basic users need a credentials table, and a replayed proof the function's replay table:
 * they are refused (npm run invoke fills them). docs/events.md.
 * Exit status: 0 printed, 2 bad usage or a bad event.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type CliName,
  cliProgram,
  PROCESS_OUTPUT,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';
import { asksForReplay, fillEventPlaceholders } from './issuer/event-placeholders.ts';
import type { MintOptions } from './issuer/local-issuer.ts';
import { mintPublished } from './issuer/published-issuer.ts';

const NAME: CliName = { tool: 'event', invocation: 'npm run -s event --' };

/** tools/local/sam-env-vars.ts writes it (not imported here: this command stays light). */
const SAM_ENV_FILE = 'events/env.json';

/** The `npm run event` command line. */
export function eventProgram(): Command {
  return cliProgram(
    NAME,
    `Print a sample event with fresh tokens that ${SAM_ENV_FILE} trusts (for sam local invoke -e -).`,
  )
    .argument('<event>', 'the event file, or - for stdin')
    .addHelpText(
      'after',
      `\nExample:\n  npm run -s event -- events/jwt-authorizer/allow.json \\\n` +
        `    | sam local invoke JwtAuthorizerFunction -e - --env-vars ${SAM_ENV_FILE}`,
    );
}

/** Placeholders this command cannot fill: they name credentials that must exist in a table. */
const CREDENTIAL_PLACEHOLDER = /\{\{gatehouse:(?!(?:token|dpop|cert)[\s}])([\w-]*)/;

/** The event with its token placeholders filled; throws UsageError for what it cannot fill. */
export async function fillEvent(
  event: unknown,
  source: string,
  mint: (options: MintOptions) => string,
): Promise<unknown> {
  const other = CREDENTIAL_PLACEHOLDER.exec(JSON.stringify(event))?.[1];
  if (other !== undefined)
    throw new UsageError(
      `${source} has a {{gatehouse:${other}}} placeholder: a credential that must exist in the table the ` +
        `function reads, which only local runs provide (npm run invoke -- <LogicalId> -e ${source})`,
    );
  if (asksForReplay(event))
    throw new UsageError(
      `${source} has a replayed DPoP proof (replayed=1): it must be recorded in the replay table the ` +
        `function reads, which only local runs provide (npm run invoke -- <LogicalId> -e ${source})`,
    );
  try {
    return await fillEventPlaceholders(event, { mint });
  } catch (err) {
    throw new UsageError(`${source}: ${(err as Error).message}`);
  }
}

function readEvent(source: string): unknown {
  if (source !== '-' && !existsSync(source)) throw new UsageError(`event file ${source} does not exist`);
  const text = readFileSync(source === '-' ? 0 : source, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source === '-' ? 'stdin' : source} is not valid JSON: ${(err as Error).message}`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const { operands } = parseCommandLine(eventProgram(), argv);
  const source = operands[0] as string;
  const filled = await fillEvent(readEvent(source), source, (options) => mintPublished(options));
  PROCESS_OUTPUT.out(JSON.stringify(filled, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(NAME, main);
