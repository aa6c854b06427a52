// The bearer-token reader's one-regex path must accept exactly what the step-by-step rules accept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthorizerRequest } from '../../../shared/apigw/authorizer-request.ts';
import { bearerCandidate, readBearerToken } from '../../../shared/apigw/credentials.ts';

/** The rules written out one by one (RFC 6750 §2.1): the reference the fast path is held to. */
function stepByStep(value: string): string | undefined {
  const match = /^([A-Za-z]+) +(\S+)$/.exec(value.trim());
  if (match === null || (match[1] as string).toLowerCase() !== 'bearer') return undefined;
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(match[2] as string) ? match[2] : undefined;
}

function requestWith(authorization: string): AuthorizerRequest {
  return {
    kind: 'rest-request',
    format: 'policy',
    arn: {} as AuthorizerRequest['arn'],
    method: 'GET',
    path: '/orders',
    domainName: undefined,
    stage: undefined,
    routeTemplate: '/orders',
    headers: new Map([['authorization', [authorization]]]),
    query: new Map(),
    sourceIp: undefined,
    requestId: undefined,
  };
}

describe('readBearerToken', () => {
  it('accepts exactly the headers the step-by-step rules accept, with the same token', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BeArEr',
      'Basic',
      'Bearerx',
      ' ',
      '  ',
      '\t',
      '\n',
      '\u00a0',
      'eyJh',
      '.',
      'c2ln',
      '_-',
      '+',
      '=',
      'é',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }).map((parts) => parts.join('')),
        (value) => {
          const result = readBearerToken(requestWith(value));
          const expected = stepByStep(value);
          expect(result.ok ? result.value : undefined).toBe(expected);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('reads, without scanning, the same token whenever the rules accept one (bearerCandidate)', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'Basic',
      ' ',
      '  ',
      '\t',
      ',',
      'eyJh',
      '.',
      'c2ln',
      '_-',
      '+',
      'é',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }).map((parts) => parts.join('')),
        (value) => {
          const request = requestWith(value);
          const read = readBearerToken(request);
          const candidate = bearerCandidate(request);
          // Accepted by the rules ⇒ the candidate is that token.
          if (read.ok) expect(candidate).toBe(read.value);
          // A candidate the verifier could accept (a compact JWS) ⇒ the rules accept it too.
          if (candidate !== undefined && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(candidate))
            expect(read).toEqual({ ok: true, value: candidate });
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
