/**
 * The local gateway's API Gateway API keys: what `CreateApiKey` / `CreateUsagePlanKey` keep in AWS,
 * kept here in a local-only table of the embedded DynamoDB, so that `npm run keys` / `users` give
 * each local credential its own usage key and the local gateway meters each client on its own
 * (docs/local-gateway.md). Plans are the template's `AWS::ApiGateway::UsagePlan` resources, named
 * by logical ID, and tiers come from the template's `<Tier>UsagePlanId` outputs, as for a stack.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { UsageKey } from '../../shared/credentials/store.ts';
import {
  UsageKeyError,
  type UsageKeyRegistry,
  usagePlansFromOutputs,
} from '../../shared/credentials/usage-keys.ts';
import { localStack, resolveValue } from '../template/resolve.ts';
import { type Template, TemplateError } from '../template/template.ts';
import type { TableDefinition } from './dynamo.ts';

/** The local-only table (not a logical ID: those have no `-`, so no template table can collide). */
export const LOCAL_API_KEYS_TABLE: TableDefinition = {
  name: 'gatehouse-local-api-keys',
  keySchema: [{ AttributeName: 'value', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'value', AttributeType: 'S' }],
};

/** An API key as the local gateway checks it. */
export interface LocalApiKey {
  readonly id: string;
  readonly enabled: boolean;
  /** Usage plans (logical IDs) the key belongs to. */
  readonly planIds: readonly string[];
}

/**
 * Tier → usage plan logical ID, from the template's `<Tier>UsagePlanId` outputs. An output that does
 * not name an `AWS::ApiGateway::UsagePlan` of the template is a template error.
 */
export function templateUsagePlans(template: Template): Record<string, string> {
  const stack = localStack(template, {}, { resourceRef: (logicalId) => logicalId });
  const outputs: Record<string, string> = {};
  for (const [key, output] of Object.entries(
    (template.Outputs ?? {}) as Record<string, { Value?: unknown }>,
  )) {
    const value = resolveValue(stack, output.Value);
    if (typeof value === 'string') outputs[key] = value;
  }
  const plans = usagePlansFromOutputs(outputs);
  for (const [tier, planId] of Object.entries(plans))
    if (template.Resources[planId]?.Type !== 'AWS::ApiGateway::UsagePlan')
      throw new TemplateError(
        `output for tier ${tier} names ${planId}, which is not an AWS::ApiGateway::UsagePlan`,
      );
  return plans;
}

/** An API Gateway-like id: 10 lower-case letters and digits. */
function newKeyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Usage keys in the embedded DynamoDB, for the tiers of `plans`. */
export function localUsageKeys(
  client: DynamoDBClient,
  plans: Readonly<Record<string, string>>,
): UsageKeyRegistry {
  const table = LOCAL_API_KEYS_TABLE.name;
  const key = (k: UsageKey) => ({ value: { S: k.value } });
  const known = new Set(Object.values(plans));
  return {
    where: "the local gateway's API keys",
    plans,
    async create(request) {
      if (!known.has(request.planId))
        throw new UsageKeyError('usage_plan_unknown', `usage plan ${request.planId} is not in the template`);
      const usageKey = { id: newKeyId(), value: request.value };
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            ...key(usageKey),
            id: { S: usageKey.id },
            name: { S: request.name },
            description: { S: request.description },
            enabled: { BOOL: true },
            planIds: { L: [{ S: request.planId }] },
          },
          ConditionExpression: 'attribute_not_exists(#v)',
          ExpressionAttributeNames: { '#v': 'value' },
        }),
      );
      return usageKey;
    },
    async setEnabled(k, enabled) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(k),
            UpdateExpression: 'SET enabled = :enabled',
            ConditionExpression: 'attribute_exists(#v)',
            ExpressionAttributeNames: { '#v': 'value' },
            ExpressionAttributeValues: { ':enabled': { BOOL: enabled } },
          }),
        );
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException')
          throw new UsageKeyError('usage_key_error', `the local API key ${k.id} does not exist`);
        throw err;
      }
    },
    async remove(k) {
      const out = await client.send(
        new DeleteItemCommand({ TableName: table, Key: key(k), ReturnValues: 'ALL_OLD' }),
      );
      return out.Attributes !== undefined;
    },
    checkPlans: async () => undefined, // the plans come from the template itself
  };
}

/** Looks an API key up by value, as API Gateway does for a usage plan check. */
export function localApiKeyLookup(
  client: DynamoDBClient,
): (value: string) => Promise<LocalApiKey | undefined> {
  return async (value) => {
    const out = await client.send(
      new GetItemCommand({
        TableName: LOCAL_API_KEYS_TABLE.name,
        Key: { value: { S: value } },
        ConsistentRead: true,
      }),
    );
    const item: Record<string, AttributeValue> | undefined = out.Item;
    if (item === undefined) return undefined;
    return {
      id: item.id?.S ?? '',
      enabled: item.enabled?.BOOL === true,
      planIds: (item.planIds?.L ?? []).flatMap((p) => (p.S === undefined ? [] : [p.S])),
    };
  };
}
