import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  type CredentialStore,
  CredentialStoreError,
  type FailureState,
  type KeyRecord,
  type StoreFailure,
  type UserRecord,
} from './store.ts';

/**
 * One table holds keys and users: partition key `pk` = `key#<keyId>` or `user#<username>`,
 * attribute names as in {@link KeyRecord} / {@link UserRecord}, and `ttl` (epoch seconds) for
 * DynamoDB's TTL. Expiry is always checked in code: TTL deletes up to days late.
 */
export const PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'ttl';

/** How long after expiry a record stays (so `key_expired` is reported rather than `key_unknown`). */
export const EXPIRED_RETENTION_MS = 7 * 86_400_000;

/** How the SDK client talks to DynamoDB. */
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
  /** Shared-credentials profile (CLI only). */
  readonly profile?: string | undefined;
}

/** A DynamoDB client with tight timeouts and bounded retries, so a sick table fails fast. */
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

type Item = Record<string, AttributeValue>;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const list = (values: readonly string[]): AttributeValue => ({ L: values.map(s) });

function readS(item: Item, name: string): string | undefined {
  const v = item[name];
  return v !== undefined && 'S' in v && typeof v.S === 'string' ? v.S : undefined;
}
function readN(item: Item, name: string): number | undefined {
  const v = item[name];
  return v !== undefined && 'N' in v && typeof v.N === 'string' ? Number(v.N) : undefined;
}
function readList(item: Item, name: string): string[] {
  const v = item[name];
  if (v === undefined || !('L' in v) || !Array.isArray(v.L)) return [];
  return v.L.flatMap((e) => ('S' in e && typeof e.S === 'string' ? [e.S] : []));
}

export const keyPk = (keyId: string): string => `key#${keyId}`;
export const userPk = (username: string): string => `user#${username}`;

/** A key record as a DynamoDB item. */
export function keyToItem(record: KeyRecord): Item {
  const item: Item = {
    pk: s(keyPk(record.keyId)),
    kind: s('key'),
    keyId: s(record.keyId),
    hash: s(record.hash),
    clientId: s(record.clientId),
    name: s(record.name),
    scopes: list(record.scopes),
    status: s(record.status),
    createdAt: n(record.createdAt),
    allowedCidrs: list(record.allowedCidrs),
    tier: s(record.tier),
  };
  if (record.expiresAt !== undefined) {
    item.expiresAt = n(record.expiresAt);
    item[TTL_ATTRIBUTE] = n(Math.ceil((record.expiresAt + EXPIRED_RETENTION_MS) / 1000));
  }
  if (record.previousHash !== undefined && record.previousHashExpiresAt !== undefined) {
    item.previousHash = s(record.previousHash);
    item.previousHashExpiresAt = n(record.previousHashExpiresAt);
  }
  return item;
}

/** A DynamoDB item as a key record; undefined when the item is not a readable key (fail closed). */
export function itemToKey(item: Item): KeyRecord | undefined {
  const keyId = readS(item, 'keyId');
  const hash = readS(item, 'hash');
  const status = readS(item, 'status');
  const createdAt = readN(item, 'createdAt');
  if (keyId === undefined || hash === undefined || createdAt === undefined) return undefined;
  if (status !== 'active' && status !== 'revoked') return undefined;
  return {
    keyId,
    hash,
    clientId: readS(item, 'clientId') ?? keyId,
    name: readS(item, 'name') ?? '',
    scopes: readList(item, 'scopes'),
    status,
    createdAt,
    expiresAt: readN(item, 'expiresAt'),
    allowedCidrs: readList(item, 'allowedCidrs'),
    tier: readS(item, 'tier') ?? 'basic',
    previousHash: readS(item, 'previousHash'),
    previousHashExpiresAt: readN(item, 'previousHashExpiresAt'),
  };
}

/** A user record as a DynamoDB item (failure counters included). */
export function userToItem(record: UserRecord): Item {
  const item: Item = {
    pk: s(userPk(record.username)),
    kind: s('user'),
    username: s(record.username),
    hash: s(record.hash),
    clientId: s(record.clientId),
    scopes: list(record.scopes),
    status: s(record.status),
    createdAt: n(record.createdAt),
    allowedCidrs: list(record.allowedCidrs),
    tier: s(record.tier),
    failures: n(record.failures),
  };
  if (record.failureWindowStart !== undefined) item.failureWindowStart = n(record.failureWindowStart);
  if (record.lockedUntil !== undefined) item.lockedUntil = n(record.lockedUntil);
  return item;
}

/** A DynamoDB item as a user record; undefined when unreadable (fail closed). */
export function itemToUser(item: Item): UserRecord | undefined {
  const username = readS(item, 'username');
  const hash = readS(item, 'hash');
  const status = readS(item, 'status');
  const createdAt = readN(item, 'createdAt');
  if (username === undefined || hash === undefined || createdAt === undefined) return undefined;
  if (status !== 'active' && status !== 'locked' && status !== 'revoked') return undefined;
  return {
    username,
    hash,
    clientId: readS(item, 'clientId') ?? username,
    scopes: readList(item, 'scopes'),
    status,
    createdAt,
    allowedCidrs: readList(item, 'allowedCidrs'),
    tier: readS(item, 'tier') ?? 'basic',
    failures: readN(item, 'failures') ?? 0,
    failureWindowStart: readN(item, 'failureWindowStart'),
    lockedUntil: readN(item, 'lockedUntil'),
  };
}

