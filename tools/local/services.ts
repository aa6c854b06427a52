/**
 * What a function needs around it to run locally, prepared by `invoke` and the local gateway alike:
 * the local token issuer for functions that read JWT_ISSUERS, and (for functions with a table) the
 * embedded DynamoDB. Each service is added to the function's environment only in local runs.
 */
import { join } from 'node:path';
import { LOOPBACK_CREDENTIALS } from '../../shared/aws/credentials.ts';
import { awsJsonClient, DYNAMODB } from '../../shared/aws/json-call.ts';
import { deleteKey, deleteUser } from '../../shared/credentials/admin.ts';
import { dynamoAdminStore } from '../../shared/credentials/dynamo-admin.ts';
import type { CredentialAdminStore } from '../../shared/credentials/store.ts';
import type { UsageKeyRegistry } from '../../shared/credentials/usage-keys.ts';
import { dynamoReplayStore } from '../../shared/dpop/dynamo-replay-store.ts';
import { fillEventPlaceholders } from '../issuer/event-placeholders.ts';
import { type RunningIssuer, startLocalIssuer, withLocalIssuer } from '../issuer/local-issuer.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { isDynamicReference } from '../template/resolve.ts';
import { loadTemplate, type Template } from '../template/template.ts';
import {
  LOCAL_API_KEYS_TABLE,
  type LocalApiKey,
  localApiKeyLookup,
  localUsageKeys,
  templateUsagePlans,
} from './api-keys.ts';
import { type DemoBackend, startDemoBackend } from './demo-backend.ts';
import {
  type EmbeddedDynamo,
  fillCredentialPlaceholders,
  localDynamoClient,
  openLocalDynamo,
  startEmbeddedDynamo,
  templateTables,
} from './dynamo.ts';

/**
 * The upstream signing secret of local runs, used where a deployed function reads it from Secrets
 * Manager. Local only; never deploy it.
 */
export const LOCAL_UPSTREAM_SIGNING_SECRET = 'gatehouse-local-upstream-signing-secret-0123456789';

/**
 * The public URL rules of local runs when the template gives none (DPOP_PUBLIC_URLS empty): the API
 * the sample events describe (`abcdef1234`, REST stage `v1`, HTTP API stage `$default`). The local
 * gateway adds its own loopback addresses.
 */
export const SAMPLE_DPOP_PUBLIC_URLS = [
  {
    domainName: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
    stage: 'v1',
    eventPathPrefix: '',
    publicBaseUrl: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1',
  },
  {
    domainName: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
    stage: '$default',
    eventPathPrefix: '',
    publicBaseUrl: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com',
  },
] as const;

/** Whether a function records DPoP proofs in the (embedded) DynamoDB table. */
function usesReplayTable(env: Readonly<Record<string, string>>): boolean {
  return (env.DPOP_REPLAY_TABLE ?? '') !== '' && (env.DPOP_REPLAY_STORE ?? 'dynamodb') === 'dynamodb';
}

/** Services started for local runs; close them when done. */
export interface LocalServices {
  /** Adjusts a function's resolved environment for local running. */
  environmentFor(env: Readonly<Record<string, string>>): Record<string, string>;
  /** Fills placeholders (tokens, API keys, Basic users) in a sample event. */
  prepareEvent(event: unknown): Promise<unknown>;
  readonly issuer: RunningIssuer | undefined;
  /** The embedded DynamoDB, when a function has CREDENTIALS_TABLE. */
  readonly dynamo: EmbeddedDynamo | undefined;
  /** The credentials table in the embedded DynamoDB (e.g. to seed demo credentials). */
  readonly credentialStore: CredentialAdminStore | undefined;
  /** The local gateway's API keys, where local credentials get their own usage keys. */
  readonly usageKeys: UsageKeyRegistry | undefined;
  /** Finds an API key by value, as API Gateway does for a usage plan (the local gateway's check). */
  readonly apiKeys: ((value: string) => Promise<LocalApiKey | undefined>) | undefined;
  close(): Promise<void>;
}

