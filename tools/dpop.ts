/**
 * Prints a DPoP proof for one request, to paste into curl:
 *
 *   npm run dpop -- --method GET --url https://api.example.com/v1/orders [--token <access token>]
 *                   [--key .gatehouse/dpop/key.json] [--alg ES256] [--nonce <DPoP-Nonce>]
 *   npm run dpop -- --thumbprint      prints the key's RFC 7638 thumbprint (a bound token's cnf.jkt)
 *
 * The key is created on first use and kept (mode 0600). Only the proof (or the thumbprint) goes to
 * stdout. A proof is single-use: make a new one for every request.
 */
import type { Command } from 'commander';
import {
  type CliName,
  choiceValue,
  cliProgram,
  httpUrlValue,
  PROCESS_OUTPUT,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';
import {
  DEFAULT_DPOP_KEY_FILE,
  DPOP_KEY_ALGORITHMS,
  type DpopKeyAlgorithm,
  persistedDpopKey,
} from './dpop/dpop-key.ts';
import { createDpopProof } from './dpop/proof.ts';

const NAME: CliName = { tool: 'dpop', invocation: 'npm run dpop --' };

/** Parsed `npm run dpop` arguments. */
export interface DpopArgs {
  /** HTTP method (`htm`); required unless {@link thumbprint}. */
  readonly method: string | undefined;
  /** Request URL (`htu` is it without query and fragment); required unless {@link thumbprint}. */
  readonly url: string | undefined;
  /** Access token the proof goes with (`ath`). */
  readonly token: string | undefined;
  /** The DPoP key file. */
  readonly key: string;
  /** Algorithm of a key created now. */
  readonly alg: DpopKeyAlgorithm;
  /** A server nonce (`nonce`). */
  readonly nonce: string | undefined;
  /** Print the key's thumbprint instead of a proof. */
  readonly thumbprint: boolean;
}

/** The `npm run dpop` command line. */
export function dpopProgram(): Command {
  return cliProgram(NAME, 'Print a DPoP proof (RFC 9449) for one request.')
    .option('--method <method>', 'HTTP method of the request, e.g. GET')
    .option('--url <url>', 'the request URL as the client calls it', httpUrlValue('--url'))
    .option('--token <token>', 'the access token the proof goes with (sets ath)')
    .option('--key <file>', 'the DPoP key file, created on first use', DEFAULT_DPOP_KEY_FILE)
    .option(
      '--alg <alg>',
      `algorithm of a new key: ${DPOP_KEY_ALGORITHMS.join(', ')}`,
      choiceValue('--alg', DPOP_KEY_ALGORITHMS),
      'ES256',
    )
    .option('--nonce <nonce>', 'a server nonce from a DPoP-Nonce header')
    .option('--thumbprint', "print the key's thumbprint (a bound token's cnf.jkt) instead of a proof", false);
}

/** Parses the command line; throws UsageError (or HelpRequested) on bad input. */
export function parseDpopArgs(argv: readonly string[]): DpopArgs {
  const { options } = parseCommandLine<{
    method?: string;
    url?: string;
    token?: string;
    key: string;
    alg: DpopKeyAlgorithm;
    nonce?: string;
    thumbprint: boolean;
  }>(dpopProgram(), argv);
  if (!options.thumbprint) {
    if (options.method === undefined || !/^[A-Z]+$/.test(options.method))
      throw new UsageError('--method is required (an upper-case HTTP method, e.g. GET)');
    if (options.url === undefined) throw new UsageError('--url is required (an absolute http(s) URL)');
  }
  return {
    method: options.method,
    url: options.url,
    token: options.token,
    key: options.key,
    alg: options.alg,
    nonce: options.nonce,
    thumbprint: options.thumbprint,
  };
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

if (import.meta.url === `file://${process.argv[1]}`) {
  await runCli(NAME, (argv) => {
    PROCESS_OUTPUT.out(dpopOutput(parseDpopArgs(argv)));
    return 0;
  });
}
