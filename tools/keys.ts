/**
 * Manages Gatehouse API keys in the credentials table, each with its own API Gateway usage key:
 *
 *   npm run keys -- create --client <id> --scopes 'orders:read orders:write' [--name <label>]
 *                          [--tier basic|premium] [--cidr 203.0.113.0/24 ...] [--expires 90d|<ISO date>]
 *                          [--tenant <id>]
 *   npm run keys -- list | show <keyId> | revoke <keyId> | rotate <keyId> [--grace 24h] | delete <keyId>
 *   npm run keys -- migrate
 *
 * Target (all commands): the local embedded DynamoDB and the local gateway's API keys by default;
 * `--stack <name>` [`--region`] [`--profile`] for a deployed stack (its outputs name the table, the
 * usage plans and the secret holding the pepper new keys are hashed with); `--table <name>` / `--endpoint <url>` with `--usage-plan <tier>=<id>` for a table
 * named by hand. `--json` prints one JSON document for scripts. A new key is printed exactly once;
 * nothing ever prints a hash. Exit status: 0 done, 1 the operation failed (unknown id, table
 * missing, no credentials), 2 usage (including scopes and tiers the API and the stack do not define).
 * Reference: docs/key-authorizer.md#cli.
 */
import { join } from 'node:path';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { Command } from 'commander';
import { isLoopbackHost } from '../shared/config/env.ts';
import {
  type AttachReport,
  attachMissingUsageKeys,
  CredentialAdminError,
  checkGrantAgainst,
  createKey,
  deleteKey,
  describeKey,
  documentScopes,
  type GrantCatalog,
  revokeKey,
  rotateKey,
  showKey,
} from '../shared/credentials/admin.ts';
import { KEY_ENVIRONMENTS, KEY_ID_PATTERN, type KeyEnvironment } from '../shared/credentials/api-key.ts';
import { apiGatewayUsageKeys } from '../shared/credentials/apigateway-usage-keys.ts';
import { createDynamoClient, dynamoAdminStore } from '../shared/credentials/dynamo-admin.ts';
import { type CredentialAdminStore, CredentialStoreError } from '../shared/credentials/store.ts';
import { UsageKeyError, type UsageKeyRegistry } from '../shared/credentials/usage-keys.ts';
import { ROUTES } from '../shared/generated/routes.ts';
import {
  type CliName,
  cliProgram,
  collectValue,
  commandLineExit,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';
import { readStackOutputs, readStackPepper, StackError, stackTargets } from './credentials/stack.ts';
import { LOCAL_API_KEYS_TABLE, localUsageKeys, templateUsagePlans } from './local/api-keys.ts';
import { localDynamoClient, templateTables } from './local/dynamo.ts';
import { openToolDatabase } from './local/gateway-state.ts';
import { readDocumentSettings } from './openapi/settings.ts';
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
      '--stack <name>',
      'a deployed stack: its outputs name the table, the usage plans and (keys) the pepper secret',
    )
    .option(
      '--table <name>',
      "credentials table in AWS (default: the running npm start's database, else .gatehouse/dynamodb)",
    )
    .option('--region <region>', 'AWS region of --stack / --table (default AWS_REGION)')
    .option('--profile <name>', 'AWS profile for --stack / --table')
    .option('--endpoint <url>', 'any DynamoDB-compatible server (with --table, or the CredentialsTable)')
    .option(
      '--usage-plan <tier=id>',
      'with --table / --endpoint: the usage plan id of a tier (repeatable; --stack reads them itself)',
      collectValue,
    )
    .option('--json', 'print one JSON document (for scripts)');
}

/** The target and output options, as parsed. */
export interface TargetValues {
  readonly stack?: string;
  readonly table?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpoint?: string;
  readonly usagePlan?: string[];
  readonly json?: true;
}

/** Where the commands act, and how to let go of it. */
export interface CliTarget {
  readonly store: CredentialAdminStore;
  /**
   * Where each credential's own usage key is made, disabled and deleted: the local gateway's API
   * keys, or API Gateway (with the usage plans known, or not: then no usage key can be made).
   */
  readonly usageKeys: UsageKeyRegistry;
  /** Human description (`the local database in .gatehouse/dynamodb (...)`, `table X in eu-west-1`). */
  readonly where: string;
  /** Where the tiers come from, for messages (`template.yaml`, `stack gatehouse`, `--usage-plan`). */
  readonly tiersFrom: string;
  /** A local database the flags did not name: the commands say which one they used. */
  readonly local?: true;
  /**
   * With `--stack`: reads the pepper the stack's key authorizer hashes with, from the secret its
   * `ApiKeyPepperSecretArn` output names (only when a key is made: create, rotate).
   */
  readonly stackPepper?: { readonly stack: string; read(): Promise<string> };
  close(): Promise<void>;
}

