/**
 * Usage keys in API Gateway (the CLI's adapter; never imported by a function: the functions' roles
 * may not call API Gateway's control plane, and their bundles stay without this client).
 *
 * create     CreateApiKey (enabled, our value) + CreateUsagePlanKey (the tier's plan); DeleteApiKey
 *            again when the key cannot join the plan
 * setEnabled UpdateApiKey `replace /enabled`
 * remove     DeleteApiKey (which also takes the key out of its plans); NotFound = already gone
 * checkPlans GetUsagePlans (every page): each configured plan id must exist
 */
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetUsagePlansCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import type { UsageKey } from './store.ts';
import { UsageKeyError, type UsageKeyFailure, type UsageKeyRegistry } from './usage-keys.ts';

/** Maps an SDK error onto a stable reason (names only: messages may quote request values). */
export function usageKeyFailureOf(err: unknown): UsageKeyFailure {
  switch ((err as { name?: unknown }).name) {
    case 'NotFoundException':
      return 'usage_plan_unknown';
    case 'AccessDeniedException':
    case 'UnauthorizedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return 'usage_key_denied';
    case 'CredentialsProviderError':
      return 'usage_key_no_credentials';
    case 'ConflictException':
      return 'usage_key_conflict';
    case 'LimitExceededException':
      return 'usage_key_limit';
    case 'TooManyRequestsException':
    case 'ServiceUnavailableException':
    case 'TimeoutError':
    case 'RequestTimeout':
      return 'usage_key_unavailable';
    default: {
      const code = (err as { code?: unknown }).code;
      return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET'
        ? 'usage_key_unavailable'
        : 'usage_key_error';
    }
  }
}

function wrap(what: string, err: unknown): UsageKeyError {
  const reason = usageKeyFailureOf(err);
  const name = (err as { name?: string }).name ?? 'Error';
  return new UsageKeyError(reason, `API Gateway ${what} failed (${name})`, { cause: err });
}

/** A usage key registry on API Gateway; `plans` is tier → usage plan id (undefined: not known). */
export function apiGatewayUsageKeys(
  client: APIGatewayClient,
  plans: Readonly<Record<string, string>> | undefined,
  where: string,
): UsageKeyRegistry {
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw wrap(what, err);
    }
  };
  const remove = async (key: UsageKey): Promise<boolean> => {
    try {
      await client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'NotFoundException') return false;
      throw wrap('DeleteApiKey', err);
    }
  };
  return {
    where,
    plans,
    async create(request) {
      const created = await call('CreateApiKey', () =>
        client.send(
          new CreateApiKeyCommand({
            name: request.name,
            description: request.description,
            enabled: true,
            value: request.value,
          }),
        ),
      );
      if (created.id === undefined)
        throw new UsageKeyError('usage_key_error', 'API Gateway CreateApiKey answered without an id');
      const usageKey = { id: created.id, value: request.value };
      try {
        await client.send(
          new CreateUsagePlanKeyCommand({
            usagePlanId: request.planId,
            keyId: usageKey.id,
            keyType: 'API_KEY',
          }),
        );
      } catch (err) {
        const failure = wrap('CreateUsagePlanKey', err);
        try {
          await remove(usageKey);
        } catch (cleanup) {
          throw new UsageKeyError(
            failure.reason,
            `${failure.message}, and the API key ${usageKey.id} it made could not be deleted (${(cleanup as Error).message}): delete it in ${where}`,
            { cause: err },
          );
        }
        throw failure.reason === 'usage_plan_unknown'
          ? new UsageKeyError(
              'usage_plan_unknown',
              `usage plan ${request.planId} does not exist in ${where}`,
              {
                cause: err,
              },
            )
          : failure;
      }
      return usageKey;
    },
    async setEnabled(key, enabled) {
      await call('UpdateApiKey', () =>
        client.send(
          new UpdateApiKeyCommand({
            apiKey: key.id,
            patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }],
          }),
        ),
      );
    },
    remove,
    async checkPlans() {
      if (plans === undefined) return;
      const found = new Set<string>();
      let position: string | undefined;
      do {
        const page = await call('GetUsagePlans', () =>
          client.send(
            new GetUsagePlansCommand({ limit: 500, ...(position === undefined ? {} : { position }) }),
          ),
        );
        for (const plan of page.items ?? []) if (plan.id !== undefined) found.add(plan.id);
        position = page.position;
      } while (position !== undefined && position !== '');
      const missing = Object.entries(plans).filter(([, id]) => !found.has(id));
      if (missing.length > 0)
        throw new UsageKeyError(
          'usage_plan_unknown',
          `${missing.map(([tier, id]) => `usage plan ${id} (tier ${tier})`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in ${where}`,
        );
    },
  };
}
