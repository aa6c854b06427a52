/**
 * Manages Gatehouse API keys in the credentials table:
 *
 *   npm run keys -- create --client <id> [--name <label>] [--scopes 'orders:read orders:write']
 *                          [--tier basic|premium] [--cidr 203.0.113.0/24 ...] [--expires 90d|<ISO date>]
 *   npm run keys -- list | show <keyId> | revoke <keyId> | rotate <keyId> [--grace 24h] | delete <keyId>
 *
 * Target (all commands): the local embedded DynamoDB by default; `--table <name>` [`--region`]
 * [`--profile`] for AWS; `--endpoint <url>` for any DynamoDB-compatible server. `--json` prints one
 * JSON document for scripts. A new key is printed exactly once; nothing ever prints a hash.
 * Exit status: 0 done, 1 the operation failed (unknown id, table missing, no credentials), 2 usage.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { isLoopbackHost } from '../shared/config/env.ts';
import {
  CredentialAdminError,
  createKey,
  deleteKey,
  describeKey,
  revokeKey,
  rotateKey,
  showKey,
} from '../shared/credentials/admin.ts';
import { KEY_ENVIRONMENTS, KEY_ID_PATTERN, type KeyEnvironment } from '../shared/credentials/api-key.ts';
import { dynamoAdminStore } from '../shared/credentials/dynamo-admin.ts';
import { createDynamoClient } from '../shared/credentials/dynamo-store.ts';
import { type CredentialAdminStore, CredentialStoreError } from '../shared/credentials/store.ts';
import {
  type CliName,
  cliProgram,
  collectValue,
  commandLineExit,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';
import { localDynamoClient, templateTables } from './local/dynamo.ts';
import { openToolDatabase } from './local/gateway-state.ts';
import { PROJECT_ROOT } from './paths.ts';
import { loadTemplate } from './template/template.ts';

/** Bad usage: exit status 2. */
export class CliUsageError extends UsageError {
  override readonly name = 'CliUsageError';
}

/** The logical ID (and local table name) of the credentials table. */
export const LOCAL_TABLE = 'CredentialsTable';

/** Adds the options every credentials command understands (where to act, output format). */
export function withTargetOptions(program: Command): Command {
  return program
    .option(
      '--table <name>',
      "credentials table in AWS (default: the running npm start's database, else .gatehouse/dynamodb)",
    )
    .option('--region <region>', 'AWS region of --table (default AWS_REGION)')
    .option('--profile <name>', 'AWS profile for --table')
    .option('--endpoint <url>', 'any DynamoDB-compatible server (with --table, or the CredentialsTable)')
    .option('--json', 'print one JSON document (for scripts)');
}

/** The target and output options, as parsed. */
export interface TargetValues {
  readonly table?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpoint?: string;
  readonly json?: true;
}

/** Where the commands act, and how to let go of it. */
export interface CliTarget {
  readonly store: CredentialAdminStore;
  /** Human description (`the local database in .gatehouse/dynamodb (...)`, `table X in eu-west-1`). */
  readonly where: string;
  /** A local database the flags did not name: the commands say which one they used. */
  readonly local?: true;
  close(): Promise<void>;
}

/** Opens the store the flags name: `--endpoint`, `--table` (AWS), or the local embedded database. */
export async function openTarget(values: {
  table?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  endpoint?: string | undefined;
}): Promise<CliTarget> {
  const budgetMs = 15_000;
  const table = values.table ?? LOCAL_TABLE;
  if (values.endpoint !== undefined || values.table !== undefined) {
    let loopback = false;
    if (values.endpoint !== undefined) {
      try {
        loopback = isLoopbackHost(new URL(values.endpoint).hostname);
      } catch {
        throw new CliUsageError(`--endpoint is not a URL: ${values.endpoint}`);
      }
    }
    const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (region === undefined && values.endpoint === undefined)
      throw new CliUsageError('--region (or AWS_REGION) is required with --table');
    const client =
      loopback && values.profile === undefined && process.env.AWS_ACCESS_KEY_ID === undefined
        ? localDynamoClient(values.endpoint as string) // local servers ignore credentials
        : createDynamoClient({
            region: region ?? 'us-east-1',
            endpoint: values.endpoint,
            profile: values.profile,
            connectTimeoutMs: 3000,
            requestTimeoutMs: 10_000,
            maxAttempts: 3,
          });
    return {
      store: dynamoAdminStore(client, table, budgetMs),
      where:
        values.endpoint === undefined
          ? `table ${table} in ${region}`
          : `table ${table} at ${values.endpoint}`,
      close: async () => client.destroy(),
    };
  }
  const local = await openToolDatabase(templateTables(loadTemplate(join(PROJECT_ROOT, 'template.yaml'))));
  const client = localDynamoClient(local.endpoint);
  return {
    store: dynamoAdminStore(client, table, budgetMs),
    where: local.description,
    local: true,
    close: async () => {
      client.destroy();
      await local.close();
    },
  };
}