/** Starts what the given environments need. */
export async function startLocalServices(
  environments: readonly Readonly<Record<string, string>>[],
  options: {
    issuerPort?: number;
    /** Keep the embedded DynamoDB in memory only. */
    inMemory?: boolean;
    /** Where the embedded DynamoDB persists; default `.gatehouse/dynamodb`. */
    dataDir?: string;
    /** The template whose tables the embedded DynamoDB creates; default the project's. */
    template?: Template;
    /** Start the demo backend for a function with an empty UPSTREAM_URL (default true). */
    demoBackend?: boolean;
  } = {},
): Promise<LocalServices> {
  const needsIssuer = environments.some((env) => 'JWT_ISSUERS' in env);
  const issuer = needsIssuer ? await startLocalIssuer({ port: options.issuerPort ?? 0 }) : undefined;
  const credentialsEnv = environments.find((env) => 'CREDENTIALS_TABLE' in env);
  const replayEnv = environments.find(usesReplayTable);
  let dynamo: EmbeddedDynamo | undefined;
  const template = options.template ?? loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  if (credentialsEnv !== undefined || replayEnv !== undefined) {
    const tables = [...templateTables(template), LOCAL_API_KEYS_TABLE];
    dynamo =
      options.inMemory === true
        ? await startEmbeddedDynamo({ path: null, tables })
        : options.dataDir !== undefined
          ? await startEmbeddedDynamo({ path: options.dataDir, tables })
          : await openLocalDynamo({ tables });
  }
  const client = dynamo === undefined ? undefined : localDynamoClient(dynamo.endpoint);
  // The request validator needs a backend: the demo one on loopback when UPSTREAM_URL is unset.
  const needsBackend = options.demoBackend !== false && environments.some((env) => env.UPSTREAM_URL === '');
  const backend: DemoBackend | undefined = needsBackend ? await startDemoBackend() : undefined;
  const credentialStore =
    client === undefined || credentialsEnv === undefined
      ? undefined
      : dynamoAdminStore(client, credentialsEnv.CREDENTIALS_TABLE as string, 10_000);
  const usageKeys =
    credentialStore === undefined || client === undefined
      ? undefined
      : localUsageKeys(client, templateUsagePlans(template));
  const placeholderRecords: ({ kind: 'key'; keyId: string } | { kind: 'user'; username: string })[] = [];
  // `replayed=1` proofs are recorded where the JWT authorizer will look: its replay table.
  const replayStore =
    dynamo === undefined || replayEnv === undefined
      ? undefined
      : dynamoReplayStore({
          // The function's own client (shared/aws), on the embedded DynamoDB: it checks no signature.
          client: awsJsonClient({
            service: DYNAMODB,
            region: 'us-east-1',
            endpoint: dynamo.endpoint,
            credentials: LOOPBACK_CREDENTIALS,
            connectTimeoutMs: 2000,
            requestTimeoutMs: 10_000,
            maxAttempts: 2,
            maxResponseBytes: 64 * 1024,
            // A few claims per run: no connection is kept open to hold the process.
            keepAlive: false,
          }),
          tableName: replayEnv.DPOP_REPLAY_TABLE as string,
          budgetMs: 10_000,
          now: Date.now,
        });
  return {
    issuer,
    dynamo,
    credentialStore,
    usageKeys,
    apiKeys: client === undefined ? undefined : localApiKeyLookup(client),
    environmentFor(env) {
      const out = { ...env };
      // Local only: the function talks to the embedded DynamoDB instead of AWS.
      if (dynamo !== undefined && ('CREDENTIALS_TABLE' in out || usesReplayTable(out)))
        out.DYNAMODB_ENDPOINT = dynamo.endpoint;
      if (backend !== undefined && out.UPSTREAM_URL === '') out.UPSTREAM_URL = backend.url;
      if (out.UPSTREAM_SIGNING_SECRET !== undefined && isDynamicReference(out.UPSTREAM_SIGNING_SECRET))
        out.UPSTREAM_SIGNING_SECRET = LOCAL_UPSTREAM_SIGNING_SECRET;
      // Secrets Manager exists only in AWS: local runs get plain local values instead of the ARNs
      // (docs/deploy.md#secrets); local keys are hashed without a pepper.
      // A value given through --env-vars (events/env.json) wins; the template's is empty.
      if ('UPSTREAM_SIGNING_SECRET_ARN' in out) {
        delete out.UPSTREAM_SIGNING_SECRET_ARN;
        if (!out.UPSTREAM_SIGNING_SECRET) out.UPSTREAM_SIGNING_SECRET = LOCAL_UPSTREAM_SIGNING_SECRET;
      }
      delete out.API_KEY_PEPPER_SECRET_ARN;
      // A function with DPoP settings (the template's JWT authorizer): the local issuer's tokens may
      // come with DPoP, and the sample events' API is a known public URL unless the template says.
      const dpop = 'DPOP_PUBLIC_URLS' in out;
      if (dpop && out.DPOP_PUBLIC_URLS === '') out.DPOP_PUBLIC_URLS = JSON.stringify(SAMPLE_DPOP_PUBLIC_URLS);
      if (issuer !== undefined && 'JWT_ISSUERS' in out) {
        const value = withLocalIssuer(out.JWT_ISSUERS, issuer.url, dpop ? { dpop: 'allowed' } : {});
        if (value !== undefined) out.JWT_ISSUERS = value;
      }
      return out;
    },
    async prepareEvent(event) {
      const withTokens =
        issuer === undefined
          ? event
          : await fillEventPlaceholders(event, {
              mint: (o) => issuer.mint(o),
              claimProof:
                replayStore === undefined
                  ? undefined
                  : async (jti, htu, expiresAt) => {
                      await replayStore.claim(jti, htu, expiresAt);
                    },
            });
      if (credentialStore === undefined || credentialsEnv === undefined) return withTokens;
      return fillCredentialPlaceholders(withTokens, {
        onCreated: (record) => placeholderRecords.push(record),
        store: credentialStore,
        usageKeys,
        environment: credentialsEnv.API_KEY_ENVIRONMENT === 'test' ? 'test' : 'live',
        pepper: credentialsEnv.API_KEY_PEPPER === '' ? undefined : credentialsEnv.API_KEY_PEPPER,
        now: Date.now(),
      });
    },
    async close() {
      await issuer?.close();
      // Credentials made for sample events live for one run: they would only clutter `keys list`.
      for (const record of placeholderRecords.splice(0)) {
        if (credentialStore === undefined) break;
        await (record.kind === 'key'
          ? deleteKey(credentialStore, record.keyId, usageKeys)
          : deleteUser(credentialStore, record.username, usageKeys)
        ).catch(() => undefined);
      }
      client?.destroy();
      await dynamo?.close();
      await backend?.close();
    },
  };
}
