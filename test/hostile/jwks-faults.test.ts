// Fault injection for the JWT authorizer's one dependency, the JWKS endpoint: unreachable, slow,
// failing, denying, garbage. Expected: never Allow, an answer (503, nothing cached by API Gateway)
// within a bounded time, and recovery: once the endpoint is back and aws-jwt-verify's 10 s back-off
// has passed, the next valid token is allowed (no failure was remembered as a Deny).
import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPortUrl, type JwksMode, startJwksServer } from '../support/jwks-server.ts';
import { testKey } from '../support/keys.ts';
import { startBundle } from './support/bundle.ts';
import {
  claims,
  hostileAuthorizer,
  issuersEnv,
  restEvent,
  sign,
  statusOfInvocation,
} from './support/jwt-harness.ts';

const key = testKey('RS256', 'rsa-faults');
const token = () => `Bearer ${sign({ alg: 'RS256', kid: key.kid }, claims(), key.privateKey, 'RS256')}`;
/** JWKS download budget in these tests; the bound on an answer allows for a loaded 2-core box. */
const JWKS_TIMEOUT_MS = 400;
const ANSWER_BOUND_MS = 3000;
const BACKOFF_MS = 10_000;
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Serves the JWKS on a given port (to bring a "closed" endpoint back). */
async function serveOn(url: string, keys: readonly Record<string, unknown>[]): Promise<() => Promise<void>> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })),
  );
  await new Promise<void>((resolve) => server.listen(Number(new URL(url).port), '127.0.0.1', resolve));
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('JWKS endpoint faults (pure factory, real verifier)', () => {
  const MODES: readonly JwksMode[] = ['error-500', 'forbidden-403', 'hang', 'not-json'];

  it('answers 503 within the bound for every failure mode, then allows again after recovery', async () => {
    // All modes at once, each with its own server and authorizer: one back-off wait for all of them.
    const runs = await Promise.all(
      [...MODES, 'closed-port' as const].map(async (mode) => {
        let jwksUri: string;
        let recover: () => Promise<void>;
        if (mode === 'closed-port') {
          jwksUri = await closedPortUrl();
          recover = async () => {
            closers.push(await serveOn(jwksUri, [key.jwk]));
          };
        } else {
          const server = await startJwksServer([key.jwk]);
          closers.push(() => server.close());
          server.setMode(mode);
          jwksUri = server.jwksUri;
          recover = async () => server.setMode('ok');
        }
        const { authorize } = hostileAuthorizer(jwksUri, { JWT_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS) });

        const first = await timed(authorize(restEvent(token())));
        const again = await timed(authorize(restEvent(token())));
        await recover();
        await sleep(BACKOFF_MS + 500);
        const recovered = await authorize(restEvent(token()));
        return { mode, first, again, recovered };
      }),
    );

    for (const run of runs) {
      expect({ mode: run.mode, status: run.first.value }).toEqual({ mode: run.mode, status: 503 });
      expect({ mode: run.mode, status: run.again.value }).toEqual({ mode: run.mode, status: 503 });
      expect(run.first.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(run.again.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect({ mode: run.mode, status: run.recovered }).toEqual({ mode: run.mode, status: 200 });
    }
  }, 40_000);

  it('keeps allowing known keys while the JWKS endpoint fails after a successful load', async () => {
    const server = await startJwksServer([key.jwk]);
    closers.push(() => server.close());
    const { authorize } = hostileAuthorizer(server.jwksUri, { JWT_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS) });
    expect(await authorize(restEvent(token()))).toBe(200);
    server.setMode('error-500');

    const unknownKid = await authorize(
      restEvent(`Bearer ${sign({ alg: 'RS256', kid: 'rotated-away' }, claims(), key.privateKey, 'RS256')}`),
    );
    const known = await authorize(restEvent(token()));

    // An unknown kid needs a refetch, which fails: 503 (maybe a rotated key) or 401 (in back-off).
    expect([401, 503]).toContain(unknownKid);
    expect(known).toBe(200);
  });
});

describe('JWKS endpoint faults (real built bundle)', () => {
  it('answers AuthorizerFailureError (503) within the bound when the JWKS port is closed', async () => {
    const jwksUri = await closedPortUrl();
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(jwksUri),
      JWT_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS),
      HTTP_API_SIMPLE_RESPONSES: 'false',
    });
    closers.push(() => bundle.close());
    const event = restEvent(token());
    await bundle.runtime.invoke(event); // cold start (prefetch fails)

    const { value: result, ms } = await timed(bundle.runtime.invoke(event));

    expect(statusOfInvocation(result, event.methodArn as string)).toBe(503);
    expect(ms).toBeLessThan(ANSWER_BOUND_MS);
  });

  it('answers AuthorizerFailureError (503) within the bound when the JWKS endpoint never answers', async () => {
    const server = await startJwksServer([key.jwk]);
    closers.push(() => server.close());
    server.setMode('hang');
    const bundle = await startBundle('JwtAuthorizerFunction', {
      JWT_ISSUERS: issuersEnv(server.jwksUri),
      JWT_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS),
      HTTP_API_SIMPLE_RESPONSES: 'false',
    });
    closers.push(() => bundle.close());
    const event = restEvent(token());

    const { value: result, ms } = await timed(bundle.runtime.invoke(event));

    expect(statusOfInvocation(result, event.methodArn as string)).toBe(503);
    expect(ms).toBeLessThan(ANSWER_BOUND_MS + 2000); // includes the cold start
  });
});
