import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  type AttemptReservation,
  type CredentialStore,
  CredentialStoreError,
  type KeyRecord,
  type StoreFailure,
  type UsageKey,
  type UserRecord,
} from './store.ts';

/**
 * One table holds keys and users: partition key `pk` = `key#<keyId>` or `user#<username>`,
 * attribute names as in {@link KeyRecord} / {@link UserRecord}, and `ttl` (epoch seconds) for
 * DynamoDB's TTL. Expiry is always checked in code: TTL deletes up to days late. Password attempts
 * for a name that has no user are counted in `login#<username>` items (`kind` = `login`), which
 * carry a `ttl` so that junk names expire.
 */
export const PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'ttl';

/** How long after expiry a record stays (so `key_expired` is reported rather than `key_unknown`). */
export const EXPIRED_RETENTION_MS = 7 * 86_400_000;

/**
 * The largest DynamoDB answer the authorizer reads. A credential record is a few hundred bytes (a
 * key with a hundred scopes and CIDRs stays under 16 KiB); anything larger is refused unread
 * (`store_response_too_large`), so a broken or hostile endpoint cannot make the function buffer and
 * parse megabytes within its budget.
 */
export const MAX_RECORD_RESPONSE_BYTES = 64 * 1024;

/** Raised when a DynamoDB answer exceeds the size cap; the socket is closed at once. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

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
  /** Answers larger than this are refused before they are parsed; undefined = no cap (CLI scans). */
  readonly maxResponseBytes?: number | undefined;
}

/** A DynamoDB client with tight timeouts and bounded retries, so a sick table fails fast. */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const client = new DynamoDBClient({
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
  if (options.maxResponseBytes !== undefined) capResponseSize(client, options.maxResponseBytes);
  return client;
}

interface RawResponse {
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

/**
 * Reads each HTTP answer's body itself, up to `maxBytes`, before the SDK's deserializer sees it:
 * a larger answer (declared or streamed) closes the socket and fails the call. The SDK would
 * otherwise collect any body in full, then parse it, with the event loop blocked meanwhile.
 */
function capResponseSize(client: DynamoDBClient, maxBytes: number): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const response = out.response as RawResponse;
      const body = response.body as (AsyncIterable<Buffer> & { destroy?: () => void }) | undefined;
      const tooLarge = () => {
        body?.destroy?.();
        return new ResponseTooLargeError(`the DynamoDB answer exceeds ${maxBytes} bytes`);
      };
      if (Number(response.headers?.['content-length'] ?? 0) > maxBytes) throw tooLarge();
      if (body === undefined || typeof body[Symbol.asyncIterator] !== 'function') return out;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += chunk.length;
        if (size > maxBytes) throw tooLarge();
        chunks.push(chunk);
      }
      response.body = Buffer.concat(chunks, size);
      return out;
    },
    // Innermost: between the HTTP handler and the deserializer (the retry middleware is outside).
    { step: 'deserialize', priority: 'low', name: 'gatehouseResponseSizeCap' },
  );
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
/** Where attempts for a name with no user behind it are counted. */
export const loginPk = (username: string): string => `login#${username}`;

/** How long a `login#` item outlives what it records (a window or a lock), in seconds. */
const LOGIN_ITEM_SLACK_SECONDS = 60;

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
  if (record.usageKey !== undefined) Object.assign(item, usageKeyAttributes(record.usageKey));
  if (record.tenant !== undefined) item.tenant = s(record.tenant);
  return item;
}

/** A usage key as the item's `usageKeyId` / `usageKeyValue` attributes. */
export function usageKeyAttributes(usageKey: UsageKey): Item {
  return { usageKeyId: s(usageKey.id), usageKeyValue: s(usageKey.value) };
}

/** The item's usage key; both attributes or none (a half-written one counts as none: fail closed). */
function readUsageKey(item: Item): { usageKey?: UsageKey } {
  const id = readS(item, 'usageKeyId');
  const value = readS(item, 'usageKeyValue');
  return id === undefined || value === undefined || id === '' || value === ''
    ? {}
    : { usageKey: { id, value } };
}

