// Every Wycheproof JWS/JWK vector and every RFC 7520 cookbook JWS, presented as a bearer token with
// the vector's key served as the issuer's JWKS on loopback: never Allow, never an unhandled error.
// Runs through the pure factory with the real verifier (430+ cases; a fresh key cache per group).
// Files: test/fixtures/wycheproof and test/fixtures/rfc7520 (see their ORIGIN.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterJwks } from '../../shared/jwt/jwks.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { hostileAuthorizer, restEvent } from './support/jwt-harness.ts';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures');
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

type Jwk = Record<string, unknown>;
interface Vector {
  readonly name: string;
  readonly keys: Jwk[];
  /** Compact serialization, or a JSON serialization sent as its JSON text. */
  readonly jws: string;
}

/** Public half of a JWK (symmetric `k` stays: the loader must drop `oct` keys itself). */
function publicOf(jwk: Jwk): Jwk {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name)));
}

function keysOf(material: unknown): Jwk[] {
  if (material === undefined || material === null) return [];
  const m = material as { keys?: Jwk[] };
  return (Array.isArray(m.keys) ? m.keys : [material as Jwk]).map(publicOf);
}

function load(file: string): {
  testGroups: {
    comment: string;
    public?: unknown;
    private?: unknown;
    tests: { tcId: number; comment: string; jws: unknown }[];
  }[];
} {
  return JSON.parse(readFileSync(join(FIXTURES, 'wycheproof', file), 'utf8'));
}

function wycheproof(file: string): Vector[] {
  return load(file).testGroups.flatMap((group) =>
    group.tests.map((test) => ({
      name: `${file} #${test.tcId} ${group.comment} ${test.comment}`.trim(),
      keys: keysOf(group.public ?? group.private),
      jws: typeof test.jws === 'string' ? test.jws : JSON.stringify(test.jws),
    })),
  );
}

function cookbook(): Vector[] {
  const dir = join(FIXTURES, 'rfc7520');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        input: { key: Jwk | Jwk[] };
        output: { compact?: string; json?: unknown; json_flat?: unknown };
      };
      const keys = (Array.isArray(doc.input.key) ? doc.input.key : [doc.input.key]).map(publicOf);
      const forms = Object.entries(doc.output).map(([form, value]) => ({
        name: `rfc7520 ${file} ${form}`,
        keys,
        jws: typeof value === 'string' ? value : JSON.stringify(value),
      }));
      return forms;
    });
}

const SIGNATURES = wycheproof('json_web_signature_test.json');
const KEYS = wycheproof('json_web_key_test.json');
const COOKBOOK = cookbook();

let jwks: JwksServer;
beforeAll(async () => {
  jwks = await startJwksServer();
});
afterAll(async () => {
  await jwks.close();
});

async function present(vector: Vector): Promise<number> {
  jwks.setKeys(vector.keys);
  // A fresh verifier per vector: its key cache must not hold the previous vector's keys.
  const { authorize } = hostileAuthorizer(jwks.jwksUri);
  return authorize(restEvent(`Bearer ${vector.jws}`));
}

describe('JOSE corpora as bearer tokens', () => {
  it('covers every vector of both Wycheproof files and the cookbook', () => {
    expect(SIGNATURES.length).toBe(401);
    expect(KEYS.length).toBe(26);
    expect(COOKBOOK.length).toBeGreaterThanOrEqual(20);
  });

  it.each(SIGNATURES.map((v) => [v.name, v] as const))('%s → 401', async (_name, vector) => {
    expect(await present(vector)).toBe(401);
  });

  it.each(KEYS.map((v) => [v.name, v] as const))('%s → 401', async (_name, vector) => {
    expect(await present(vector)).toBe(401);
  });

  it.each(COOKBOOK.map((v) => [v.name, v] as const))('%s → 401', async (_name, vector) => {
    expect(await present(vector)).toBe(401);
  });
});

describe('JWKS loader on the Wycheproof key sets', () => {
  const groups = load('json_web_key_test.json').testGroups;

  it.each([
    ['keysize_too_small', 'rsa_modulus_too_small'],
    ['exponentOne', 'rsa_exponent_not_65537'],
    ['jws_duplicate_kid', 'kid_duplicate'],
    ['jws_mixedSymmetryKeyset', 'symmetric_key'],
    ['invalid_use', 'use_not_sig'],
  ])('drops the weak or ambiguous keys of %s (%s)', (comment, reason) => {
    const group = groups.find((g) => g.comment === comment);

    const { dropped } = filterJwks({ keys: keysOf(group?.public ?? group?.private) });

    expect(dropped.map((d) => d.reason)).toContain(reason);
  });

  it('never keeps an RSA key under 2048 bits or with e other than 65537', () => {
    const kept = groups.flatMap((g) => filterJwks({ keys: keysOf(g.public ?? g.private) }).jwks.keys);

    for (const key of kept.filter((k) => k.kty === 'RSA')) {
      expect(key.e).toBe('AQAB');
      expect(Buffer.from(String(key.n), 'base64url').length).toBeGreaterThanOrEqual(256);
    }
  });
});
