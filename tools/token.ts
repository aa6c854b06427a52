/**
 * Prints a fresh access token that the local gateway's JWT authorizer trusts:
 *
 *   npm run token -- --scope "orders:read orders:write" [--sub alice] [--ttl 3600] [--issuer-port 3999]
 *                    [--dpop-key .gatehouse/dpop/key.json] [--cert .gatehouse/certs/alice.pem]
 *
 * Signed with the persisted development key (`.gatehouse/issuer/`) and issued by the local issuer
 * at `http://localhost:<issuer-port>` (the gateway serves it on 3999 by default), so the token
 * carries the `iss` the running gateway expects. `--dpop-key` binds the token to that DPoP key
 * (`cnf.jkt`), `--cert` to that client certificate (`cnf["x5t#S256"]`). Nothing but the token goes
 * to stdout.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { certificateThumbprint } from '../shared/mtls/certificate-binding.ts';
import {
  type CliName,
  cliProgram,
  integerValue,
  PROCESS_OUTPUT,
  parseCommandLine,
  portValue,
  runCli,
} from './cli/program.ts';
import { persistedDpopKey } from './dpop/dpop-key.ts';
import { DEFAULT_ISSUER_PORT, mintToken, persistedSigningKey } from './issuer/local-issuer.ts';

const NAME: CliName = { tool: 'token', invocation: 'npm run token --' };

/** Parsed `npm run token` arguments. */
export interface TokenArgs {
  /** Space-separated scopes of the `scope` claim. */
  readonly scope: string;
  /** `sub` claim; the issuer's default when undefined. */
  readonly sub: string | undefined;
  /** Lifetime in seconds; negative for an expired token. */
  readonly ttl: number;
  /** Port of the local issuer whose URL is the token's `iss`. */
  readonly issuerPort: number;
  /** A DPoP key file (`npm run dpop`) the token is bound to (`cnf.jkt`). */
  readonly dpopKey?: string | undefined;
  /** A client certificate PEM file (`npm run certs`) the token is bound to (`cnf["x5t#S256"]`). */
  readonly cert?: string | undefined;
}

/** The `npm run token` command line. */
export function tokenProgram(): Command {
  return cliProgram(NAME, 'Print an access token that the local gateway trusts.')
    .option('--scope <scopes>', 'space-separated scopes', 'orders:read')
    .option('--sub <subject>', 'the token subject (default demo-user)')
    .option(
      '--ttl <seconds>',
      'lifetime in seconds; negative for an expired token',
      integerValue('--ttl'),
      3600,
    )
    .option(
      '--issuer-port <n>',
      'port of the local issuer the gateway runs',
      portValue('--issuer-port'),
      DEFAULT_ISSUER_PORT,
    )
    .option(
      '--dpop-key <file>',
      'bind the token to this DPoP key (created on first use, as npm run dpop does)',
    )
    .option('--cert <file>', 'bind the token to this client certificate (npm run certs)');
}

/** Parses the command line; throws UsageError (or HelpRequested) on bad input. */
export function parseTokenArgs(argv: readonly string[]): TokenArgs {
  const { options } = parseCommandLine<{
    scope: string;
    sub?: string;
    ttl: number;
    issuerPort: number;
    dpopKey?: string;
    cert?: string;
  }>(tokenProgram(), argv);
  return {
    scope: options.scope,
    sub: options.sub,
    ttl: options.ttl,
    issuerPort: options.issuerPort,
    ...(options.dpopKey !== undefined ? { dpopKey: options.dpopKey } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
  };
}

/** The token for the arguments (the issuer URL matches the one the gateway's issuer serves). */
export function tokenFor(args: TokenArgs): string {
  return mintToken(persistedSigningKey(), `http://localhost:${args.issuerPort}`, {
    scope: args.scope,
    ttl: args.ttl,
    ...(args.sub !== undefined ? { sub: args.sub } : {}),
    ...(args.dpopKey !== undefined ? { dpopJkt: persistedDpopKey(args.dpopKey).thumbprint } : {}),
    ...(args.cert !== undefined ? { certificateThumbprint: certificateFileThumbprint(args.cert) } : {}),
  });
}

function certificateFileThumbprint(file: string): string {
  let thumbprint: string | undefined;
  try {
    thumbprint = certificateThumbprint(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} cannot be read (${(err as Error).message})`);
  }
  if (thumbprint === undefined) throw new Error(`${file} is not one PEM certificate`);
  return thumbprint;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runCli(NAME, (argv) => {
    PROCESS_OUTPUT.out(tokenFor(parseTokenArgs(argv)));
    return 0;
  });
}