/** Credentials that local servers (dynalite, the API Gateway fake in tests) do not check. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** `--usage-plan basic=abc123 --usage-plan premium=def456` → tier → usage plan id. */
export function parseUsagePlans(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const plans: Record<string, string> = {};
  for (const value of values) {
    const m = /^([A-Za-z0-9_-]{1,64})=([A-Za-z0-9]{1,64})$/.exec(value);
    if (m === null)
      throw new CliUsageError(
        `--usage-plan must look like basic=abc123 (tier=usage plan id), not ${JSON.stringify(value)}`,
      );
    if (Object.hasOwn(plans, m[1] as string))
      throw new CliUsageError(`--usage-plan names tier ${m[1]} twice`);
    plans[m[1] as string] = m[2] as string;
  }
  return plans;
}

/** An AWS client's options for a service: region, profile, and the SDK's endpoint variable. */
function awsClientOptions(
  endpoint: string | undefined,
  region: string,
  profile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
) {
  let loopback = false;
  if (endpoint !== undefined) {
    try {
      loopback = isLoopbackHost(new URL(endpoint).hostname);
    } catch {
      throw new CliUsageError(`not a URL: ${endpoint}`);
    }
  }
  return {
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(profile === undefined ? {} : { profile }),
    // A local server ignores credentials: none need to exist on a developer's machine for it.
    ...(loopback && profile === undefined && env.AWS_ACCESS_KEY_ID === undefined
      ? { credentials: LOCAL_CREDENTIALS }
      : {}),
  };
}

/**
 * Opens the store and the usage key target the flags name: `--stack` (the table and usage plans
 * its outputs name), `--table` / `--endpoint` (with `--usage-plan`), or the local embedded database
 * with the local gateway's API keys. API Gateway and CloudFormation are reached at their regional
 * endpoints, or at `AWS_ENDPOINT_URL_API_GATEWAY` / `AWS_ENDPOINT_URL_CLOUDFORMATION` (the SDK's
 * variables, read here from `env`).
 */
