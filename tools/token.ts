/**
 * Prints a fresh access token that the local gateway's JWT authorizer trusts:
 *
 *   npm run token -- --scope "orders:read orders:write" [--sub alice] [--ttl 3600] [--issuer-port 3999]
 *
 * Signed with the persisted development key (`.gatehouse/issuer/`) and issued by the local issuer
 * at `http://localhost:<issuer-port>` (the gateway serves it on 3999 by default), so the token
 * carries the `iss` the running gateway expects. Nothing but the token goes to stdout.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ISSUER_PORT, mintToken, persistedSigningKey } from './issuer/local-issuer.ts';

/** Parsed `npm run token` arguments. */
export interface TokenArgs {
  readonly scope: string;
  readonly sub: string | undefined;
  readonly ttl: number;
  readonly issuerPort: number;
}

/** Parses the command line; throws with a usage message on bad input. */
export function parseTokenArgs(argv: readonly string[]): TokenArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scope: { type: 'string', default: 'orders:read' },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      'issuer-port': { type: 'string', default: String(DEFAULT_ISSUER_PORT) },
    },
  });
  const ttl = Number(values.ttl);
  const issuerPort = Number(values['issuer-port']);
  if (!Number.isInteger(ttl)) throw new Error('--ttl must be a whole number of seconds');
  if (!Number.isInteger(issuerPort) || issuerPort <= 0 || issuerPort > 65535)
    throw new Error('--issuer-port must be a port number');
  return { scope: values.scope, sub: values.sub, ttl, issuerPort };
}

/** The token for the arguments (the issuer URL matches the one the gateway's issuer serves). */
export function tokenFor(args: TokenArgs): string {
  return mintToken(persistedSigningKey(), `http://localhost:${args.issuerPort}`, {
    scope: args.scope,
    ttl: args.ttl,
    ...(args.sub !== undefined ? { sub: args.sub } : {}),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${tokenFor(parseTokenArgs(process.argv.slice(2)))}\n`);
  } catch (err) {
    process.stderr.write(
      `token: ${(err as Error).message}\nusage: npm run token -- --scope "orders:read orders:write" [--sub id] [--ttl seconds] [--issuer-port 3999]\n`,
    );
    process.exitCode = 2;
  }
}
