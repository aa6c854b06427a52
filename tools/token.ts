/**
 * Prints a fresh access token that the local gateway's JWT authorizer trusts:
 *
 *   npm run token -- --scope "orders:read orders:write" [--sub alice] [--ttl 3600] [--issuer-port 3999]
 *                    [--dpop-key .gatehouse/dpop/key.json] [--cert .gatehouse/certs/alice.pem]
 *
 * Signed with the persisted development key (`.gatehouse/issuer/`) and issued by the local issuer
 * at `http://localhost:<issuer-port>` (the gateway serves it on 3999 by default), so the token
 * carries the `iss` the running gateway expects. `--dpop-key` binds the token to that DPoP key
 * (`cnf.jkt`), `--cert` to that client certificate (`cnf["x5t#S256"]`). Nothing but the token goes to stdout.
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { certificateThumbprint } from '../shared/mtls/certificate-binding.ts';
import { readDpopKeyFile } from './dpop/dpop-key.ts';
import { DEFAULT_ISSUER_PORT, mintToken, persistedSigningKey } from './issuer/local-issuer.ts';

/** Parsed `npm run token` arguments. */
export interface TokenArgs {
  readonly scope: string;
  readonly sub: string | undefined;
  readonly ttl: number;
  readonly issuerPort: number;
  /** A DPoP key file (`npm run dpop`) the token is bound to. */
  readonly dpopKey?: string | undefined;
  /** A client certificate PEM file (`npm run certs`) the token is bound to. */
  readonly cert?: string | undefined;
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
      'dpop-key': { type: 'string' },
      cert: { type: 'string' },
    },
  });
  const ttl = Number(values.ttl);
  const issuerPort = Number(values['issuer-port']);
  if (!Number.isInteger(ttl)) throw new Error('--ttl must be a whole number of seconds');
  if (!Number.isInteger(issuerPort) || issuerPort <= 0 || issuerPort > 65535)
    throw new Error('--issuer-port must be a port number');
  return {
    scope: values.scope,
    sub: values.sub,
    ttl,
    issuerPort,
    dpopKey: values['dpop-key'],
    cert: values.cert,
  };
}

/** The token for the arguments (the issuer URL matches the one the gateway's issuer serves). */
export function tokenFor(args: TokenArgs): string {
  return mintToken(persistedSigningKey(), `http://localhost:${args.issuerPort}`, {
    scope: args.scope,
    ttl: args.ttl,
    ...(args.sub !== undefined ? { sub: args.sub } : {}),
    ...(args.dpopKey !== undefined ? { dpopJkt: readDpopKeyFile(args.dpopKey).thumbprint } : {}),
    ...(args.cert !== undefined ? { certificateThumbprint: certificateFileThumbprint(args.cert) } : {}),
  });
}

function certificateFileThumbprint(file: string): string {
  const thumbprint = certificateThumbprint(readFileSync(file, 'utf8'));
  if (thumbprint === undefined) throw new Error(`${file} is not one PEM certificate`);
  return thumbprint;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${tokenFor(parseTokenArgs(process.argv.slice(2)))}\n`);
  } catch (err) {
    process.stderr.write(
      `token: ${(err as Error).message}\nusage: npm run token -- --scope "orders:read orders:write" [--sub id] [--ttl seconds] [--issuer-port 3999] [--dpop-key file] [--cert file.pem]\n`,
    );
    process.exitCode = 2;
  }
}
