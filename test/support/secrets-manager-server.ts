// A loopback HTTP server speaking Secrets Manager's JSON protocol (awsJson1.1) for GetSecretValue,
// so the functions' real reader runs against it: request signing, serialization, retries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers the next requests. */
export type SecretsManagerMode = 'ok' | 'internal' | 'denied' | 'hang';

/** A running fake Secrets Manager. */
export interface FakeSecretsManager {
  /** `SECRETS_MANAGER_ENDPOINT` for the functions. */
  readonly endpoint: string;
  /** Sets (or rotates) a secret's current string value. */
  put(secretId: string, value: string): void;
  /** Answer every following request this way. */
  mode(mode: SecretsManagerMode): void;
  /** GetSecretValue requests received, per secret id. */
  reads(secretId: string): number;
  /** Every request's Authorization header (all must be SigV4 for service secretsmanager). */
  readonly authorizations: readonly string[];
  close(): Promise<void>;
}

/** Starts the fake on a random loopback port. */
export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const values = new Map<string, string>();
  const counts = new Map<string, number>();
  const authorizations: string[] = [];
  let mode: SecretsManagerMode = 'ok';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      authorizations.push(String(req.headers.authorization ?? ''));
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      let secretId = '';
      try {
        secretId = String(
          (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId,
        );
      } catch {
        return reply(400, { __type: 'InvalidRequestException', message: 'not JSON' });
      }
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
        return reply(400, { __type: 'InvalidRequestException', message: 'only GetSecretValue is served' });
      counts.set(secretId, (counts.get(secretId) ?? 0) + 1);
      if (mode === 'hang') return; // never answer
      if (mode === 'internal')
        return reply(500, { __type: 'InternalServiceError', message: 'internal error' });
      if (mode === 'denied')
        return reply(400, {
          __type: 'AccessDeniedException',
          message: 'not authorized to perform GetSecretValue',
        });
      const value = values.get(secretId);
      if (value === undefined)
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      return reply(200, {
        ARN: secretId,
        Name: secretId.split(':').pop(),
        SecretString: value,
        VersionId: `v${counts.get(secretId)}`,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_767_225_600,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    put: (secretId, value) => values.set(secretId, value),
    mode: (m) => {
      mode = m;
    },
    reads: (secretId) => counts.get(secretId) ?? 0,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