/** Maps an SDK error onto a stable reason. */
export function storeFailureOf(err: unknown): StoreFailure {
  const name = (err as { name?: unknown }).name;
  const code = (err as { code?: unknown }).code;
  switch (name) {
    case 'ResourceNotFoundException':
      return 'table_missing';
    case 'ThrottlingException':
    case 'ProvisionedThroughputExceededException':
    case 'RequestLimitExceeded':
      return 'store_throttled';
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'MissingAuthenticationTokenException':
    case 'ExpiredTokenException':
      return 'store_denied';
    case 'CredentialsProviderError':
      return 'store_no_credentials';
    case 'AbortError':
    case 'TimeoutError':
    case 'RequestTimeout':
      return 'store_timeout';
    default:
      if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|EPIPE)$/.test(code))
        return 'store_unavailable';
      if (typeof code === 'string' && /TIMEDOUT/.test(code)) return 'store_timeout';
      return 'store_error';
  }
}

/**
 * Runs one SDK call within `budgetMs`: the call is aborted at the deadline, and the promise settles
 * then even if the abort does not reach the socket. Errors become {@link CredentialStoreError}.
 */
export async function withinBudget<T>(
  what: string,
  budgetMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CredentialStoreError('store_timeout', `DynamoDB ${what} took longer than ${budgetMs} ms`));
    }, budgetMs);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } catch (err) {
    if (err instanceof CredentialStoreError) throw err;
    const reason = controller.signal.aborted ? 'store_timeout' : storeFailureOf(err);
    throw new CredentialStoreError(reason, `DynamoDB ${what} failed (${(err as Error).name})`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

const isConditionFailure = (err: unknown) =>
  err instanceof CredentialStoreError &&
  (err.cause as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** The authorizer's store: GetItem and UpdateItem on one table, each call within `budgetMs`. */
export function dynamoCredentialStore(
  client: DynamoDBClient,
  table: string,
  budgetMs: number,
): CredentialStore {
  const get = async (pk: string) =>
    withinBudget('GetItem', budgetMs, (abortSignal) =>
      client.send(new GetItemCommand({ TableName: table, Key: { pk: s(pk) }, ConsistentRead: true }), {
        abortSignal,
      }),
    );
  const update = (input: Omit<UpdateItemCommandInput, 'TableName'>) =>
    withinBudget('UpdateItem', budgetMs, (abortSignal) =>
      client.send(new UpdateItemCommand({ TableName: table, ...input }), { abortSignal }),
    );

  return {
    async findKey(keyId) {
      const out = await get(keyPk(keyId));
      return out.Item === undefined ? undefined : itemToKey(out.Item);
    },
    async findUser(username) {
      const out = await get(userPk(username));
      return out.Item === undefined ? undefined : itemToUser(out.Item);
    },
    async recordFailure(username, now, policy): Promise<FailureState> {
      const Key = { pk: s(userPk(username)) };
      const cutoff = n(now - policy.windowMs);
      let failures: number | undefined;
      // Two conditional updates instead of a transaction (which dynalite lacks): count inside the
      // current window, or start a new window when it ran out. Concurrent callers each land in one.
      for (let attempt = 0; attempt < 2 && failures === undefined; attempt++) {
        try {
          const counted = await update({
            Key,
            UpdateExpression: 'ADD failures :one',
            ConditionExpression: 'attribute_exists(pk) AND failureWindowStart > :cutoff',
            ExpressionAttributeValues: { ':one': n(1), ':cutoff': cutoff },
            ReturnValues: 'ALL_NEW',
          });
          failures = readN(counted.Attributes ?? {}, 'failures') ?? 1;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          try {
            await update({
              Key,
              UpdateExpression: 'SET failures = :one, failureWindowStart = :now',
              ConditionExpression:
                'attribute_exists(pk) AND (attribute_not_exists(failureWindowStart) OR failureWindowStart <= :cutoff)',
              ExpressionAttributeValues: { ':one': n(1), ':now': n(now), ':cutoff': cutoff },
            });
            failures = 1;
          } catch (err2) {
            if (!isConditionFailure(err2)) throw err2;
          }
        }
      }
      if (failures === undefined) return { failures: 0, lockedUntil: undefined };
      if (failures < policy.maxFailures) return { failures, lockedUntil: undefined };
      const lockedUntil = now + policy.lockMs;
      // Locking starts a fresh count: after the lock the user gets a full window again.
      await update({
        Key,
        UpdateExpression: 'SET lockedUntil = :until, failures = :zero REMOVE failureWindowStart',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':until': n(lockedUntil), ':zero': n(0) },
      }).catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
      return { failures, lockedUntil };
    },
    async clearFailures(username) {
      await update({
        Key: { pk: s(userPk(username)) },
        UpdateExpression: 'SET failures = :zero REMOVE failureWindowStart, lockedUntil',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':zero': n(0) },
      }).catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
    },
  };
}
