/**
 * Section 5: the credentials authorizer against dynalite on loopback, wired as its handler wires it
 * (config from an environment, the production DynamoDB client and store): an API key answered from
 * the record cache, an API key looked up (cache disabled), HTTP Basic with scrypt (cache disabled,
 * so every call counts an attempt and derives), an unknown user against a wrong password (what the
 * lockout and the dummy hash must make look alike), and the floor: a bare GetItem to the same
 * server through the functions' own client (shared/aws/json-call.ts), with the SDK's GetItem
 * beside it for comparison.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LOOPBACK_CREDENTIALS } from '../shared/aws/credentials.ts';
import type { AwsJsonCaller } from '../shared/aws/json-call.ts';
import { createKey, createUser } from '../shared/credentials/admin.ts';
import { createDynamoClient, dynamoAdminStore } from '../shared/credentials/dynamo-admin.ts';
import { keyPk, PARTITION_KEY } from '../shared/credentials/dynamo-store.ts';
import type { Observer } from '../shared/observability/observer.ts';
import { startEmbeddedDynamo } from '../tools/local/dynamo.ts';
import type { Ours } from './bundles.ts';
import { restAuthorizerEvent } from './events.ts';
import { type Measurement, type MeasureOptions, measure, measureGroup } from './harness.ts';

/** The section's measurements. */
export interface CredentialsResult {
  readonly description: string;
  /** Bare GetItem. */
  readonly floor: Measurement;
  readonly hit: Measurement;
  readonly miss: Measurement;
  readonly basic: Measurement;
  /** Basic with the cache off: a name that has no user, and a user with a wrong password. */
  readonly basicUnknown: Measurement;
  readonly basicWrong: Measurement;
  readonly rows: readonly Measurement[];
  /** DynamoDB commands sent per decision (by command name) on a miss, and on a hit. */
  readonly getItemsPerMiss: string;
  readonly getItemsPerHit: string;
}

const TABLE = 'CredentialsTable';
const TABLE_DEFINITION = {
  name: TABLE,
  keySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' as const }],
  attributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: 'S' as const }],
};
const noopObserver: Observer = { decision() {}, warn() {} };

function eventWith(headers: Record<string, string>): Record<string, unknown> {
  return restAuthorizerEvent(headers);
}

/** A caller that counts the operations sent through `client`, by name. */
function countingCaller(client: AwsJsonCaller): { caller: AwsJsonCaller; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    caller: {
      call(operation, input, options) {
        counts.set(operation, (counts.get(operation) ?? 0) + 1);
        return client.call(operation, input, options);
      },
    },
  };
}

function describeCounts(counts: Map<string, number>, per: number): string {
  if (counts.size === 0) return '0';
  return [...counts].map(([name, n]) => `${(n / per).toFixed(2)} ${name}`).join(', ');
}

/** Users (and as many names without one) the unknown-vs-wrong timing cycles through. */
const TIMING_POOL = 12;

/** Calls `authorize` and requires a 401: a timing case that answered otherwise measures nothing. */
async function expectUnauthorized(authorize: Promise<unknown>, what: string): Promise<void> {
  const outcome = await authorize.then(
    (answer) => `answered ${JSON.stringify(answer)}`,
    (err: Error) => (err.message === 'Unauthorized' ? undefined : `failed: ${err.message}`),
  );
  if (outcome !== undefined) throw new Error(`bench: ${what} ${outcome}`);
}

function assertAllowed(answer: unknown, what: string): void {
  const effect = (answer as { policyDocument?: { Statement?: { Effect?: string }[] } }).policyDocument
    ?.Statement?.[0]?.Effect;
  if (effect !== 'Allow') throw new Error(`bench: ${what} was not allowed: ${JSON.stringify(answer)}`);
}

