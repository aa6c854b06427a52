/**
 * The published development issuer. Its signing key is committed to the repository
 * (`published-development-key.json`), so a token it signs on any machine verifies against the
 * inline JWKS of `events/env.json`: the environment `sam local invoke --env-vars events/env.json`
 * gives the JWT authorizer, with no network inside SAM's container and nothing to set up.
 *
 * The private key is public by design, so a token it signs proves nothing: its issuer is trusted
 * only by events/env.json (local runs), under a name that cannot resolve (`.invalid`, RFC 6761).
 * The local gateway and `npm run token` keep their own per-clone key (`.gatehouse/issuer/`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths.ts';
import {
  LOCAL_AUDIENCE,
  type MintOptions,
  mintToken,
  type SigningKey,
  signingKeyFromJwk,
} from './local-issuer.ts';

/** `iss` of the tokens `npm run event` signs; events/env.json trusts exactly this issuer. */
export const PUBLISHED_ISSUER = 'https://sam-local.gatehouse.invalid';

/** The committed key file (private JWK, public by design). */
export const PUBLISHED_KEY_FILE = join(PROJECT_ROOT, 'tools', 'issuer', 'published-development-key.json');

/** The published development key. */
export function publishedSigningKey(file = PUBLISHED_KEY_FILE): SigningKey {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { kid: string; jwk: Record<string, unknown> };
  return signingKeyFromJwk(stored.jwk, stored.kid);
}

/** Mints a token from the published issuer (audience `gatehouse-local` unless the options say). */
export function mintPublished(options: MintOptions, key = publishedSigningKey()): string {
  return mintToken(key, PUBLISHED_ISSUER, options);
}

/** The JWT_ISSUERS entry that trusts the published issuer through an inline JWKS. */
export function publishedIssuerEntry(key = publishedSigningKey()): Record<string, unknown> {
  return { issuer: PUBLISHED_ISSUER, audience: LOCAL_AUDIENCE, jwks: { keys: [key.publicJwk] } };
}
