/**
 * A deployed Gatehouse stack as the credentials CLIs see it: its outputs (CloudFormation
 * DescribeStacks), which name the credentials table (`CredentialsTableName`) and each tier's usage
 * plan (`<Tier>UsagePlanId`), and the Secrets Manager secret holding the API key pepper
 * (`ApiKeyPepperSecretArn`). So `--stack <name>` is all a deployer types, whatever physical names
 * `sam deploy` generated.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import type { AwsCredentials } from '../../shared/aws/credentials.ts';
import { AwsCallError } from '../../shared/aws/json-call.ts';
import { usagePlansFromOutputs } from '../../shared/credentials/usage-keys.ts';
import { secretsManagerReader } from '../../shared/secrets/secrets-manager.ts';

/** The stack cannot be read, or does not carry what the CLIs need; the message says which. */
export class StackError extends Error {
  override readonly name = 'StackError';
}

/** What the CLIs take from a stack. */
export interface StackTargets {
  /** Physical name of the credentials table. */
  readonly table: string;
  /** Tier → usage plan id. */
  readonly plans: Readonly<Record<string, string>>;
  /** The pepper secret's ARN (`ApiKeyPepperSecretArn`); undefined for a stack without one. */
  readonly pepperSecretArn: string | undefined;
}

/** The stack's outputs, by key. */
export async function readStackOutputs(
  client: CloudFormationClient,
  stackName: string,
  region: string,
): Promise<Record<string, string>> {
  let stacks: DescribeStacksCommandOutput;
  try {
    stacks = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    const message = String((err as { message?: unknown }).message ?? '');
    if (name === 'ValidationError' && /does not exist/.test(message))
      throw new StackError(`stack ${stackName} does not exist in ${region}; check --stack and --region`);
    if (name === 'CredentialsProviderError')
      throw new StackError(
        'no AWS credentials found: set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
      );
    if (name === 'AccessDenied' || name === 'AccessDeniedException')
      throw new StackError(
        `access denied to stack ${stackName}: the credentials in use may not call cloudformation:DescribeStacks`,
      );
    throw new StackError(`cannot read stack ${stackName} in ${region} (${name ?? 'error'})`, { cause: err });
  }
  const stack = stacks.Stacks?.[0];
  if (stack === undefined) throw new StackError(`stack ${stackName} does not exist in ${region}`);
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? [])
    if (o.OutputKey !== undefined && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

/** The table and the usage plans a stack's outputs name; refuses a stack that lacks them. */
export function stackTargets(stackName: string, outputs: Readonly<Record<string, string>>): StackTargets {
  const table = outputs.CredentialsTableName;
  if (table === undefined || table === '')
    throw new StackError(`stack ${stackName} has no CredentialsTableName output: is it a Gatehouse stack?`);
  const plans = usagePlansFromOutputs(outputs);
  if (Object.keys(plans).length === 0)
    throw new StackError(
      `stack ${stackName} has no <Tier>UsagePlanId outputs (BasicUsagePlanId, ...): deploy the current template.yaml first`,
    );
  const pepperSecretArn = outputs.ApiKeyPepperSecretArn;
  return { table, plans, pepperSecretArn: pepperSecretArn === '' ? undefined : pepperSecretArn };
}

/** Where and how the pepper secret is read. */
export interface PepperSource {
  readonly stackName: string;
  readonly secretArn: string;
  readonly region: string;
  /** Secrets Manager's endpoint when not the region's (`AWS_ENDPOINT_URL_SECRETS_MANAGER`). */
  readonly endpoint: string | undefined;
  /** The CLI's credentials (the SDK's chain: environment, profile, SSO, ...). */
  readonly credentials: () => Promise<AwsCredentials>;
}

/**
 * The API key pepper the stack's key authorizer hashes with, read from its secret with one signed
 * GetSecretValue: the same reader the function uses (shared/secrets/secrets-manager.ts).
 */
export async function readStackPepper(source: PepperSource): Promise<string> {
  const where = `the pepper of stack ${source.stackName} (${source.secretArn})`;
  let credentials: AwsCredentials;
  try {
    credentials = await source.credentials();
  } catch {
    throw new StackError(
      'no AWS credentials found: set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
    );
  }
  const reader = secretsManagerReader(
    {
      region: source.region,
      endpoint: source.endpoint,
      ttlMs: 0,
      missIntervalMs: 0,
      retryMs: 0,
      connectTimeoutMs: 3000,
      requestTimeoutMs: 10_000,
      maxAttempts: 3,
      budgetMs: 20_000,
    },
    credentials,
  );
  let value: string;
  try {
    value = await reader.read(source.secretArn);
  } catch (err) {
    const code = err instanceof AwsCallError ? err.code : undefined;
    if (code === 'access_denied')
      throw new StackError(
        `access denied to ${where}: the credentials in use need secretsmanager:GetSecretValue on it and kms:Decrypt on GatehouseKey (docs/key-authorizer.md#iam-permissions-for-the-cli)`,
      );
    if (code === 'not_found') throw new StackError(`${where} does not exist; check --stack and --region`);
    throw new StackError(`cannot read ${where} (${(err as Error).message})`, { cause: err });
  }
  // The function refuses a pepper shorter than this (API_KEY_PEPPER_SECRET_ARN): so does the CLI.
  if (value.length < 16) throw new StackError(`${where} is shorter than 16 characters`);
  return value;
}
