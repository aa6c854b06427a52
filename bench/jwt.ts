/**
 * Section 1: the JWT decision, warm, keys already loaded. Our full decision path (REST REQUEST
 * event in, IAM policy out, through `createJwtAuthorizer` and the real `createTokenVerifier` with
 * its JWKS served on loopback and prefetched) against aws-jwt-verify alone, jose, jsonwebtoken,
 * fast-jwt, and the floor: `crypto.verify` with a pre-imported KeyObject.
 */
import { createPublicKey, verify as cryptoVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from 'aws-jwt-verify';
import { createVerifier as fastJwtVerifier } from 'fast-jwt';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import type { Observer } from '../shared/observability/observer.ts';
import { signJwt } from '../tools/issuer/sign.ts';
import type { Ours } from './bundles.ts';
import { restAuthorizerEvent } from './events.ts';
import { type Case, type Measurement, type MeasureOptions, measureGroup } from './harness.ts';

/** The algorithms compared. */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** One algorithm's measurements. */
export interface JwtAlgorithmResult {
  readonly alg: JwtAlgorithm;
  /** crypto.verify with a pre-imported key (the floor). */
  readonly floor: Measurement;
  /** Our decision path, a token never seen before. */
  readonly oursFirstSeen: Measurement;
  /** Our decision path, the same token again (verified-token cache). */
  readonly oursRepeated: Measurement;
  /** Our token verifier alone (no event, no policy), a token never seen before. */
  readonly verifierFirstSeen: Measurement;
  /** Our token verifier alone (no event, no policy), the same token again. */
  readonly verifierRepeated: Measurement;
  /** Peers, each verifying a fresh token; `undefined` where the peer lacks the algorithm. */
  readonly peers: readonly (Measurement | { readonly name: string; readonly unsupported: string })[];
  /** fast-jwt with its own token cache, the same token again. */
  readonly peerRepeated: Measurement;
  /** Parts of our path timed alone: where the time over the floor goes. */
  readonly parts: readonly Measurement[];
}

const ISSUER_PATH = '/bench-issuer';
const AUDIENCE = 'gatehouse-bench';
/** More tokens than the verified-token cache holds (1000), cycled in order: every use is a miss. */
const POOL = 2048;

const noopObserver: Observer = { decision() {}, warn() {} };

interface Key {
  readonly alg: JwtAlgorithm;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Record<string, unknown>;
  readonly pem: string;
}

function makeKey(alg: JwtAlgorithm): Key {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const kid = `bench-${alg.toLowerCase()}`;
  const publicKey = createPublicKey(pair.privateKey);
  return {
    alg,
    kid,
    privateKey: pair.privateKey,
    publicKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

function mintPool(key: Key, issuer: string, count: number): string[] {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let n = 0; n < count; n++) {
    tokens.push(
      signJwt(
        { alg: key.alg, kid: key.kid, typ: 'JWT' },
        {
          iss: issuer,
          aud: AUDIENCE,
          sub: `user-${n}`,
          client_id: 'bench-client',
          scope: 'orders:read orders:write',
          iat: now,
          exp: now + 3600,
          jti: `t-${n}`,
        },
        key.privateKey,
      ),
    );
  }
  return tokens;
}

/** Node's own verification of a compact JWS: split, decode, `crypto.verify`. Nothing else. */
function floorVerify(token: string, key: Key): boolean {
  const dot = token.lastIndexOf('.');
  const input = Buffer.from(token.slice(0, dot));
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  return key.alg === 'EdDSA'
    ? cryptoVerify(null, input, key.publicKey, signature)
    : cryptoVerify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

function assertAllowed(answer: unknown): void {
  const statement = (answer as { policyDocument?: { Statement?: { Effect?: string }[] } }).policyDocument
    ?.Statement?.[0];
  if (statement?.Effect !== 'Allow')
    throw new Error(`bench: expected an Allow, got ${JSON.stringify(answer)}`);
}

/** Runs section 1. */
export async function runJwtSection(
  ours: Ours,
  options: MeasureOptions = {},
  log: (line: string) => void = () => {},
): Promise<JwtAlgorithmResult[]> {
  const keys = JWT_ALGORITHMS.map(makeKey);
  const jwks = { keys: keys.map((k) => k.jwk) };
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === `${ISSUER_PATH}/.well-known/jwks.json` ? JSON.stringify(jwks) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ISSUER_PATH}`;
  try {
    const config = ours.readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([{ issuer, audience: AUDIENCE }]),
    });
    const verifier = ours.createTokenVerifier(config);
    // A second verifier for the verifier-alone case, so the two never share cached tokens.
    const verifierAlone = ours.createTokenVerifier(config);
    const failed = [...(await verifier.prefetch()), ...(await verifierAlone.prefetch())];
    if (failed.length > 0) throw new Error(`bench: JWKS prefetch failed for ${failed.join(', ')}`);
    const authorize = ours.createJwtAuthorizer({
      verifier,
      routes: ours.ROUTES,
      simpleResponses: false,
      clock: Date.now,
      observer: noopObserver,
      senderConstraint: ours.withoutDpop(),
    });

    const awsJwtVerify = JwtVerifier.create({
      issuer,
      audience: AUDIENCE,
      jwksUri: `${issuer}/.well-known/jwks.json`,
    });
    awsJwtVerify.cacheJwks(jwks as never);
    const joseKeys = createLocalJWKSet(jwks as never);

    const results: JwtAlgorithmResult[] = [];
    for (const key of keys) {
      log(`  jwt ${key.alg}: minting ${POOL} tokens`);
      const tokens = mintPool(key, issuer, POOL);
      const events = tokens.map((t) => restAuthorizerEvent({ Authorization: `Bearer ${t}` }));
      const one = events[0] as Record<string, unknown>;
      assertAllowed(await authorize(one));
      const pick = (i: number) => tokens[i % POOL] as string;

      const fastJwtOptions = {
        key: key.pem,
        algorithms: [key.alg],
        allowedIss: issuer,
        allowedAud: AUDIENCE,
      };
      // The decision around the verifier: the same authorizer with a verifier that answers at once
      // (one claims object, not marked cached, so the identity is derived every time).
      const claims = JSON.parse(Buffer.from(pick(0).split('.')[1] as string, 'base64url').toString());
      const issuerConfig = config.issuers[0] as (typeof config.issuers)[number];
      const decisionOnly = ours.createJwtAuthorizer({
        verifier: {
          verify: () => ({ ok: true, claims, issuer: issuerConfig, cached: false }),
          prefetch: async () => [],
        },
        routes: ours.ROUTES,
        simpleResponses: false,
        clock: Date.now,
        observer: noopObserver,
        senderConstraint: ours.withoutDpop(),
      });
      const issuers = new Map([[issuer, issuerConfig]]);
      const headers = new ours.HeaderCache();
      const fast = fastJwtVerifier(fastJwtOptions);
      const fastCached = fastJwtVerifier({ ...fastJwtOptions, cache: true });
      const floorCase: Case = { name: 'crypto.verify (floor)', fn: (i) => floorVerify(pick(i), key) };
      // Two round-robin groups, each with the floor: ours, then the peers. The peers' garbage (jose's
      // above all) would otherwise be collected during our batches and billed to us, and ours to them.
      const oursCases: Case[] = [
        floorCase,
        { name: 'Gatehouse decision, first-seen token', fn: (i) => authorize(events[i % POOL]) },
        { name: 'Gatehouse decision, repeated token', fn: () => authorize(one) },
        {
          name: 'Gatehouse verifier alone, first-seen token',
          fn: (i) => verifierAlone.verify(pick(i), Date.now()),
        },
        {
          name: 'Gatehouse verifier alone, repeated token',
          fn: () => verifier.verify(tokens[0] as string, Date.now()),
        },
        {
          name: '  part: precheck (split, base64url, strict JSON of header and payload)',
          fn: (i) => ours.precheck(pick(i), issuers, undefined, headers),
        },
        { name: '  part: decision around an instant verifier', fn: (i) => decisionOnly(events[i % POOL]) },
      ];
      const peerCases: Case[] = [
        floorCase,
        { name: 'aws-jwt-verify', fn: (i) => awsJwtVerify.verify(pick(i)) },
        {
          name: 'jose',
          fn: (i) => jwtVerify(pick(i), joseKeys, { issuer, audience: AUDIENCE, algorithms: [key.alg] }),
        },
        { name: 'fast-jwt', fn: (i) => fast(pick(i)) },
        { name: 'fast-jwt (cache: true), repeated token', fn: () => fastCached(pick(0)) },
      ];
      const unsupported: { name: string; unsupported: string }[] = [];
      if (key.alg === 'EdDSA')
        unsupported.push({ name: 'jsonwebtoken', unsupported: 'jsonwebtoken 9 has no EdDSA' });
      else
        peerCases.push({
          name: 'jsonwebtoken',
          fn: (i) =>
            jsonwebtoken.verify(pick(i), key.pem, {
              algorithms: [key.alg as 'RS256' | 'ES256'],
              issuer,
              audience: AUDIENCE,
            }),
        });
      const [
        floor,
        oursFirstSeen,
        oursRepeated,
        verifierFirstSeen,
        verifierRepeated,
        precheckM,
        decisionOnlyM,
      ] = (await measureGroup(oursCases, options)) as Measurement[];
      const [peerFloor, ...peerRows] = (await measureGroup(peerCases, options)) as Measurement[];
      // The peers' times on the first group's scale: their ratio to the floor is what was measured.
      const scale = (floor as Measurement).medianNs / (peerFloor as Measurement).medianNs;
      const [awsJwtVerifyM, joseM, fastM, peerRepeated, jsonwebtokenM] = peerRows.map((m) => ({
        ...m,
        medianNs: m.medianNs * scale,
        p99Ns: m.p99Ns * scale,
        opsPerSecond: m.opsPerSecond / scale,
      }));
      const peers: JwtAlgorithmResult['peers'][number][] = [
        awsJwtVerifyM as Measurement,
        joseM as Measurement,
        jsonwebtokenM ?? (unsupported[0] as { name: string; unsupported: string }),
        fastM as Measurement,
      ];
      results.push({
        alg: key.alg,
        floor: floor as Measurement,
        oursFirstSeen: oursFirstSeen as Measurement,
        oursRepeated: oursRepeated as Measurement,
        verifierFirstSeen: verifierFirstSeen as Measurement,
        verifierRepeated: verifierRepeated as Measurement,
        peers,
        peerRepeated: peerRepeated as Measurement,
        parts: [precheckM as Measurement, decisionOnlyM as Measurement],
      });
    }
    return results;
  } finally {
    server.close();
  }
}
