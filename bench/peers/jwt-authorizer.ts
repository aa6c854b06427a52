/**
 * The peer a user would write instead of Gatehouse's JWT authorizer: jsonwebtoken + jwks-rsa, the
 * pattern of most tutorials. Used only by the cold-start and bundle-size sections of the benchmark;
 * it is deliberately plain (no route table, one Allow for the called method) and not for production.
 */

import jsonwebtoken, { type JwtHeader } from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';

const issuer = process.env.PEER_ISSUER ?? '';
const audience = process.env.PEER_AUDIENCE ?? '';
const client = jwksRsa({ jwksUri: process.env.PEER_JWKS_URI ?? '', cache: true, rateLimit: true });

function keyFor(header: JwtHeader, callback: (err: Error | null, key?: string) => void): void {
  client.getSigningKey(header.kid, (err, key) => callback(err, key?.getPublicKey()));
}

interface RequestEvent {
  readonly methodArn: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/** A REST REQUEST authorizer: Bearer token in, IAM policy out; `Unauthorized` for anything bad. */
export const handler = async (event: RequestEvent) => {
  const header = event.headers?.Authorization ?? event.headers?.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  const claims = await new Promise<jsonwebtoken.JwtPayload>((resolve, reject) =>
    jsonwebtoken.verify(
      token,
      keyFor,
      { algorithms: ['RS256', 'ES256'], issuer, audience },
      (err, decoded) =>
        err || typeof decoded !== 'object' ? reject(new Error('Unauthorized')) : resolve(decoded),
    ),
  );
  return {
    principalId: String(claims.sub),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [event.methodArn] }],
    },
    context: { scopes: String(claims.scope ?? '') },
  };
};
