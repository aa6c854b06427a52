/**
 * The local token issuer for development: an RSA signing key kept in `.gatehouse/issuer/`, OIDC
 * discovery and JWKS served on loopback, and tokens minted on demand. Only the local tools
 * (`invoke`, the local gateway, `npm run token`) add it to JWT_ISSUERS; a deployed stack never
 * trusts it.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { STATE_DIR } from '../paths.ts';
import { privateKeyFromJwk, signJwt } from './sign.ts';

/** The audience of locally minted tokens. */
export const LOCAL_AUDIENCE = 'gatehouse-local';
/** Default port of the issuer next to the local gateway. */
export const DEFAULT_ISSUER_PORT = 3999;

/** What a minted token says. */
export interface MintOptions {
  /** Space-separated scopes (`scope` claim). Default `orders:read`. */
  readonly scope?: string;
  readonly sub?: string;
  /** Lifetime in seconds from now; negative for an already expired token. Default 3600. */
  readonly ttl?: number;
  readonly aud?: string;
  /** Seconds added to `iat` (positive = issued in the future). */
  readonly iatOffset?: number;
  readonly clientId?: string;
  /** Binds the token to a DPoP key: its RFC 7638 thumbprint, put in `cnf.jkt` (RFC 9449 §6). */
  readonly dpopJkt?: string;
  /** Binds the token to a client certificate: its `x5t#S256`, put in `cnf` (RFC 8705 §3.1). */
  readonly certificateThumbprint?: string;
  /** Extra header members (tests). */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Extra or replacing claims (tests). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** A signing key and its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: Readonly<Record<string, unknown>>;
}

/** Generates an RSA-2048 signing key. */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return toSigningKey(privateKey, randomUUID());
}

/** A signing key from a stored private JWK. */
export function signingKeyFromJwk(jwk: Readonly<Record<string, unknown>>, kid: string): SigningKey {
  return toSigningKey(privateKeyFromJwk(jwk), kid);
}

function toSigningKey(privateKey: KeyObject, kid: string): SigningKey {
  const publicJwk = {
    ...createPublicKey(privateKey).export({ format: 'jwk' }),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  return { kid, privateKey, publicJwk };
}

/** The persisted development key (created on first use, reused afterwards). */
export function persistedSigningKey(dir = join(STATE_DIR, 'issuer')): SigningKey {
  const file = join(dir, 'signing-key.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { kid: string; jwk: Record<string, unknown> };
    return toSigningKey(privateKeyFromJwk(stored.jwk), stored.kid);
  }
  const key = generateSigningKey();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify({ kid: key.kid, jwk: key.privateKey.export({ format: 'jwk' }) }), {
    mode: 0o600,
  });
  return key;
}

/** The `cnf` claim for the bindings asked for (none: no claim). */
function confirmation(options: MintOptions): { cnf?: Record<string, string> } {
  const cnf: Record<string, string> = {};
  if (options.dpopJkt !== undefined) cnf.jkt = options.dpopJkt;
  if (options.certificateThumbprint !== undefined) cnf['x5t#S256'] = options.certificateThumbprint;
  return Object.keys(cnf).length === 0 ? {} : { cnf };
}

/** Mints an RS256 access token. */
export function mintToken(
  key: SigningKey,
  issuer: string,
  options: MintOptions = {},
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const ttl = options.ttl ?? 3600;
  const iat = nowSeconds + (options.iatOffset ?? 0) + (ttl < 0 ? ttl - 60 : 0);
  const payload = {
    iss: issuer,
    sub: options.sub ?? 'demo-user',
    aud: options.aud ?? LOCAL_AUDIENCE,
    iat,
    exp: nowSeconds + ttl,
    jti: randomUUID(),
    client_id: options.clientId ?? 'gatehouse-local-client',
    scope: options.scope ?? 'orders:read',
    ...confirmation(options),
    ...options.claims,
  };
  return signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...options.header }, payload, key.privateKey);
}