export async function openTarget(
  values: {
    stack?: string | undefined;
    table?: string | undefined;
    region?: string | undefined;
    profile?: string | undefined;
    endpoint?: string | undefined;
    usagePlan?: string[] | undefined;
  },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CliTarget> {
  const budgetMs = 15_000;
  const givenPlans = parseUsagePlans(values.usagePlan);
  if (values.stack !== undefined && givenPlans !== undefined)
    throw new CliUsageError('--usage-plan and --stack both name the usage plans: use one of them');
  if (values.stack !== undefined || values.endpoint !== undefined || values.table !== undefined) {
    if (values.endpoint !== undefined) {
      try {
        new URL(values.endpoint);
      } catch {
        throw new CliUsageError(`--endpoint is not a URL: ${values.endpoint}`);
      }
    }
    const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (region === undefined && values.endpoint === undefined)
      throw new CliUsageError(
        `--region (or AWS_REGION) is required with ${values.stack !== undefined ? '--stack' : '--table'}`,
      );
    const awsRegion = region ?? 'us-east-1';
    let table = values.table ?? LOCAL_TABLE;
    let plans = givenPlans;
    let tiersFrom = '--usage-plan';
    let stackPepper: CliTarget['stackPepper'];
    if (values.stack !== undefined) {
      const stackName = values.stack;
      const cloudFormation = new CloudFormationClient(
        awsClientOptions(env.AWS_ENDPOINT_URL_CLOUDFORMATION, awsRegion, values.profile, env),
      );
      try {
        const targets = stackTargets(stackName, await readStackOutputs(cloudFormation, stackName, awsRegion));
        table = values.table ?? targets.table;
        plans = targets.plans;
        tiersFrom = `stack ${stackName}`;
        const secretArn = targets.pepperSecretArn;
        if (secretArn !== undefined) {
          // The same credentials the SDK clients use (profile, environment, SSO, ...), resolved
          // only when a key is made.
          const secretsManager = awsClientOptions(
            env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
            awsRegion,
            values.profile,
            env,
          );
          const credentials = cloudFormation.config.credentials;
          stackPepper = {
            stack: stackName,
            read: () =>
              readStackPepper({
                stackName,
                secretArn,
                region: awsRegion,
                endpoint: 'endpoint' in secretsManager ? secretsManager.endpoint : undefined,
                credentials: async () =>
                  'credentials' in secretsManager ? secretsManager.credentials : await credentials(),
              }),
          };
        }
      } finally {
        cloudFormation.destroy();
      }
    }
    const loopback = values.endpoint !== undefined && isLoopbackHost(new URL(values.endpoint).hostname);
    const client =
      loopback && values.profile === undefined && env.AWS_ACCESS_KEY_ID === undefined
        ? localDynamoClient(values.endpoint as string) // local servers ignore credentials
        : createDynamoClient({
            region: awsRegion,
            endpoint: values.endpoint,
            profile: values.profile,
            connectTimeoutMs: 3000,
            requestTimeoutMs: 10_000,
            maxAttempts: 3,
          });
    const apiGateway = new APIGatewayClient(
      awsClientOptions(env.AWS_ENDPOINT_URL_API_GATEWAY, awsRegion, values.profile, env),
    );
    return {
      store: dynamoAdminStore(client, table, budgetMs),
      usageKeys: apiGatewayUsageKeys(
        apiGateway,
        plans,
        env.AWS_ENDPOINT_URL_API_GATEWAY === undefined
          ? `API Gateway in ${awsRegion}`
          : `API Gateway at ${env.AWS_ENDPOINT_URL_API_GATEWAY}`,
      ),
      where:
        values.endpoint === undefined
          ? `table ${table} in ${awsRegion}`
          : `table ${table} at ${values.endpoint}`,
      tiersFrom,
      ...(stackPepper === undefined ? {} : { stackPepper }),
      close: async () => {
        client.destroy();
        apiGateway.destroy();
      },
    };
  }
  if (givenPlans !== undefined)
    throw new CliUsageError('--usage-plan names API Gateway usage plans: use it with --table or --endpoint');
  const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const local = await openToolDatabase([...templateTables(template), LOCAL_API_KEYS_TABLE]);
  const client = localDynamoClient(local.endpoint);
  return {
    store: dynamoAdminStore(client, LOCAL_TABLE, budgetMs),
    usageKeys: localUsageKeys(client, templateUsagePlans(template)),
    where: local.description,
    tiersFrom: 'template.yaml',
    local: true,
    close: async () => {
      client.destroy();
      await local.close();
    },
  };
}

/** The API document the generated routes come from, for messages. */
function documentName(): string {
  try {
    return readDocumentSettings(PROJECT_ROOT).openapi;
  } catch {
    return 'the API document';
  }
}

/** What a new credential's grant must stay within, at this target. */
export function grantCatalog(target: CliTarget): GrantCatalog {
  const plans = target.usageKeys.plans;
  return {
    scopes: documentScopes(ROUTES),
    scopesFrom: documentName(),
    tiers: plans === undefined ? undefined : Object.keys(plans),
    tiersFrom: target.tiersFrom,
  };
}

/**
 * The usage key target for a new credential: the target's, once its plans are known to exist; none
 * with `--no-usage-key`. Refuses (exit 2) when the plans are not known, rather than making a
 * credential that a REST API requiring API keys would refuse.
 */
export async function usageKeysForNew(
  target: CliTarget,
  wanted: boolean,
): Promise<UsageKeyRegistry | undefined> {
  if (!wanted) return undefined;
  if (target.usageKeys.plans === undefined)
    throw new CliUsageError(
      'a new credential gets its own usage key, so the usage plans must be known: pass --stack <name>, or --usage-plan <tier>=<id> for each tier (--no-usage-key only for APIs that require no API key)',
    );
  await target.usageKeys.checkPlans();
  return target.usageKeys;
}

/** One line per record a migration changed or left. */
export function describeAttach(report: AttachReport, kind: 'key' | 'user'): string[] {
  return [
    ...report.attached.map((a) => `${kind} ${a.id}: usage key ${a.usageKeyId}`),
    ...report.skipped.map((s) => `${kind} ${s.id}: skipped (${s.reason})`),
    `${report.attached.length} ${kind}${report.attached.length === 1 ? '' : 's'} given a usage key, ${report.skipped.length} skipped`,
  ];
}

/** A migration fails (exit 1) when it left a record that is neither revoked nor handled meanwhile. */
export function attachFailed(report: AttachReport): boolean {
  return report.skipped.some((s) => s.reason.startsWith('tier '));
}

/** A message for a failure, naming what to do about it. Never contains a secret. */
export function explainFailure(err: unknown, where: string, usageWhere = 'API Gateway'): string {
  if (err instanceof CredentialAdminError || err instanceof StackError) return err.message;
  if (err instanceof UsageKeyError) {
    switch (err.reason) {
      case 'usage_key_denied':
        return `access denied to ${usageWhere}: the credentials in use may not manage API keys and usage plan keys (docs/key-authorizer.md#iam-permissions-for-the-cli)`;
      case 'usage_key_no_credentials':
        return 'no AWS credentials found: set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY';
      case 'usage_key_unavailable':
        return `cannot reach ${usageWhere}, or it throttled the request; retry (${err.message})`;
      case 'usage_key_limit':
        return `${usageWhere} refused a new API key: the account has the most API keys a region allows (10,000); delete revoked keys and users you no longer need (docs/key-authorizer.md#per-client-quotas)`;
      default:
        return err.message;
    }
  }
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

/**
 * Runs a command body against the target, printing failures and returning the exit status (the
 * body's, or 0). Input the target refuses (an undefined tier or scope) is bad usage: exit 2.
 */
export async function runAgainstTarget(
  values: Parameters<typeof openTarget>[0],
  body: (target: CliTarget) => Promise<number | undefined>,
  io: Pick<CliIo, 'err' | 'env'>,
): Promise<number> {
  let target: CliTarget;
  try {
    target = await openTarget(values, io.env);
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    io.err(`error: ${explainFailure(e, 'the target')}`);
    return 1;
  }
  try {
    const code = (await body(target)) ?? 0;
    if (target.local === true) io.err(`database: ${target.where}`);
    return code;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    if (e instanceof CredentialAdminError && e.reason === 'invalid_input') throw new CliUsageError(e.message);
    io.err(`error: ${explainFailure(e, target.where, target.usageKeys.where)}`);
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

/**
 * The pepper a new key's hash is made with at `target`: a stack's own (its pepper secret), else
 * `API_KEY_PEPPER`. A different `API_KEY_PEPPER` beside a stack's is refused: keys hashed with it
 * would never verify.
 */
async function pepperAt(
  target: CliTarget,
  settings: { environment: KeyEnvironment; pepper: string | undefined },
): Promise<{ environment: KeyEnvironment; pepper: string | undefined }> {
  if (target.stackPepper === undefined) return settings;
  const pepper = await target.stackPepper.read();
  if (settings.pepper !== undefined && settings.pepper !== pepper)
    throw new StackError(
      `API_KEY_PEPPER differs from the pepper of stack ${target.stackPepper.stack} (its ApiKeyPepperSecretArn secret): unset it, --stack reads the pepper itself`,
    );
  return { ...settings, pepper };
}

const KEYS_NAME: CliName = { tool: 'keys', invocation: 'npm run keys --' };

/** The `npm run keys` command line. */
export function keysProgram(): Command {
  return withTargetOptions(
    cliProgram(KEYS_NAME, 'Manage Gatehouse API keys in the credentials table.')
      .argument('<command>', 'create, list, show, revoke, rotate, delete or migrate')
      .argument('[keyId]', 'the key (show, revoke, rotate, delete)')
      .option('--client <id>', 'create: the client the key belongs to (required)')
      .option('--name <label>', 'create: a label')
      .option(
        '--scopes <scopes>',
        "create: scopes the API document defines, space- or comma-separated ('orders:read orders:write'; required)",
      )
      .option('--tier <tier>', 'create: a usage plan tier the stack defines (default basic)')
      .option('--cidr <range>', 'create: allowed source range (repeatable)', collectValue)
      .option('--expires <when>', 'create: a duration (90d, 12h) or an ISO date')
      .option('--tenant <id>', 'create: the tenant the key acts for (tenant-bound paths)')
      .option('--environment <env>', 'create, rotate: live or test (default API_KEY_ENVIRONMENT or live)')
      .option('--grace <duration>', 'rotate: how long the previous secret keeps working (default 24h)')
      .option('--no-usage-key', 'create: no usage key of its own (only for APIs that require no API key)'),
  ).addHelpText(
    'after',
    `
Commands:
  create --client <id> --scopes 'a b' [--name <label>] [--tier basic] [--cidr <range>]... [--expires 90d|<ISO>]
         [--tenant <id>]
  list
  show <keyId>
  revoke <keyId>            also disables the key's usage key
  rotate <keyId> [--grace 24h]   keeps the usage key (and so the quota)
  delete <keyId>            also deletes the key's usage key
  migrate                   gives every key without a usage key its own

Where (every command): the local database by default; --stack <name> for a deployed stack;
--table <name> or --endpoint <url>, with --usage-plan <tier>=<id> per tier to create keys.`,
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
  readonly tenant?: string;
  readonly environment?: string;
  readonly grace?: string;
  /** false with `--no-usage-key`. */
  readonly usageKey: boolean;
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
        const grant = { scopes: splitList(values.scopes), tier: values.tier ?? 'basic' };
        return await runAgainstTarget(
          values,
          async (target) => {
            checkGrantAgainst(grant, grantCatalog(target));
            const peppered = await pepperAt(target, settings);
            const usageKeys = await usageKeysForNew(target, values.usageKey);
            const issued = await createKey(
              target.store,
              {
                clientId: values.client as string,
                name: values.name ?? '',
                ...grant,
                allowedCidrs: values.cidr ?? [],
                expiresAt,
                usageKeys,
                tenant: values.tenant,
                ...peppered,
              },
              now,
            );
            const usage = issued.record.usageKey;
            print(
              { ...describeKey(issued.record, now), key: issued.secret },
              `created key ${issued.record.keyId} for client ${issued.record.clientId}\n` +
                (usage === undefined
                  ? 'without a usage key: APIs that require API keys refuse it\n'
                  : `tier ${issued.record.tier}: its own usage key ${usage.id} (${target.usageKeys.where})\n`) +
                `the key is shown once, store it now:\n\n  ${issued.secret}\n`,
            );
            return 0;
          },
          io,
        );
      }
      case 'list':
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const keys = (await store.listKeys()).map((k) => describeKey(k, now));
            const rows = keys.map(
              (k) =>
                `${k.keyId}  ${String(k.status).padEnd(8)} ${String(k.clientId).padEnd(20)} ${String(k.tier).padEnd(8)} ${String(k.usageKeyId ?? '(no usage key)').padEnd(14)} ${(k.scopes as string[]).join(' ')}`,
            );
            print(keys, keys.length === 0 ? 'no keys' : rows.join('\n'));
            return 0;
          },
          io,
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
            return 0;
          },
          io,
        );
      }
      case 'revoke': {
        const keyId = keyIdArg(positionals);
        return await runAgainstTarget(
          values,
          async ({ store, usageKeys }) => {
            const record = await revokeKey(store, keyId, usageKeys);
            print(
              describeKey(record, now),
              `revoked key ${keyId}${record.usageKey === undefined ? '' : `; its usage key ${record.usageKey.id} is disabled`}`,
            );
            return 0;
          },
          io,
        );
      }
      case 'rotate': {
        const keyId = keyIdArg(positionals);
        const graceMs = parseDuration(values.grace ?? '24h', '--grace');
        const settings = keySettings(io.env, values.environment);
        return await runAgainstTarget(
          values,
          async (target) => {
            const peppered = await pepperAt(target, settings);
            const issued = await rotateKey(target.store, keyId, { ...peppered, graceMs }, now);
            const until = issued.record.previousHashExpiresAt;
            print(
              { ...describeKey(issued.record, now), key: issued.secret },
              `rotated key ${keyId}; the previous secret works ${until === undefined ? 'no more' : `until ${new Date(until).toISOString()}`}\n` +
                `the new key is shown once, store it now:\n\n  ${issued.secret}\n`,
            );
            return 0;
          },
          io,
        );
      }
      case 'delete': {
        const keyId = keyIdArg(positionals);
        return await runAgainstTarget(
          values,
          async ({ store, usageKeys }) => {
            await deleteKey(store, keyId, usageKeys);
            print({ keyId, deleted: true }, `deleted key ${keyId}`);
            return 0;
          },
          io,
        );
      }
      case 'migrate':
        return await runAgainstTarget(
          values,
          async (target) => {
            const usageKeys = await usageKeysForNew(target, true);
            const report = await attachMissingUsageKeys(target.store, 'key', usageKeys as UsageKeyRegistry);
            print(report, describeAttach(report, 'key').join('\n'));
            return attachFailed(report) ? 1 : 0;
          },
          io,
        );
      default:
        throw new CliUsageError(`unknown command ${command}`);
    }
  } catch (e) {
    return usageFailure(e, KEYS_NAME, io);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(KEYS_NAME, (argv) => keysCli(argv));