/** A message for a failure, naming what to do about it. Never contains a secret. */
export function explainFailure(err: unknown, where: string): string {
  if (err instanceof CredentialAdminError) return err.message;
  if (err instanceof CredentialStoreError) {
    switch (err.reason) {
      case 'table_missing':
        return `the credentials table does not exist (${where}); check --table and --region`;
      case 'store_no_credentials':
        return 'no AWS credentials found: set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY';
      case 'store_denied':
        return `access denied to ${where}: the credentials in use may not read or write this table`;
      case 'store_unavailable':
        return `cannot reach DynamoDB (${where})`;
      case 'store_timeout':
        return `DynamoDB did not answer in time (${where})`;
      case 'store_throttled':
        return `DynamoDB throttled the request (${where}); retry`;
      default:
        return `${err.message} (${where})`;
    }
  }
  return (err as Error).message;
}

/** Runs a command body against the target, printing failures and returning the exit status. */
export async function runAgainstTarget(
  values: Parameters<typeof openTarget>[0],
  body: (target: CliTarget) => Promise<void>,
  err: (line: string) => void,
): Promise<number> {
  let target: CliTarget;
  try {
    target = await openTarget(values);
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    err(`error: ${(e as Error).message}`);
    return 1;
  }
  try {
    await body(target);
    if (target.local === true) err(`database: ${target.where}`);
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    if (e instanceof CredentialAdminError && e.reason === 'invalid_input') throw new CliUsageError(e.message);
    err(`error: ${explainFailure(e, target.where)}`);
    return 1;
  } finally {
    await target.close();
  }
}

/** Reports bad usage (exit status 2) or help (0); rethrows anything else. */
export function usageFailure(e: unknown, name: CliName, io: CliIo): number {
  const code = commandLineExit(e, name, io);
  if (code === undefined) throw e;
  return code;
}

/** `30d`, `12h`, `45m`, `90s` → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)([smhd])$/.exec(value);
  if (m === null) throw new CliUsageError(`${flag} must look like 90s, 30m, 12h or 30d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** Splits `--scopes 'a b'` (spaces or commas). */
export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** What the CLI writes to; parameters so tests can capture them. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => number;
}

export const PROCESS_IO: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  now: Date.now,
};

/** The pepper and key environment the keys must be made with (same variables as the function). */
function keySettings(
  env: CliIo['env'],
  flag: string | undefined,
): { environment: KeyEnvironment; pepper: string | undefined } {
  const environment = flag ?? env.API_KEY_ENVIRONMENT ?? 'live';
  if (!(KEY_ENVIRONMENTS as readonly string[]).includes(environment))
    throw new CliUsageError(`--environment must be one of ${KEY_ENVIRONMENTS.join(', ')}`);
  const pepper =
    env.API_KEY_PEPPER === undefined || env.API_KEY_PEPPER === '' ? undefined : env.API_KEY_PEPPER;
  return { environment: environment as KeyEnvironment, pepper };
}

const KEYS_NAME: CliName = { tool: 'keys', invocation: 'npm run keys --' };

/** The `npm run keys` command line. */
export function keysProgram(): Command {
  return withTargetOptions(
    cliProgram(KEYS_NAME, 'Manage Gatehouse API keys in the credentials table.')
      .argument('<command>', 'create, list, show, revoke, rotate or delete')
      .argument('[keyId]', 'the key (show, revoke, rotate, delete)')
      .option('--client <id>', 'create: the client the key belongs to (required)')
      .option('--name <label>', 'create: a label')
      .option('--scopes <scopes>', "create: scopes, space- or comma-separated ('orders:read orders:write')")
      .option('--tier <tier>', 'create: usage plan tier (default basic)')
      .option('--cidr <range>', 'create: allowed source range (repeatable)', collectValue)
      .option('--expires <when>', 'create: a duration (90d, 12h) or an ISO date')
      .option('--environment <env>', 'create, rotate: live or test (default API_KEY_ENVIRONMENT or live)')
      .option('--grace <duration>', 'rotate: how long the previous secret keeps working (default 24h)'),
  ).addHelpText(
    'after',
    `
Commands:
  create --client <id> [--name <label>] [--scopes 'a b'] [--tier basic] [--cidr <range>]... [--expires 90d|<ISO>]
  list
  show <keyId>
  revoke <keyId>
  rotate <keyId> [--grace 24h]
  delete <keyId>`,
  );
}