/** The JWT_ISSUERS entry that trusts a local issuer. */
export function localIssuerEntry(issuer: string): Record<string, unknown> {
  return { issuer, audience: LOCAL_AUDIENCE, jwksUri: `${issuer}/.well-known/jwks.json` };
}

/**
 * Adds the local issuer to a JWT_ISSUERS value (left alone when it is not a JSON array); `extra`
 * adds fields to its entry (e.g. `{ dpop: 'allowed' }`).
 */
export function withLocalIssuer(
  jwtIssuers: string | undefined,
  issuer: string,
  extra: Readonly<Record<string, unknown>> = {},
): string | undefined {
  let list: unknown;
  try {
    list = JSON.parse(jwtIssuers ?? '[]');
  } catch {
    return jwtIssuers;
  }
  if (!Array.isArray(list)) return jwtIssuers;
  return JSON.stringify([
    ...list.filter((e) => (e as { issuer?: unknown })?.issuer !== issuer),
    { ...localIssuerEntry(issuer), ...extra },
  ]);
}

/** A running local issuer. */
export interface RunningIssuer {
  readonly url: string;
  readonly key: SigningKey;
  mint(options?: MintOptions): string;
  close(): Promise<void>;
}

/** Serves OIDC discovery and the JWKS on loopback. Port 0 picks a free port. */
export async function startLocalIssuer(
  options: { port?: number; host?: string; key?: SigningKey } = {},
): Promise<RunningIssuer> {
  const key = options.key ?? persistedSigningKey();
  const host = options.host ?? '127.0.0.1';
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown;
    if (path === '/.well-known/jwks.json') body = { keys: [key.publicJwk] };
    else if (path === '/.well-known/openid-configuration') {
      body = {
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        grant_types_supported: ['client_credentials'],
      };
    }
    if (req.method !== 'GET' || body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  return {
    url,
    key,
    mint: (mintOptions) => mintToken(key, url, mintOptions),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The claim a placeholder's `tenant=` word sets: the demo API's tenant binding (openapi.yaml). */
export const TENANT_CLAIM = 'custom:tenant_id';

/**
 * Replaces `{{gatehouse:token ...}}` placeholders in an event with fresh tokens. Options are
 * `key=value` words: scope (quote it when it has spaces), sub, ttl, aud, iat (offset), client,
 * tenant (the `custom:tenant_id` claim, docs/tenant-binding.md).
 * Example: `"Bearer {{gatehouse:token scope='orders:read orders:write' ttl=-60}}"`.
 */
export function fillTokenPlaceholders(event: unknown, mint: (options: MintOptions) => string): unknown {
  const text = JSON.stringify(event);
  // The same placeholder twice (`headers` and `multiValueHeaders`) is the same token, as in a real event.
  const minted = new Map<string, string>();
  const filled = text.replace(/\{\{gatehouse:token([^}]*)\}\}/g, (all, raw: string) => {
    const token = minted.get(all) ?? mint(parseMintWords(raw));
    minted.set(all, token);
    return token;
  });
  return JSON.parse(filled);
}

/** Parses `scope='a b' ttl=60` into mint options. */
export function parseMintWords(raw: string): MintOptions {
  const options: Record<string, unknown> = {};
  for (const m of raw.matchAll(/(\w+)=(?:'([^']*)'|"([^"]*)"|\\"([^\\]*)\\"|(\S+))/g)) {
    const value = m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
    const name = m[1] as string;
    if (name === 'ttl') options.ttl = Number(value);
    else if (name === 'iat') options.iatOffset = Number(value);
    else if (name === 'client') options.clientId = value;
    else if (name === 'scope' || name === 'sub' || name === 'aud') options[name] = value;
    else if (name === 'tenant') options.claims = { [TENANT_CLAIM]: value };
    else throw new Error(`unknown token option ${name} (scope, sub, ttl, aud, iat, client, tenant)`);
  }
  return options as MintOptions;
}
