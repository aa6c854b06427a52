/**
 * The DPoP replay store on DynamoDB: one conditional PutItem per proof, so every Lambda container
 * (and every concurrent request) sees the same record, and exactly one of several racing claims of
 * a proof succeeds.
 *
 * Table: partition key `pk` (S) only, on-demand billing, TTL on `ttl`. An item is
 * `{ pk: "dpop#<replayKey>", expiresAt: <epoch ms>, ttl: <epoch s> }` and nothing else: no token,
 * no URL, no client data. TTL deletes up to days late, so the condition also treats an item whose
 * `expiresAt` has passed as absent.
 *
 * The PutItem goes through an {@link AwsJsonCaller}: in a function, shared/aws/json-call.ts with
 * DynamoDB's settings (docs/performance.md#calling-aws), never the SDK's client.
 */
import { AwsCallError, type AwsFailure, type AwsJsonCaller } from '../aws/json-call.ts';
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

const FAILURES: Readonly<Record<AwsFailure, ReplayStoreFailure>> = {
  not_found: 'replay_store_missing',
  throttled: 'replay_store_throttled',
  access_denied: 'replay_store_denied',
  timeout: 'replay_store_timeout',
  unavailable: 'replay_store_unavailable',
  server_error: 'replay_store_unavailable',
  response_too_large: 'replay_store_unavailable',
  validation: 'replay_store_unavailable',
  conditional_check_failed: 'replay_store_unavailable',
  error: 'replay_store_unavailable',
};

/** Options of {@link dynamoReplayStore}. */
export interface DynamoReplayStoreOptions {
  /** DynamoDB: `awsJsonClient({ service: DYNAMODB, ... })` of shared/aws/json-call.ts. */
  readonly client: AwsJsonCaller;
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
      try {
        await client.call(
          'PutItem',
          {
            TableName: tableName,
            Item: {
              pk: { S: `dpop#${replayKey(jti, htu)}` },
              expiresAt: { N: String(expiresAt) },
              ttl: { N: String(Math.ceil(expiresAt / 1000) + TTL_MARGIN_SECONDS) },
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': { N: String(now) } },
          },
          // The client ends the call at the budget, retries included, and refuses a late answer.
          { budgetMs },
        );
        return 'fresh';
      } catch (err) {
        // The condition failed: an unexpired record of this proof exists.
        if (err instanceof AwsCallError && err.code === 'conditional_check_failed') return 'replayed';
        const type = err instanceof AwsCallError ? err.type : (err as Error).name;
        throw new ReplayStoreUnavailableError(
          err instanceof AwsCallError ? FAILURES[err.code] : 'replay_store_unavailable',
          `DynamoDB PutItem failed (${type})`,
          { cause: err },
        );
      }
    },
  };
}