/** Parsed `npm run keys` options. */
interface KeysValues extends TargetValues {
  readonly client?: string;
  readonly name?: string;
  readonly scopes?: string;
  readonly tier?: string;
  readonly cidr?: string[];
  readonly expires?: string;
  readonly environment?: string;
  readonly grace?: string;
}

function keyIdArg(positionals: readonly string[]): string {
  const keyId = positionals[1];
  if (keyId === undefined) throw new CliUsageError('a key id is required');
  if (!KEY_ID_PATTERN.test(keyId))
    throw new CliUsageError(`not a key id: ${JSON.stringify(keyId)} (12 letters and digits)`);
  return keyId;
}

/** Runs `keys` with the given arguments; returns the exit status. */
export async function keysCli(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  try {
    const { options: values, operands: positionals } = parseCommandLine<KeysValues>(keysProgram(), argv);
    const command = positionals[0];
    const print = (json: unknown, human: string) =>
      io.out(values.json ? JSON.stringify(json, null, 2) : human);
    const now = io.now();
    switch (command) {
      case 'create': {
        if (values.client === undefined) throw new CliUsageError('create needs --client <id>');
        const settings = keySettings(io.env, values.environment);
        let expiresAt: number | undefined;
        if (values.expires !== undefined) {
          expiresAt = /^\d+[smhd]$/.test(values.expires)
            ? now + parseDuration(values.expires, '--expires')
            : Date.parse(values.expires);
          if (Number.isNaN(expiresAt))
            throw new CliUsageError('--expires must be a duration (90d) or an ISO date');
        }
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const issued = await createKey(
              store,
              {
                clientId: values.client as string,
                name: values.name ?? '',
                scopes: splitList(values.scopes),
                tier: values.tier ?? 'basic',
                allowedCidrs: values.cidr ?? [],
                expiresAt,
                ...settings,
              },
              now,
            );
            print(
              { ...describeKey(issued.record, now), key: issued.secret },
              `created key ${issued.record.keyId} for client ${issued.record.clientId}\n` +
                `the key is shown once, store it now:\n\n  ${issued.secret}\n`,
            );
          },
          io.err,
        );
      }
      case 'list':
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const keys = (await store.listKeys()).map((k) => describeKey(k, now));
            const rows = keys.map(
              (k) =>
                `${k.keyId}  ${String(k.status).padEnd(8)} ${String(k.clientId).padEnd(20)} ${String(k.tier).padEnd(8)} ${(k.scopes as string[]).join(' ')}`,
            );
            print(keys, keys.length === 0 ? 'no keys' : rows.join('\n'));
          },
          io.err,
        );
      case 'show': {
        const keyId = keyIdArg(positionals);
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const shown = describeKey(await showKey(store, keyId), now);
            print(
              shown,
              Object.entries(shown)
                .map(([k, v]) => `${k.padEnd(25)} ${Array.isArray(v) ? v.join(' ') : String(v)}`)
                .join('\n'),
            );
          },
          io.err,
        );
      }
      case 'revoke': {
        const keyId = keyIdArg(positionals);
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const record = await revokeKey(store, keyId);
            print(describeKey(record, now), `revoked key ${keyId}`);
          },
          io.err,
        );
      }
      case 'rotate': {
        const keyId = keyIdArg(positionals);
        const graceMs = parseDuration(values.grace ?? '24h', '--grace');
        const settings = keySettings(io.env, values.environment);
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const issued = await rotateKey(store, keyId, { ...settings, graceMs }, now);
            const until = issued.record.previousHashExpiresAt;
            print(
              { ...describeKey(issued.record, now), key: issued.secret },
              `rotated key ${keyId}; the previous secret works ${until === undefined ? 'no more' : `until ${new Date(until).toISOString()}`}\n` +
                `the new key is shown once, store it now:\n\n  ${issued.secret}\n`,
            );
          },
          io.err,
        );
      }
      case 'delete': {
        const keyId = keyIdArg(positionals);
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            await deleteKey(store, keyId);
            print({ keyId, deleted: true }, `deleted key ${keyId}`);
          },
          io.err,
        );
      }
      default:
        throw new CliUsageError(`unknown command ${command}`);
    }
  } catch (e) {
    return usageFailure(e, KEYS_NAME, io);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(KEYS_NAME, (argv) => keysCli(argv));
