/**
 * The DPoP replay store on DynamoDB: one conditional PutItem per proof, so every Lambda container
 * (and every concurrent request) sees the same record, and exactly one of several racing claims of
 * a proof succeeds.
 *
 * Table: partition key `pk` (S) only, on-demand billing, TTL on `ttl`. An item is
 * `{ pk: "dpop#<replayKey>", expiresAt: <epoch ms>, ttl: <epoch s> }` and nothing else: no token,
 * no URL, no client data. TTL deletes up to days late, so the condition also treats an item whose
 * `expiresAt` has passed as absent.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, storeFailureOf } from '../credentials/dynamo-store.ts';
import {
  type ClaimResult,
  type ProofReplayStore,
  type ReplayStoreFailure,
  ReplayStoreUnavailableError,
  replayKey,
} from './replay.ts';

/** The table's key schema, as template.yaml must declare it (and the local tools create it). */
export const DPOP_REPLAY_TABLE_KEY = {
  keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  ttlAttribute: 'ttl',
} as const;

/** Seconds an item outlives its `expiresAt` before TTL may delete it (clock differences between hosts). */
const TTL_MARGIN_SECONDS = 300;

function failureOf(err: unknown): ReplayStoreFailure {
  switch (storeFailureOf(err)) {
    case 'table_missing':
      return 'replay_store_missing';
    case 'store_throttled':
      return 'replay_store_throttled';
    case 'store_denied':
    case 'store_no_credentials':
      return 'replay_store_denied';
    case 'store_timeout':
      return 'replay_store_timeout';
    default:
      return 'replay_store_unavailable';
  }
}

/** Options of {@link dynamoReplayStore}. */
export interface DynamoReplayStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Time allowed for one claim, retries included; past it the claim fails (closed). */
  readonly budgetMs: number;
  /** The clock (epoch milliseconds). */
  readonly now: () => number;
}

/** A replay store on one DynamoDB table (see the module comment for its layout). */
export function dynamoReplayStore(options: DynamoReplayStoreOptions): ProofReplayStore {
  const { client, tableName, budgetMs } = options;
  return {
    async claim(jti, htu, expiresAt): Promise<ClaimResult> {
      const now = options.now();
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(
            new ReplayStoreUnavailableError(
              'replay_store_timeout',
              `DynamoDB PutItem took longer than ${budgetMs} ms`,
            ),
          );
        }, budgetMs);
      });
      const put = client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: `dpop#${replayKey(jti, htu)}` },
            expiresAt: { N: String(expiresAt) },
            ttl: { N: String(Math.ceil(expiresAt / 1000) + TTL_MARGIN_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': { N: String(now) } },
        }),
        { abortSignal: controller.signal },
      );
      try {
        await Promise.race([put, deadline]);
        return 'fresh';
      } catch (err) {
        if ((err as { name?: unknown }).name === 'ConditionalCheckFailedException') return 'replayed';
        if (err instanceof ReplayStoreUnavailableError) throw err;
        const reason = controller.signal.aborted ? 'replay_store_timeout' : failureOf(err);
        throw new ReplayStoreUnavailableError(reason, `DynamoDB PutItem failed (${(err as Error).name})`, {
          cause: err,
        });
      } finally {
        clearTimeout(timer);
        // A put still in flight after the deadline must not surface as an unhandled rejection.
        put.catch(() => undefined);
      }
    },
  };
}

/** Where the replay table is, as the DPoP configuration gives it (shared/dpop/config.ts). */
export interface DynamoReplayStoreSettings {
  readonly region: string;
  /** The embedded DynamoDB of local runs; undefined in AWS. */
  readonly endpoint: string | undefined;
  readonly tableName: string;
  readonly budgetMs: number;
  readonly now: () => number;
}

/** Largest answer read from DynamoDB: a PutItem answers `{}` or a short error. */
const MAX_PUT_RESPONSE_BYTES = 16 * 1024;

/**
 * The replay store with its own client: tight timeouts within the budget, one retry. The client is
 * made here so that the rest of the function never depends on how DynamoDB is reached.
 */
export function dynamoReplayStoreFor(settings: DynamoReplayStoreSettings): ProofReplayStore {
  const client = createDynamoClient({
    region: settings.region,
    endpoint: settings.endpoint,
    connectTimeoutMs: Math.min(500, settings.budgetMs),
    requestTimeoutMs: settings.budgetMs,
    maxAttempts: 2,
    maxResponseBytes: MAX_PUT_RESPONSE_BYTES,
  });
  return dynamoReplayStore({
    client,
    tableName: settings.tableName,
    budgetMs: settings.budgetMs,
    now: settings.now,
  });
}
