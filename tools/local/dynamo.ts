/**
 * The embedded DynamoDB for local runs: dynalite, started in-process on loopback, persisted under
 * `.gatehouse/dynamodb/` (or in memory), with the template's `AWS::DynamoDB::Table` resources
 * created from their KeySchema / AttributeDefinitions and named after their logical ID (locally
 * `!Ref CredentialsTable` is `CredentialsTable`, see tools/template/resolve.ts).
 *
 * One process at a time can open the persisted store (LevelDB takes a lock), so the process that
 * holds it writes `.gatehouse/dynamodb.json` with its endpoint; `openLocalDynamo` reuses a live one
 * (e.g. the CLI while the local gateway runs) instead of failing on the lock.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import {
  createKey,
  createUser,
  generatePassword,
  rotateKey,
  setUserStatus,
} from '../../shared/credentials/admin.ts';
import { type KeyEnvironment, mintApiKey } from '../../shared/credentials/api-key.ts';
import { createPasswordHasher, type PasswordHasher } from '../../shared/credentials/password.ts';
import type { CredentialAdminStore } from '../../shared/credentials/store.ts';
import type { UsageKeyRegistry } from '../../shared/credentials/usage-keys.ts';
import { isSafeBoundValue } from '../../shared/routes/path-binding.ts';
import { STATE_DIR } from '../paths.ts';
import type { Template } from '../template/template.ts';

/** Where the persisted local database lives by default. */
export const LOCAL_DYNAMO_DIR = join(STATE_DIR, 'dynamodb');
const ENDPOINT_FILE = join(STATE_DIR, 'dynamodb.json');

/** A table to create: what CreateTable needs from the template. */
export interface TableDefinition {
  readonly name: string;
  readonly keySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: readonly { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
}

/** A running (or reused) local DynamoDB. */
export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Whether this process started it (false when an already running one is reused). */
  readonly owned: boolean;
  close(): Promise<void>;
}

type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number }) => Server;

// dynalite ships no types and is CommonJS: a typed require keeps the rest of this module checked.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/** The `AWS::DynamoDB::Table` resources of a template, named after their logical IDs. */
export function templateTables(template: Template): TableDefinition[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, r]) => ({
      name: logicalId,
      keySchema: (r.Properties?.KeySchema ?? []) as TableDefinition['keySchema'],
      attributeDefinitions: (r.Properties?.AttributeDefinitions ??
        []) as TableDefinition['attributeDefinitions'],
    }));
}

/** A client for the local endpoint (dummy credentials: dynalite does not check them). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
}

/**
 * Creates the tables that do not exist yet, and returns once every table is ACTIVE: dynalite (like
 * DynamoDB) answers item calls on a CREATING table with ResourceNotFoundException, and it flips the
 * status asynchronously even with `createTableMs: 0`, so a busy machine could otherwise serve the
 * first request before the table exists.
 */
