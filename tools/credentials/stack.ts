/**
 * A deployed Gatehouse stack as the credentials CLIs see it: its outputs (CloudFormation
 * DescribeStacks), which name the credentials table (`CredentialsTableName`) and each tier's usage
 * plan (`<Tier>UsagePlanId`). So `--stack <name>` is all a deployer types, whatever physical names
 * `sam deploy` generated.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { usagePlansFromOutputs } from '../../shared/credentials/usage-keys.ts';

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
  return { table, plans };
}
