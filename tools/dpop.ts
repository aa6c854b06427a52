/**
 * Prints a DPoP proof for one request, to paste into curl:
 *
 *   npm run dpop -- --method GET --url https://api.example.com/v1/orders [--token <access token>]
 *                   [--key .gatehouse/dpop/key.json] [--alg ES256] [--nonce <DPoP-Nonce>]
 *   npm run dpop -- --thumbprint      prints the key's RFC 7638 thumbprint (a bound token's cnf.jkt)
 *
 * The key is created on first use and kept (mode 0600). Only the proof (or the thumbprint) goes to
 * stdout. A proof is single-use: make a new one for every request. Exit status 2 on bad usage.
 */
import { Command, CommanderError, Option } from 'commander';
import {
  DEFAULT_DPOP_KEY_FILE,
  DPOP_KEY_ALGORITHMS,
  type DpopKeyAlgorithm,
  persistedDpopKey,
} from './dpop/dpop-key.ts';
import { createDpopProof } from './dpop/proof.ts';

/** Parsed `npm run dpop` arguments. */
export interface DpopArgs {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly token: string | undefined;
  readonly key: string;
  readonly alg: DpopKeyAlgorithm;
  readonly nonce: string | undefined;
  readonly thumbprint: boolean;
}

/** Bad usage: exit status 2. */
export class DpopUsageError extends Error {
  override readonly name = 'DpopUsageError';
}

function program(): Command {
  // commander directly; when the shared CLI module lands, only this function changes.
  return new Command('dpop')
    .description('print a DPoP proof (RFC 9449) for one request')
    .option('--method <method>', 'HTTP method of the request, e.g. GET')
    .option('--url <url>', 'the request URL as the client calls it')
    .option('--token <token>', 'the access token the proof goes with (sets ath)')
    .option('--key <file>', 'the DPoP key file (created on first use)', DEFAULT_DPOP_KEY_FILE)
    .addOption(
      new Option('--alg <alg>', 'algorithm of a new key').choices(DPOP_KEY_ALGORITHMS).default('ES256'),
    )
    .option('--nonce <nonce>', 'a server nonce from a DPoP-Nonce header')
    .option('--thumbprint', "print the key's thumbprint (cnf.jkt) instead of a proof", false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .helpOption(false)
    .allowExcessArguments(false);
}

/** Parses the command line; throws {@link DpopUsageError} on bad input. */
export function parseDpopArgs(argv: readonly string[]): DpopArgs {
  let options: Record<string, unknown>;
  try {
    options = program()
      .parse([...argv], { from: 'user' })
      .opts();
  } catch (err) {
    throw new DpopUsageError(
      err instanceof CommanderError ? err.message.replace(/^error: /, '') : String(err),
    );
  }
  const args: DpopArgs = {
    method: options.method as string | undefined,
    url: options.url as string | undefined,
    token: options.token as string | undefined,
    key: options.key as string,
    alg: options.alg as DpopKeyAlgorithm,
    nonce: options.nonce as string | undefined,
    thumbprint: options.thumbprint === true,
  };
  if (!args.thumbprint) {
    if (args.method === undefined || !/^[A-Z]+$/.test(args.method))
      throw new DpopUsageError('--method is required (an upper-case HTTP method, e.g. GET)');
    if (args.url === undefined || !/^https?:\/\/[^/]/.test(args.url))
      throw new DpopUsageError('--url is required (an absolute http(s) URL)');
  }
  return args;
}

/** What `npm run dpop` prints for the arguments. */
export function dpopOutput(args: DpopArgs, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const key = persistedDpopKey(args.key, args.alg);
  if (args.thumbprint) return key.thumbprint;
  return createDpopProof(key, {
    method: args.method as string,
    url: args.url as string,
    accessToken: args.token,
    nonce: args.nonce,
    iat: nowSeconds,
  });
}

const USAGE =
  'usage: npm run dpop -- --method GET --url https://host/path [--token <access token>] [--key file] [--alg ES256] [--nonce n]\n' +
  '       npm run dpop -- --thumbprint [--key file]\n';

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${dpopOutput(parseDpopArgs(process.argv.slice(2)))}\n`);
  } catch (err) {
    process.stderr.write(`dpop: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = err instanceof DpopUsageError ? 2 : 1;
  }
}