/** A table in an in-memory dynalite, with one API key hashed with `pepper` (for the cold-start section). */
export async function startSeededDynamo(pepper: string): Promise<{
  endpoint: string;
  table: string;
  apiKey: string;
  close(): Promise<void>;
}> {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const dynamo = await startEmbeddedDynamo({ path: null, tables: [TABLE_DEFINITION] });
  const client = createDynamoClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    connectTimeoutMs: 500,
    requestTimeoutMs: 2000,
    maxAttempts: 2,
  });
  try {
    const key = await createKey(
      dynamoAdminStore(client, TABLE, 2000),
      {
        scopes: ['orders:read'],
        tier: 'basic',
        allowedCidrs: [],
        clientId: 'bench-client',
        name: 'bench',
        environment: 'test',
        expiresAt: undefined,
        pepper,
      },
      Date.now(),
    );
    return { endpoint: dynamo.endpoint, table: TABLE, apiKey: key.secret, close: () => dynamo.close() };
  } finally {
    client.destroy();
  }
}

/** Runs section 5. */
export async function runCredentialsSection(
  ours: Ours,
  options: MeasureOptions = {},
): Promise<CredentialsResult> {
  // The SDK's default credential chain reads these; dynalite does not check them.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const dynamo = await startEmbeddedDynamo({
    path: null,
    tables: [TABLE_DEFINITION],
  });
  const closers: (() => void)[] = [];
  try {
    const env = {
      CREDENTIALS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      API_KEY_ENVIRONMENT: 'test',
      HTTP_API_SIMPLE_RESPONSES: 'false',
      AWS_REGION: 'us-east-1',
    };
    const hasher = ours.createPasswordHasher();
    const authorizerFor = (cacheSize: number, extra: Record<string, string> = {}) => {
      const config = ours.readKeyAuthorizerConfig({
        ...env,
        CREDENTIAL_CACHE_SIZE: String(cacheSize),
        ...extra,
      });
      const client = ours.dynamoClientFor(config, LOOPBACK_CREDENTIALS);
      closers.push(() => client.close());
      const { caller, counts } = countingCaller(client);
      const authorize = ours.keyAuthorizerFromConfig(config, {
        dynamo: caller,
        credentials: LOOPBACK_CREDENTIALS,
        passwords: hasher,
        routes: ours.ROUTES,
        clock: Date.now,
        observer: noopObserver,
      });
      return { authorize, counts };
    };

    const adminClient = createDynamoClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      connectTimeoutMs: 500,
      requestTimeoutMs: 2000,
      maxAttempts: 2,
    });
    closers.push(() => adminClient.destroy());
    const admin = dynamoAdminStore(adminClient, TABLE, 2000);
    const grant = { scopes: ['orders:read', 'orders:write'], tier: 'basic', allowedCidrs: [] };
    const now = Date.now();
    const key = await createKey(
      admin,
      {
        ...grant,
        clientId: 'bench-client',
        name: 'bench',
        environment: 'test',
        expiresAt: undefined,
        pepper: undefined,
      },
      now,
    );
    const user = await createUser(
      admin,
      hasher,
      { ...grant, username: 'bench-user', password: undefined, clientId: 'bench-basic' },
      now,
    );
    const keyEvent = eventWith({ 'x-api-key': key.secret });
    const basicEvent = eventWith({
      Authorization: `Basic ${Buffer.from(`bench-user:${user.secret}`).toString('base64')}`,
    });

    const cached = authorizerFor(1000);
    const uncached = authorizerFor(0);
    // No lock in the way: each name is tried a few times only, well under the limit.
    const timing = authorizerFor(1000, { CREDENTIAL_CACHE_TTL_SECONDS: '0', BASIC_MAX_FAILURES: '100' });
    // Users with the default scrypt parameters, as the dummy hash has them.
    for (let n = 0; n < TIMING_POOL; n++)
      await createUser(
        admin,
        hasher,
        { ...grant, username: `timing-user-${n}`, password: undefined, clientId: undefined },
        now,
      );
    const basicWith = (username: string) =>
      eventWith({ Authorization: `Basic ${Buffer.from(`${username}:not-the-password`).toString('base64')}` });
    assertAllowed(await cached.authorize(keyEvent), 'the API key (cached)');
    assertAllowed(await uncached.authorize(keyEvent), 'the API key (uncached)');
    assertAllowed(await uncached.authorize(basicEvent), 'the Basic user');
    // Verified once here, so the harness's warm-up sizes its batches on hits, not on this scrypt.
    assertAllowed(await cached.authorize(basicEvent), 'the Basic user (cached)');

    const floorConfig = ours.readKeyAuthorizerConfig(env);
    const floorClient = ours.dynamoClientFor(floorConfig, LOOPBACK_CREDENTIALS);
    closers.push(() => floorClient.close());
    const getItemInput = {
      TableName: TABLE,
      Key: { [PARTITION_KEY]: { S: keyPk(key.record.keyId) } },
      ConsistentRead: true,
    };
    const sdkClient = createDynamoClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      connectTimeoutMs: 500,
      requestTimeoutMs: 2000,
      maxAttempts: 2,
    });
    closers.push(() => sdkClient.destroy());
    const sdkGetItem = new GetItemCommand(getItemInput);
    // Count a fixed number of calls outside the timed loop (the harness's warm-up calls vary).
    const probe = 20;
    cached.counts.clear();
    for (let n = 0; n < probe; n++) await cached.authorize(keyEvent);
    const perHit = describeCounts(cached.counts, probe);
    uncached.counts.clear();
    for (let n = 0; n < probe; n++) await uncached.authorize(keyEvent);
    const perMiss = describeCounts(uncached.counts, probe);
    const [floor, sdkFloor, hit, miss, basicHit] = (await measureGroup(
      [
        {
          name: "bare GetItem, the functions' client (floor)",
          fn: () => floorClient.call('GetItem', getItemInput, { budgetMs: 2000 }),
        },
        { name: 'bare GetItem, the AWS SDK client', fn: () => sdkClient.send(sdkGetItem) },
        { name: 'API key, cache hit', fn: () => cached.authorize(keyEvent) },
        { name: 'API key, cache miss (one GetItem)', fn: () => uncached.authorize(keyEvent) },
        { name: 'Basic, verified-credential cache hit', fn: () => cached.authorize(basicEvent) },
      ],
      options,
    )) as Measurement[];
    const basic = await measure(
      'Basic, scrypt N=32768 every call (cache off)',
      () => uncached.authorize(basicEvent),
      { samples: Math.min(options.samples ?? 30, 10), warmupMs: 300, sampleMs: 1 },
    );
    // Interleaved, so machine load falls on both alike: the difference is what an attacker could
    // time to learn whether a name exists.
    const [basicUnknown, basicWrong] = (await measureGroup(
      [
        {
          name: 'Basic, unknown user (cache off)',
          fn: (i) =>
            expectUnauthorized(
              timing.authorize(basicWith(`timing-ghost-${i % TIMING_POOL}`)),
              'unknown user',
            ),
        },
        {
          name: 'Basic, wrong password (cache off)',
          fn: (i) =>
            expectUnauthorized(
              timing.authorize(basicWith(`timing-user-${i % TIMING_POOL}`)),
              'wrong password',
            ),
        },
      ],
      { samples: Math.min(options.samples ?? 30, 15), warmupMs: 1, sampleMs: 1 },
    )) as [Measurement, Measurement];
    return {
      description:
        'REST REQUEST events for `GET /orders/{id}`; the authorizer is built from its environment as its handler ' +
        'builds it. Cache miss = `CREDENTIAL_CACHE_SIZE=0`, so every call reads the record.',
      floor: floor as Measurement,
      hit: hit as Measurement,
      miss: miss as Measurement,
      basic,
      basicUnknown,
      basicWrong,
      rows: [
        sdkFloor as Measurement,
        hit as Measurement,
        miss as Measurement,
        basic,
        basicHit as Measurement,
        basicUnknown,
        basicWrong,
      ],
      getItemsPerMiss: perMiss,
      getItemsPerHit: perHit,
    };
  } finally {
    for (const close of closers) close();
    await dynamo.close();
  }
}
