import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOOPBACK_CREDENTIALS } from '../../shared/aws/credentials.ts';
import {
  type AwsJsonClient,
  type AwsJsonClientOptions,
  awsJsonClient,
  DYNAMODB,
} from '../../shared/aws/json-call.ts';
import { dynamoAdminStore } from '../../shared/credentials/dynamo-admin.ts';
import { MAX_RECORD_RESPONSE_BYTES } from '../../shared/credentials/dynamo-store.ts';
import type { CredentialAdminStore } from '../../shared/credentials/store.ts';
import type { UsageKeyRegistry } from '../../shared/credentials/usage-keys.ts';
import { LOCAL_API_KEYS_TABLE, localUsageKeys, templateUsagePlans } from '../../tools/local/api-keys.ts';
import { localDynamoClient, startEmbeddedDynamo, templateTables } from '../../tools/local/dynamo.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { loadTemplate } from '../../tools/template/template.ts';

/** The credentials table's local name (its logical ID). */
export const TABLE = 'CredentialsTable';

/**
 * DynamoDB at a local endpoint as the functions call it (shared/aws/json-call.ts with the key
 * authorizer's defaults: 64 KiB answers, two attempts, keep-alive), with `overrides`.
 */
export function functionDynamo(
  endpoint: string,
  overrides: Partial<Omit<AwsJsonClientOptions, 'service' | 'endpoint'>> = {},
): AwsJsonClient {
  return awsJsonClient({
    service: DYNAMODB,
    region: 'us-east-1',
    endpoint,
    credentials: LOOPBACK_CREDENTIALS,
    connectTimeoutMs: 500,
    requestTimeoutMs: 2000,
    maxAttempts: 2,
    maxResponseBytes: MAX_RECORD_RESPONSE_BYTES,
    keepAlive: true,
    ...overrides,
  });
}

/** An in-memory dynalite with the template's tables, and an admin store on it. */
export interface TestDynamo {
  readonly endpoint: string;
  /** The SDK's client (as the CLIs and local tools use it). */
  readonly client: DynamoDBClient;
  /** The functions' client ({@link functionDynamo}). */
  readonly functionClient: AwsJsonClient;
  readonly store: CredentialAdminStore;
  /**
   * Usage keys as the local gateway keeps them, for the template's tiers: credentials made with it
   * carry their own usage key, as the CLIs make them (the template sets USAGE_KEY_REQUIRED).
   */
  readonly usageKeys: UsageKeyRegistry;
  close(): Promise<void>;
}

/**
 * Starts dynalite in this process (in memory, loopback, random port) with the template's tables and
 * the local gateway's API keys table.
 */
export async function startTestDynamo(): Promise<TestDynamo> {
  const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
  const tables = [...templateTables(template), LOCAL_API_KEYS_TABLE];
  const dynamo = await startEmbeddedDynamo({ path: null, tables });
  const client = localDynamoClient(dynamo.endpoint);
  const functionClient = functionDynamo(dynamo.endpoint);
  return {
    endpoint: dynamo.endpoint,
    client,
    functionClient,
    store: dynamoAdminStore(client, TABLE, 5000),
    usageKeys: localUsageKeys(client, templateUsagePlans(template)),
    async close() {
      client.destroy();
      functionClient.close();
      await dynamo.close();
    },
  };
}

/** How a fake DynamoDB misbehaves. */
export type Fault = 'hang' | 'throttle' | 'denied' | 'internal';

/**
 * A loopback HTTP server that answers like a sick DynamoDB: never (hang), or with DynamoDB's JSON
 * error shape (`__type` + `message`) for throttling, access denied or an internal error.
 */
export async function startFaultyDynamo(
  fault: Fault,
): Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    if (fault === 'hang') return; // keep the socket open and never answer
    const [status, type, message] =
      fault === 'throttle'
        ? [
            400,
            'com.amazonaws.dynamodb.v20120810#ThrottlingException',
            'Rate of requests exceeds the allowed throughput.',
          ]
        : fault === 'denied'
          ? [
              400,
              'com.amazon.coral.service#AccessDeniedException',
              'User is not authorized to perform: dynamodb:GetItem',
            ]
          : [500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'Internal server error'];
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault' });
    res.end(JSON.stringify({ __type: type, message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPortEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