export async function ensureTables(endpoint: string, tables: readonly TableDefinition[]): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of tables) {
      if (existing.has(table.name)) continue;
      await client.send(
        new CreateTableCommand({
          TableName: table.name,
          KeySchema: [...table.keySchema],
          AttributeDefinitions: [...table.attributeDefinitions],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
    const deadline = Date.now() + 10_000;
    for (const table of tables) {
      for (;;) {
        const status = (await client.send(new DescribeTableCommand({ TableName: table.name }))).Table
          ?.TableStatus;
        if (status === 'ACTIVE') break;
        if (Date.now() > deadline)
          throw new Error(`table ${table.name} is still ${status ?? 'unknown'} after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts dynalite on 127.0.0.1. `path: null` keeps everything in memory (tests); the default
 * persists under {@link LOCAL_DYNAMO_DIR}.
 */
export async function startEmbeddedDynamo(
  options: { path?: string | null; port?: number; tables?: readonly TableDefinition[] } = {},
): Promise<EmbeddedDynamo> {
  const path = options.path === undefined ? LOCAL_DYNAMO_DIR : options.path;
  const owner = path === null ? undefined : join(path, 'gatehouse-owner.json');
  if (path !== null && owner !== undefined) {
    mkdirSync(path, { recursive: true });
    // LevelDB allows one opener, and a second one crashes its process with an unhandled error
    // event: refuse up front, naming the holder.
    const holder = processAlive(owner);
    if (holder !== undefined)
      throw new Error(
        `the local database ${path} is in use by process ${holder} (stop it, or use its endpoint)`,
      );
    writeFileSync(owner, JSON.stringify({ pid: process.pid }));
  }
  const server = dynalite({ ...(path === null ? {} : { path }), createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => server.close(() => resolve())).finally(() => {
      if (owner !== undefined) rmSync(owner, { force: true });
    });
  try {
    await ensureTables(endpoint, options.tables ?? []);
  } catch (err) {
    await close();
    throw new Error(`could not prepare the local database: ${(err as Error).message}`, { cause: err });
  }
  return { endpoint, owned: true, close };
}

/** The pid recorded in `file`, when that process is still alive. */
function processAlive(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
    process.kill(pid, 0); // throws when the process is gone
    return pid;
  } catch {
    return undefined;
  }
}

function liveEndpoint(): string | undefined {
  if (!existsSync(ENDPOINT_FILE)) return undefined;
  try {
    const { pid, endpoint } = JSON.parse(readFileSync(ENDPOINT_FILE, 'utf8')) as {
      pid: number;
      endpoint: string;
    };
    process.kill(pid, 0); // throws when the process is gone
    return endpoint;
  } catch {
    return undefined;
  }
}

/**
 * The local database for tools: reuses the one a running process (the gateway) holds, or starts the
 * persisted one and advertises it until closed. `inMemory` starts a private, empty one.
 */
export async function openLocalDynamo(options: {
  tables: readonly TableDefinition[];
  inMemory?: boolean;
}): Promise<EmbeddedDynamo> {
  if (options.inMemory === true) return startEmbeddedDynamo({ path: null, tables: options.tables });
  const running = liveEndpoint();
  if (running !== undefined) {
    try {
      await ensureTables(running, options.tables);
      return { endpoint: running, owned: false, close: async () => undefined };
    } catch {
      // Stale file (the process is gone or is not listening): start our own below.
    }
  }
  const started = await startEmbeddedDynamo({ tables: options.tables });
  writeFileSync(ENDPOINT_FILE, JSON.stringify({ pid: process.pid, endpoint: started.endpoint }));
  return {
    ...started,
    async close() {
      if (liveEndpoint() === started.endpoint) rmSync(ENDPOINT_FILE, { force: true });
      await started.close();
    },
  };
}

/** Where credential placeholders create their records, and how keys must look there. */
export interface PlaceholderTarget {
  readonly store: CredentialAdminStore;
  /** Where placeholder credentials get their own usage keys (the local gateway's); none when undefined. */
  readonly usageKeys?: UsageKeyRegistry | undefined;
  readonly environment: KeyEnvironment;
  readonly pepper: string | undefined;
  readonly now: number;
  /** scrypt parameters for placeholder users (tests may pass cheap ones). */
  readonly hasher?: PasswordHasher;
  /** Told about every record created, so the caller can delete them after the invocation. */
  readonly onCreated?: (record: { kind: 'key'; keyId: string } | { kind: 'user'; username: string }) => void;
}

const PLACEHOLDER = /\{\{gatehouse:(apikey|basic)([^}]*)\}\}/g;

function placeholderWords(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of raw.matchAll(/([\w-]+)=(?:'([^']*)'|"([^"]*)"|\\"([^\\]*)\\"|(\S+))/g))
    out.set(m[1] as string, m[2] ?? m[3] ?? m[4] ?? m[5] ?? '');
  return out;
}

function known(words: Map<string, string>, allowed: readonly string[], kind: string): void {
  for (const name of words.keys())
    if (!allowed.includes(name)) throw new Error(`unknown ${kind} option ${name} (${allowed.join(', ')})`);
}

const list = (value: string | undefined) => (value ?? '').split(/[\s,]+/).filter(Boolean);

/**
 * Creates the credential a placeholder describes and returns what the event should carry:
 * - `{{gatehouse:apikey scopes='orders:read' status=active|revoked expires=<s> cidrs='10.0.0.0/8'
 *   tier=basic rotated=previous|previous-expired secret=wrong id=unknown tenant=acme}}` → the full key;
 * - `{{gatehouse:basic scopes='orders:read' status=active|locked|revoked|lockedout password=wrong
 *   user=unknown cidrs=.. tier=.. tenant=..}}` → base64(`user:password`) for `Authorization: Basic ...`.
 * `tenant` is the credential's tenant (docs/tenant-binding.md).
 */
async function credentialFor(kind: string, raw: string, target: PlaceholderTarget): Promise<string> {
  const words = placeholderWords(raw);
  const tenant = words.get('tenant');
  const safeTenant = tenant !== undefined && isSafeBoundValue(tenant) ? tenant : undefined;
  const unsafeTenant = tenant !== undefined && safeTenant === undefined ? { tenant } : {};
  const grant = {
    scopes: list(words.get('scopes') ?? 'orders:read'),
    tier: words.get('tier') ?? 'basic',
    allowedCidrs: list(words.get('cidrs')),
    usageKeys: target.usageKeys,
    // A tenant the CLI would refuse (`acme*`) is written to the record afterwards, as a table
    // written by other means could hold it: the authorizers must refuse it themselves.
    tenant: safeTenant,
  };
  const { store, now } = target;
  if (kind === 'apikey') {
    known(
      words,
      ['scopes', 'status', 'expires', 'cidrs', 'tier', 'rotated', 'secret', 'id', 'tenant'],
      'apikey',
    );
    if (words.get('id') === 'unknown') return mintApiKey(target.environment).key;
    const expires = words.get('expires');
    const expiresAt = expires === undefined ? undefined : now + Number(expires) * 1000;
    // An already expired key cannot be created through createKey; store it with a past expiry.
    const created = await createKey(
      store,
      {
        ...grant,
        clientId: 'local-client',
        name: 'created by an event placeholder',
        environment: target.environment,
        expiresAt: expiresAt !== undefined && expiresAt <= now ? now + 60_000 : expiresAt,
        pepper: target.pepper,
      },
      now,
    );
    target.onCreated?.({ kind: 'key', keyId: created.record.keyId });
    let record = { ...created.record, ...(expiresAt === undefined ? {} : { expiresAt }) };
    let key = created.secret;
    const rotated = words.get('rotated');
    if (rotated !== undefined) {
      // The event presents the old key: still inside the grace period, or just past it.
      const next = await rotateKey(
        store,
        record.keyId,
        { environment: target.environment, pepper: target.pepper, graceMs: 3_600_000 },
        now,
      );
      record = { ...next.record, ...(expiresAt === undefined ? {} : { expiresAt }) };
      if (rotated === 'previous-expired') record = { ...record, previousHashExpiresAt: now - 1000 };
      else if (rotated !== 'previous') throw new Error('rotated must be previous or previous-expired');
    }
    if (words.get('status') === 'revoked') record = { ...record, status: 'revoked' };
    await store.putKey({ ...record, ...unsafeTenant }, 'replace');
    if (words.get('secret') === 'wrong') key = mintApiKey(target.environment, record.keyId).key;
    return key;
  }
  known(words, ['scopes', 'status', 'password', 'user', 'cidrs', 'tier', 'tenant'], 'basic');
  const hasher = target.hasher ?? createPasswordHasher();
  const username = `local-${randomBytes(6).toString('hex')}`;
  if (words.get('user') === 'unknown')
    return Buffer.from(`${username}:${generatePassword()}`).toString('base64');
  const created = await createUser(
    store,
    hasher,
    { ...grant, username, password: undefined, clientId: undefined },
    now,
  );
  target.onCreated?.({ kind: 'user', username });
  if (tenant !== undefined && safeTenant === undefined)
    await store.putUser({ ...created.record, ...unsafeTenant }, 'replace');
  const status = words.get('status');
  if (status === 'locked' || status === 'revoked')
    await setUserStatus(store, username, status === 'locked' ? 'lock' : 'revoke', target.usageKeys);
  else if (status === 'lockedout')
    await store.putUser({ ...created.record, lockedUntil: now + 15 * 60_000 }, 'replace');
  const password = words.get('password') === 'wrong' ? generatePassword() : created.secret;
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/**
 * Replaces `{{gatehouse:apikey ...}}` / `{{gatehouse:basic ...}}` placeholders with credentials
 * created for the occasion, so sample events commit no secret. The same placeholder text yields the
 * same credential within one event (`headers` and `multiValueHeaders` must agree).
 */
export async function fillCredentialPlaceholders(
  event: unknown,
  target: PlaceholderTarget,
): Promise<unknown> {
  const text = JSON.stringify(event);
  const made = new Map<string, string>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!made.has(m[0])) made.set(m[0], await credentialFor(m[1] as string, m[2] as string, target));
  }
  if (made.size === 0) return event;
  return JSON.parse(text.replace(PLACEHOLDER, (all) => made.get(all) as string));
}
