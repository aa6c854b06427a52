/**
 * DPoP client keys for local development: generated with node:crypto, kept as a private JWK in a
 * file (mode 0600, under `.gatehouse/` by default), identified by their RFC 7638 thumbprint — the
 * value a DPoP-bound token carries in `cnf.jkt`.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DpopAlgorithm, jwkThumbprint } from '../../shared/dpop/jwk.ts';
import { privateKeyFromJwk } from '../issuer/sign.ts';
import { STATE_DIR } from '../paths.ts';

/** Where `npm run dpop` keeps its key unless told otherwise. */
export const DEFAULT_DPOP_KEY_FILE = join(STATE_DIR, 'dpop', 'key.json');

/** Algorithms the local tools generate keys for. */
export const DPOP_KEY_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'] as const;
export type DpopKeyAlgorithm = (typeof DPOP_KEY_ALGORITHMS)[number] & DpopAlgorithm;

/** A DPoP key pair. */
export interface DpopKey {
  readonly alg: DpopAlgorithm;
  readonly privateKey: KeyObject;
  /** The public JWK that goes into every proof's header. */
  readonly publicJwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint of {@link publicJwk} (`cnf.jkt`). */
  readonly thumbprint: string;
}

function pairFor(alg: DpopKeyAlgorithm): KeyObject {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ES512':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey;
    default:
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }
}

/** Wraps a private key as a DPoP key for `alg`. */
export function toDpopKey(privateKey: KeyObject, alg: DpopAlgorithm): DpopKey {
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  const thumbprint = jwkThumbprint(publicJwk);
  if (thumbprint === undefined) throw new Error(`a ${alg} key has no RFC 7638 thumbprint`);
  return { alg, privateKey, publicJwk, thumbprint };
}

/** Generates a fresh DPoP key (ES256 by default: small proofs, fast signing). */
export function generateDpopKey(alg: DpopKeyAlgorithm = 'ES256'): DpopKey {
  return toDpopKey(pairFor(alg), alg);
}

/** Reads a key file written by {@link persistedDpopKey}. Throws with the file name when it is not one. */
export function readDpopKeyFile(file: string): DpopKey {
  let stored: { alg?: unknown; jwk?: unknown };
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch (err) {
    throw new Error(`${file} is not a DPoP key file (${(err as Error).message})`);
  }
  if (typeof stored.alg !== 'string' || typeof stored.jwk !== 'object' || stored.jwk === null)
    throw new Error(`${file} is not a DPoP key file (needs "alg" and "jwk")`);
  return toDpopKey(privateKeyFromJwk(stored.jwk as Record<string, unknown>), stored.alg as DpopAlgorithm);
}

/** The key in `file`, created (with `alg`) on first use and reused afterwards. */
export function persistedDpopKey(
  file: string = DEFAULT_DPOP_KEY_FILE,
  alg: DpopKeyAlgorithm = 'ES256',
): DpopKey {
  if (existsSync(file)) return readDpopKeyFile(file);
  const key = generateDpopKey(alg);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ alg, jwk: key.privateKey.export({ format: 'jwk' }) }), {
    mode: 0o600,
  });
  return key;
}