/** The item's tenant, when it has one (docs/tenant-binding.md). */
function readTenant(item: Item): { tenant?: string } {
  const tenant = readS(item, 'tenant');
  return tenant === undefined ? {} : { tenant };
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
    ...readUsageKey(item),
    ...readTenant(item),
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
  if (record.usageKey !== undefined) Object.assign(item, usageKeyAttributes(record.usageKey));
  if (record.tenant !== undefined) item.tenant = s(record.tenant);
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
    ...readUsageKey(item),
    ...readTenant(item),
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
    case 'ResponseTooLargeError':
      return 'store_response_too_large';
    default:
      if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|EPIPE)$/.test(code))
        return 'store_unavailable';
      if (typeof code === 'string' && /TIMEDOUT/.test(code)) return 'store_timeout';
      return 'store_error';
  }
}

/**
 * Runs one store operation within `budgetMs`: the call is aborted at the deadline, and the promise
 * settles then even if the abort does not reach the socket. An answer that arrives after the
 * deadline (a long synchronous stretch can delay the timer past it) is refused as a timeout too, so
 * nothing decided or cached ever rests on an over-budget read. Errors become
 * {@link CredentialStoreError}.
 */
export async function withinBudget<T>(
  what: string,
  budgetMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (!(budgetMs > 0)) throw new CredentialStoreError('store_timeout', `no time left for DynamoDB ${what}`);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const overBudget = () =>
    new CredentialStoreError('store_timeout', `DynamoDB ${what} took longer than ${Math.round(budgetMs)} ms`);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(overBudget());
    }, budgetMs);
  });
  const started = performance.now();
  try {
    const result = await Promise.race([call(controller.signal), deadline]);
    if (performance.now() - started > budgetMs) {
      controller.abort();
      throw overBudget();
    }
    return result;
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

/** A lock or a spent window refuses the attempt: the condition every counting update carries. */
const NOT_LOCKED = '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now)';

/**
 * The authorizer's store: GetItem and UpdateItem on one table. Each operation (a read, counting an
 * attempt, releasing it, locking) runs within `budgetMs`, lowered to the caller's `limitMs`.
 */
export function dynamoCredentialStore(
  client: DynamoDBClient,
  table: string,
  budgetMs: number,
): CredentialStore {
  /** A deadline for one store operation, which may take several calls. */
  const deadlineOf = (limitMs: number | undefined) =>
    performance.now() + Math.min(budgetMs, limitMs ?? budgetMs);
  const get = (pk: string, deadline: number) =>
    withinBudget('GetItem', deadline - performance.now(), (abortSignal) =>
      client.send(new GetItemCommand({ TableName: table, Key: { pk: s(pk) }, ConsistentRead: true }), {
        abortSignal,
      }),
    );
  const update = (input: Omit<UpdateItemCommandInput, 'TableName'>, deadline: number) =>
    withinBudget('UpdateItem', deadline - performance.now(), (abortSignal) =>
      client.send(new UpdateItemCommand({ TableName: table, ...input }), { abortSignal }),
    );
  /** An update whose condition may fail: undefined then, the new item otherwise. */
  const conditional = async (input: Omit<UpdateItemCommandInput, 'TableName'>, deadline: number) => {
    try {
      return (await update({ ...input, ReturnValues: 'ALL_NEW' }, deadline)).Attributes ?? {};
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  };

  return {
    async findKey(keyId, limitMs) {
      const out = await get(keyPk(keyId), deadlineOf(limitMs));
      return out.Item === undefined ? undefined : itemToKey(out.Item);
    },
    async findUser(username, limitMs) {
      const out = await get(userPk(username), deadlineOf(limitMs));
      return out.Item === undefined ? undefined : itemToUser(out.Item);
    },
    async reserveAttempt(username, known, now, policy, limitMs): Promise<AttemptReservation> {
      const deadline = deadlineOf(limitMs);
      // A user's counters live on its record (which must still exist: counting never creates a
      // user item); other names get a login# item of their own, created here, expiring with it.
      const Key = { pk: s(known ? userPk(username) : loginPk(username)) };
      const exists = known ? 'attribute_exists(pk) AND ' : '';
      const values = { ':one': n(1), ':now': n(now), ':cutoff': n(now - policy.windowMs) };
      const count = () =>
        conditional(
          {
            Key,
            UpdateExpression: 'SET failures = failures + :one',
            ConditionExpression: `${exists}failureWindowStart > :cutoff AND failures < :max AND ${NOT_LOCKED}`,
            ExpressionAttributeValues: { ...values, ':max': n(policy.maxFailures) },
          },
          deadline,
        );
      const open = () =>
        conditional(
          {
            Key,
            UpdateExpression: known
              ? 'SET failures = :one, failureWindowStart = :now'
              : 'SET failures = :one, failureWindowStart = :now, kind = :login, #ttl = :ttl',
            ConditionExpression: `${exists}(attribute_not_exists(failureWindowStart) OR failureWindowStart <= :cutoff) AND ${NOT_LOCKED}`,
            ExpressionAttributeValues: known
              ? values
              : {
                  ...values,
                  ':login': s('login'),
                  ':ttl': n(Math.ceil((now + policy.windowMs) / 1000) + LOGIN_ITEM_SLACK_SECONDS),
                },
            ...(known ? {} : { ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE } }),
          },
          deadline,
        );
      // Count inside the current window, else open a new one; when both conditions fail, another
      // caller may just have opened the window, so count once more. Failing again means locked.
      // Two conditional updates instead of a transaction (which dynalite lacks); each is atomic,
      // so no interleaving of callers grants more than `maxFailures` attempts in one window.
      for (const step of [count, open, count]) {
        const item = await step();
        if (item === undefined) continue;
        return {
          granted: true,
          // An unreadable count is taken as the last attempt: a wrong password then locks.
          attempt: readN(item, 'failures') ?? policy.maxFailures,
          windowStart: readN(item, 'failureWindowStart') ?? now,
          user: known ? itemToUser(item) : undefined,
        };
      }
      return { granted: false };
    },
    async releaseAttempt(username, windowStart, hash, now, limitMs) {
      const item = await conditional(
        {
          Key: { pk: s(userPk(username)) },
          UpdateExpression: 'SET failures = failures - :one',
          ConditionExpression: `attribute_exists(pk) AND failureWindowStart = :window AND failures > :zero AND #hash = :hash AND #status = :active AND ${NOT_LOCKED}`,
          ExpressionAttributeNames: { '#hash': 'hash', '#status': 'status' },
          ExpressionAttributeValues: {
            ':one': n(1),
            ':zero': n(0),
            ':window': n(windowStart),
            ':hash': s(hash),
            ':active': s('active'),
            ':now': n(now),
          },
        },
        deadlineOf(limitMs),
      );
      return item !== undefined;
    },
    async lock(username, known, windowStart, now, policy, limitMs) {
      const lockedUntil = now + policy.lockMs;
      // Locking starts a fresh count: after the lock the name gets a full window again. Only the
      // window the attempt was counted in is locked; if it changed, someone else locked or reset it.
      await conditional(
        {
          Key: { pk: s(known ? userPk(username) : loginPk(username)) },
          UpdateExpression: known
            ? 'SET lockedUntil = :until, failures = :zero REMOVE failureWindowStart'
            : 'SET lockedUntil = :until, failures = :zero, #ttl = :ttl REMOVE failureWindowStart',
          ConditionExpression: `${known ? 'attribute_exists(pk) AND ' : ''}failureWindowStart = :window`,
          ExpressionAttributeValues: {
            ':until': n(lockedUntil),
            ':zero': n(0),
            ':window': n(windowStart),
            ...(known ? {} : { ':ttl': n(Math.ceil(lockedUntil / 1000) + LOGIN_ITEM_SLACK_SECONDS) }),
          },
          ...(known ? {} : { ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE } }),
        },
        deadlineOf(limitMs),
      );
    },
  };
}
