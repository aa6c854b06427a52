/**
 * Prints a fresh access token that the local gateway's JWT authorizer trusts:
 *
 *   npm run token -- --scope "orders:read orders:write" [--sub alice] [--ttl 3600] [--issuer-port 3999]
 *                    [--dpop-key .gatehouse/dpop/key.json] [--cert .gatehouse/certs/alice.pem]
 *                    [--tenant acme] [--claim name=value ...]
 *
 * Signed with the persisted development key (`.gatehouse/issuer/`) and issued by the local issuer
 * at `http://localhost:<issuer-port>` (the gateway serves it on 3999 by default), so the token
 * carries the `iss` the running gateway expects. `--dpop-key` binds the token to that DPoP key
 * (`cnf.jkt`), `--cert` to that client certificate (`cnf["x5t#S256"]`). `--tenant` sets the claim
 * the demo API binds its tenant paths to (`custom:tenant_id`, docs/tenant-binding.md), `--claim` any
 * other string claim. Nothing but the token goes to stdout.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { certificateThumbprint } from '../shared/mtls/certificate-binding.ts';
import {
  type CliName,
  cliProgram,
  collectValue,
  integerValue,
  PROCESS_OUTPUT,
  parseCommandLine,
  portValue,
  runCli,
  UsageError,
} from './cli/program.ts';
import { persistedDpopKey } from './dpop/dpop-key.ts';
import { DEFAULT_ISSUER_PORT, mintToken, persistedSigningKey, TENANT_CLAIM } from './issuer/local-issuer.ts';

const NAME: CliName = { tool: 'token', invocation: 'npm run token --' };

/** Claims the other options set: `--claim` cannot replace them. */
const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'cnf'];

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
  /** Extra string claims (`--tenant`, `--claim`), by name. */
  readonly claims?: Readonly<Record<string, string>>;
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
    .option('--cert <file>', 'bind the token to this client certificate (npm run certs)')
    .option('--tenant <id>', `the ${TENANT_CLAIM} claim (tenant-bound paths: docs/tenant-binding.md)`)
    .option('--claim <name=value>', 'an extra string claim (repeatable)', collectValue);
}

/** `--claim name=value` words and `--tenant` as claims; refuses malformed words and reserved names. */
export function extraClaims(
  words: readonly string[] | undefined,
  tenant: string | undefined,
): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const word of words ?? []) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim must look like name=value, not ${JSON.stringify(word)}`);
    const name = word.slice(0, eq);
    if (RESERVED_CLAIMS.includes(name))
      throw new UsageError(`--claim cannot set ${name} (use the option that sets it)`);
    if (Object.hasOwn(claims, name)) throw new UsageError(`--claim sets ${name} twice`);
    claims[name] = word.slice(eq + 1);
  }
  if (tenant !== undefined) {
    if (Object.hasOwn(claims, TENANT_CLAIM))
      throw new UsageError(`--tenant and --claim both set ${TENANT_CLAIM}`);
    claims[TENANT_CLAIM] = tenant;
  }
  return claims;
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
    tenant?: string;
    claim?: string[];
  }>(tokenProgram(), argv);
  const claims = extraClaims(options.claim, options.tenant);
  return {
    scope: options.scope,
    sub: options.sub,
    ttl: options.ttl,
    issuerPort: options.issuerPort,
    ...(options.dpopKey !== undefined ? { dpopKey: options.dpopKey } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(Object.keys(claims).length > 0 ? { claims } : {}),
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
    ...(args.claims !== undefined ? { claims: args.claims } : {}),
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
