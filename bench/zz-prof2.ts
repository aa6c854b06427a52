import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from 'aws-jwt-verify';
import { readJwtAuthorizerConfig } from '../shared/jwt/config.ts';
import { createTokenVerifier } from '../shared/jwt/verifier.ts';
import { signJwt } from '../tools/issuer/sign.ts';
import { measure } from './harness.ts';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: 'k', alg: 'RS256', use: 'sig' };
const jwks = { keys: [jwk] };
const server = createServer((_q, r) => r.end(JSON.stringify(jwks)));
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
const iss = `http://127.0.0.1:${(server.address() as AddressInfo).port}/i`;
const now = Math.floor(Date.now()/1000);
const toks = Array.from({length: 2048}, (_, n) => signJwt({alg:'RS256',kid:'k',typ:'JWT'},{iss,aud:'a',sub:'u'+n,scope:'orders:read',iat:now,exp:now+3600,jti:'j'+n},privateKey));
const config = readJwtAuthorizerConfig({ JWT_ISSUERS: JSON.stringify([{ issuer: iss, audience: 'a' }]) });
const v = createTokenVerifier(config); await v.prefetch();
const cache0 = createTokenVerifier({ ...config, tokenCacheSize: 0 }); await cache0.prefetch();
const a = JwtVerifier.create({ issuer: iss, audience: 'a', jwksUri: `${iss}/.well-known/jwks.json` }); a.cacheJwks(jwks as never);
const o = { samples: 15, warmupMs: 100, sampleMs: 5 };
for (let round = 0; round < 2; round++)
for (const [n, f] of [
 ['awsjv', (i: number) => a.verify(toks[i % 2048]!)],
 ['awsjvSync', (i: number) => a.verifySync(toks[i % 2048]!)],
 ['ours', (i: number) => v.verify(toks[i % 2048]!, Date.now())],
 ['ours-nocache', (i: number) => cache0.verify(toks[i % 2048]!, Date.now())],
 ['ours-repeat', () => v.verify(toks[0]!, Date.now())],
] as const) { const m = await measure(n, f as never, o); console.log(n, (m.medianNs/1000).toFixed(2)); }
server.close();
