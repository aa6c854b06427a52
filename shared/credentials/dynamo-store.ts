import { AwsCallError, type AwsJsonCaller } from '../aws/json-call.ts';
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
 *
 * The store speaks DynamoDB's JSON protocol through an {@link AwsJsonCaller}: in the function,
 * shared/aws/json-call.ts (not the SDK: docs/performance.md#calling-aws); in the CLIs, the SDK's
 * client behind an adapter (dynamo-admin.ts).
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

/** A DynamoDB attribute value as DynamoDB's JSON protocol writes it (the kinds this table uses). */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> }
  | { BOOL: boolean }
  | { NULL: true };

/** A DynamoDB item: attribute name → value. */
export type Item = Record<string, AttributeValue>;

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

/**
 * AWS's error type of a failed call: {@link AwsCallError.type} from our client, the error's name
 * from the SDK's (the CLIs).
 */
export function awsErrorType(err: unknown): string | undefined {
  if (err instanceof AwsCallError) return err.type;
  const name = (err as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

const FAILURES: Readonly<Record<AwsCallError['code'], StoreFailure>> = {
  throttled: 'store_throttled',
  access_denied: 'store_denied',
  not_found: 'table_missing',
  timeout: 'store_timeout',
  unavailable: 'store_unavailable',
  response_too_large: 'store_response_too_large',
  conditional_check_failed: 'store_error',
  validation: 'store_error',
  server_error: 'store_error',
  error: 'store_error',
};

/** Maps a failed call (our client's {@link AwsCallError}, or an SDK error in the CLIs) onto a stable reason. */
export function storeFailureOf(err: unknown): StoreFailure {
  if (err instanceof AwsCallError) return FAILURES[err.code];
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

/** A conditional write whose condition did not hold (an expected outcome, not a failure). */
export const isConditionFailure = (err: unknown): boolean =>
  err instanceof CredentialStoreError && awsErrorType(err.cause) === 'ConditionalCheckFailedException';

/** A lock or a spent window refuses the attempt: the condition every counting update carries. */
const NOT_LOCKED = '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now)';

/** An UpdateItem request, without the table (the store adds it). */
interface UpdateInput {
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues: Item;
}

/**
 * The authorizer's store: GetItem and UpdateItem on one table. Each operation (a read, counting an
 * attempt, releasing it, locking) runs within `budgetMs`, lowered to the caller's `limitMs`.
 */
export function dynamoCredentialStore(
  dynamo: AwsJsonCaller,
  table: string,
  budgetMs: number,
): CredentialStore {
  /** A deadline for one store operation, which may take several calls. */
  const deadlineOf = (limitMs: number | undefined) =>
    performance.now() + Math.min(budgetMs, limitMs ?? budgetMs);
  const call = (operation: 'GetItem' | 'UpdateItem', input: object, deadline: number) =>
    withinBudget(operation, deadline - performance.now(), (signal) =>
      dynamo.call(
        operation,
        { TableName: table, ...input },
        { budgetMs: deadline - performance.now(), signal },
      ),
    );
  const get = async (pk: string, deadline: number) =>
    (await call('GetItem', { Key: { pk: s(pk) }, ConsistentRead: true }, deadline)).Item as Item | undefined;
  /** An update whose condition may fail: undefined then, the new item otherwise. */
  const conditional = async (input: UpdateInput, deadline: number) => {
    try {
      const out = await call('UpdateItem', { ...input, ReturnValues: 'ALL_NEW' }, deadline);
      return (out.Attributes as Item | undefined) ?? {};
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  };

  return {
    async findKey(keyId, limitMs) {
      const item = await get(keyPk(keyId), deadlineOf(limitMs));
      return item === undefined ? undefined : itemToKey(item);
    },
    async findUser(username, limitMs) {
      const item = await get(userPk(username), deadlineOf(limitMs));
      return item === undefined ? undefined : itemToUser(item);
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
