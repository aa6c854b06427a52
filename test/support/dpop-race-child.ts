// One "Lambda container" in the replay race: its own process, its own DynamoDB client, the real
// verifier on the DynamoDB store. It says `ready`, waits for `go` on stdin, checks the proof it was
// given once, and prints the outcome as one JSON line.
import { createInterface } from 'node:readline';
import { LOOPBACK_CREDENTIALS } from '../../shared/aws/credentials.ts';
import { awsJsonClient, DYNAMODB } from '../../shared/aws/json-call.ts';
import { dynamoReplayStore } from '../../shared/dpop/dynamo-replay-store.ts';
import { createDpopVerifier, DPOP_DEFAULTS } from '../../shared/dpop/proof.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const now = Number(env('RACE_NOW_MS'));
const client = awsJsonClient({
  service: DYNAMODB,
  region: 'us-east-1',
  endpoint: env('RACE_ENDPOINT'),
  credentials: LOOPBACK_CREDENTIALS,
  connectTimeoutMs: 2000,
  requestTimeoutMs: 5000,
  maxAttempts: 2,
  maxResponseBytes: 64 * 1024,
  keepAlive: true,
});
const verifier = createDpopVerifier({
  ...DPOP_DEFAULTS,
  nonces: null,
  replay: dynamoReplayStore({ client, tableName: env('RACE_TABLE'), budgetMs: 10_000, now: () => now }),
});
const request = {
  proofs: [env('RACE_PROOF')],
  method: 'GET',
  publicUrl: env('RACE_URL'),
  accessToken: env('RACE_TOKEN'),
  boundThumbprint: env('RACE_JKT'),
};
// Warm the client (its kept-alive connection) so that the race is about the conditional write.
await client.call('DescribeTable', { TableName: env('RACE_TABLE') }, { budgetMs: 10_000 });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  try {
    const result = await verifier.check(request, now);
    process.stdout.write(
      `${JSON.stringify(result.ok ? { ok: true } : { ok: false, reason: result.reason })}\n`,
    );
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).name })}\n`);
  }
  break;
}
lines.close();
client.close();
