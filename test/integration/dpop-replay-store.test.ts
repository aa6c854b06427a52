// The DynamoDB replay store against dynalite: one conditional write per proof, TTL attributes,
// fail-closed errors, and several real processes racing the same proof (exactly one wins).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsJsonCaller, AwsJsonClient } from '../../shared/aws/json-call.ts';
import { DPOP_REPLAY_TABLE_KEY, dynamoReplayStore } from '../../shared/dpop/dynamo-replay-store.ts';
import { ReplayStoreUnavailableError } from '../../shared/dpop/replay.ts';
import { type EmbeddedDynamo, localDynamoClient, startEmbeddedDynamo } from '../../tools/local/dynamo.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { keyFor, NOW_MS, proofFor, TOKEN, URL } from '../support/dpop.ts';
import { closedPortEndpoint, type Fault, functionDynamo, startFaultyDynamo } from '../support/dynalite.ts';

const TABLE = 'DpopReplayTable';
let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
let functionClient: AwsJsonClient;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({
    path: null,
    tables: [
      {
        name: TABLE,
        keySchema: DPOP_REPLAY_TABLE_KEY.keySchema,
        attributeDefinitions: DPOP_REPLAY_TABLE_KEY.attributeDefinitions,
      },
    ],
  });
  client = localDynamoClient(dynamo.endpoint);
  functionClient = functionDynamo(dynamo.endpoint);
});
afterAll(async () => {
  client.destroy();
  functionClient.close();
  await dynamo.close();
});

const storeAt = (now: number, c: AwsJsonCaller = functionClient, budgetMs = 5000, tableName = TABLE) =>
  dynamoReplayStore({ client: c, tableName, budgetMs, now: () => now });

describe('DynamoDB replay store', () => {
  it('claims a proof once, and again only after it expired', async () => {
    const expiresAt = NOW_MS + 60_000;
    expect(await storeAt(NOW_MS).claim('jti-a', URL, expiresAt)).toBe('fresh');
    expect(await storeAt(NOW_MS).claim('jti-a', URL, expiresAt)).toBe('replayed');
    expect(await storeAt(NOW_MS).claim('jti-a', `${URL}/other`, expiresAt)).toBe('fresh');
    // TTL deletes late: an expired item still in the table does not block a new claim.
    expect(await storeAt(expiresAt + 1).claim('jti-a', URL, expiresAt + 60_000)).toBe('fresh');
  });

  it('stores a hashed key, the expiry and a TTL, and nothing the client sent', async () => {
    await storeAt(NOW_MS).claim('jti-secret-looking', URL, NOW_MS + 60_000);
    const items = (await client.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    const text = JSON.stringify(items);
    expect(text).not.toContain('jti-secret-looking');
    expect(text).not.toContain('api.example.com');
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['expiresAt', 'pk', 'ttl']);
      expect(item.pk?.S).toMatch(/^dpop#[A-Za-z0-9_-]{43}$/);
      expect(Number(item.ttl?.N)).toBeGreaterThanOrEqual(Math.ceil(Number(item.expiresAt?.N) / 1000));
    }
  });

  it('fails closed with replay_store_missing when the table does not exist', async () => {
    const claim = storeAt(NOW_MS, functionClient, 5000, 'NoSuchTable').claim('j', URL, NOW_MS + 1000);
    await expect(claim).rejects.toThrow(ReplayStoreUnavailableError);
    await expect(claim).rejects.toMatchObject({ reason: 'replay_store_missing' });
  });

  it.each([
    ['throttle', 'replay_store_throttled'],
    ['denied', 'replay_store_denied'],
    ['internal', 'replay_store_unavailable'],
    ['hang', 'replay_store_timeout'],
  ] as const)('fails closed when DynamoDB answers %s (%s)', async (fault: Fault, reason) => {
    const faulty = await startFaultyDynamo(fault);
    const c = functionDynamo(faulty.endpoint, { maxAttempts: 1 });
    try {
      const claim = storeAt(NOW_MS, c, 500).claim('j', URL, NOW_MS + 1000);
      await expect(claim).rejects.toThrow(ReplayStoreUnavailableError);
      await expect(claim).rejects.toMatchObject({ reason });
    } finally {
      c.close();
      await faulty.close();
    }
  });

  it('fails closed when nothing listens', async () => {
    const c = functionDynamo(await closedPortEndpoint());
    try {
      await expect(storeAt(NOW_MS, c, 2000).claim('j', URL, NOW_MS + 1000)).rejects.toMatchObject({
        reason: 'replay_store_unavailable',
      });
    } finally {
      c.close();
    }
  });
});

describe('a proof replayed to several containers at once', () => {
  const CONTAINERS = 6;

  function startContainer(proof: string): {
    child: ChildProcessWithoutNullStreams;
    lines: AsyncIterator<string>;
  } {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/dpop-race-child.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        RACE_ENDPOINT: dynamo.endpoint,
        RACE_TABLE: TABLE,
        RACE_NOW_MS: String(NOW_MS),
        RACE_PROOF: proof,
        RACE_URL: URL,
        RACE_TOKEN: TOKEN,
        RACE_JKT: keyFor('ES256').thumbprint,
      },
    });
    return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
  }

  it('is accepted by exactly one of them; every other refuses it as dpop_replayed', async () => {
    // Arrange: one genuine proof, captured and sent by an attacker to every container.
    const proof = proofFor(keyFor('ES256'), { jti: `race-${Date.now()}` });
    const containers = Array.from({ length: CONTAINERS }, () => startContainer(proof));
    try {
      for (const c of containers) expect((await c.lines.next()).value).toBe('ready');

      // Act: all of them at once.
      for (const c of containers) c.child.stdin.write('go\n');
      const outcomes = await Promise.all(
        containers.map(
          async (c) => JSON.parse((await c.lines.next()).value as string) as Record<string, unknown>,
        ),
      );

      // Assert
      expect(outcomes.filter((o) => o.ok === true)).toHaveLength(1);
      expect(outcomes.filter((o) => o.reason === 'dpop_replayed')).toHaveLength(CONTAINERS - 1);
    } finally {
      for (const c of containers) c.child.kill();
    }
  }, 60_000);
});
