import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  ScanCommand,
  type AttributeValue as SdkAttributeValue,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { AwsCallError, type AwsJsonCaller } from '../aws/json-call.ts';
import {
  type AttributeValue,
  dynamoCredentialStore,
  type Item,
  itemToKey,
  itemToUser,
  keyPk,
  keyToItem,
  usageKeyAttributes,
  userPk,
  userToItem,
  withinBudget,
} from './dynamo-store.ts';
import {
  type CredentialAdminStore,
  CredentialStoreError,
  type KeyRecord,
  type UsageKey,
  type UserRecord,
} from './store.ts';

/** How the CLIs' SDK client talks to DynamoDB. */
export interface DynamoClientOptions {
  readonly region: string;
  /** Custom endpoint (the embedded DynamoDB, or any compatible server). */
  readonly endpoint?: string | undefined;
  /** Socket connect timeout. */
  readonly connectTimeoutMs: number;
  /** Time allowed for one HTTP request to answer. */
  readonly requestTimeoutMs: number;
  /** Total attempts per call, including the first (bounded retries). */
  readonly maxAttempts: number;
  /** Shared-credentials profile. */
  readonly profile?: string | undefined;
}

/**
 * The SDK's DynamoDB client for the CLIs and local tools (profiles, the SDK's credential chain),
 * with tight timeouts and bounded retries. The functions call DynamoDB through
 * shared/aws/json-call.ts instead (docs/performance.md#calling-aws).
 */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts,
    // A plain object configures the default NodeHttpHandler without importing it.
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
    },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
}

/**
 * The SDK's client as the {@link AwsJsonCaller} the credentials store is written against (the
 * GetItem and UpdateItem it sends), so the CLIs read and count exactly as the function does.
 */
export function sdkDynamoCaller(client: DynamoDBClient): AwsJsonCaller {
  return {
    async call(operation, input, { signal }) {
      const options = signal === undefined ? {} : { abortSignal: signal };
      switch (operation) {
        case 'GetItem':
          return { ...(await client.send(new GetItemCommand(input as GetItemCommandInput), options)) };
        case 'UpdateItem':
          return { ...(await client.send(new UpdateItemCommand(input as UpdateItemCommandInput), options)) };
        default:
          throw new AwsCallError('validation', 'UnknownOperation', `${operation} is not sent by the store`);
      }
    },
  };
}

/**
 * The CLI's store: the authorizer's reads plus PutItem, DeleteItem, Scan and UpdateItem. Kept out of the
 * function bundle (the function's role may not call these anyway).
 */
export function dynamoAdminStore(
  client: DynamoDBClient,
  table: string,
  budgetMs: number,
): CredentialAdminStore {
  const put = async (item: Item, mode: 'create' | 'replace') => {
    try {
      await withinBudget('PutItem', budgetMs, (abortSignal) =>
        client.send(
          new PutItemCommand({
            TableName: table,
            Item: item,
            ConditionExpression: mode === 'create' ? 'attribute_not_exists(pk)' : 'attribute_exists(pk)',
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      const cause = (err as Error).cause as { name?: string } | undefined;
      if (cause?.name === 'ConditionalCheckFailedException')
        throw mode === 'create'
          ? new CredentialStoreError('record_exists', 'a record with this id already exists')
          : new CredentialStoreError('record_missing', 'the record does not exist');
      throw err;
    }
  };
  const remove = async (pk: string) => {
    const out = await withinBudget('DeleteItem', budgetMs, (abortSignal) =>
      client.send(
        new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } }, ReturnValues: 'ALL_OLD' }),
        {
          abortSignal,
        },
      ),
    );
    return out.Attributes !== undefined;
  };
  const scan = async (kind: 'key' | 'user') => {
    const items: Item[] = [];
    let start: Record<string, SdkAttributeValue> | undefined;
    do {
      const page = await withinBudget('Scan', budgetMs, (abortSignal) =>
        client.send(
          new ScanCommand({
            TableName: table,
            FilterExpression: 'kind = :kind',
            ExpressionAttributeValues: { ':kind': { S: kind } },
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
          { abortSignal },
        ),
      );
      items.push(...((page.Items ?? []) as Item[]));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  };
  const attach = async (pk: string, usageKey: UsageKey) => {
    const attributes = usageKeyAttributes(usageKey);
    try {
      await withinBudget('UpdateItem', budgetMs, (abortSignal) =>
        client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: pk } },
            // Only these two attributes: the authorizer's lockout counters on a user record stay.
            UpdateExpression: 'SET usageKeyId = :id, usageKeyValue = :value',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usageKeyId)',
            ExpressionAttributeValues: {
              ':id': attributes.usageKeyId as AttributeValue,
              ':value': attributes.usageKeyValue as AttributeValue,
            },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      const cause = (err as Error).cause as { name?: string } | undefined;
      if (cause?.name !== 'ConditionalCheckFailedException') throw err;
      const current = await client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }),
      );
      throw current.Item === undefined
        ? new CredentialStoreError('record_missing', 'the record does not exist')
        : new CredentialStoreError('record_exists', 'the record already has a usage key');
    }
  };
  return {
    ...dynamoCredentialStore(sdkDynamoCaller(client), table, budgetMs),
    attachUsageKey: (kind, id, usageKey) => attach(kind === 'key' ? keyPk(id) : userPk(id), usageKey),
    putKey: (record, mode) => put(keyToItem(record), mode),
    deleteKey: (keyId) => remove(keyPk(keyId)),
    async listKeys() {
      return (await scan('key'))
        .map(itemToKey)
        .filter((k): k is KeyRecord => k !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt);
    },
    putUser: (record, mode) => put(userToItem(record), mode),
    deleteUser: (username) => remove(userPk(username)),
    async listUsers() {
      return (await scan('user'))
        .map(itemToUser)
        .filter((u): u is UserRecord => u !== undefined)
        .sort((a, b) => a.username.localeCompare(b.username));
    },
  };
}
