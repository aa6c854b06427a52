/**
 * What a running `npm start` tells the other local tools: `.gatehouse/gateway.json`, written once
 * the gateway serves and removed when it stops. The credentials CLIs read it so that they act on
 * the gateway's own database (an in-memory one included), not on another one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PROJECT_ROOT, STATE_DIR } from '../paths.ts';
import { ensureTables, LOCAL_DYNAMO_DIR, openLocalDynamo, type TableDefinition } from './dynamo.ts';

/** Where a running gateway describes itself. */
export const GATEWAY_STATE_FILE = join(STATE_DIR, 'gateway.json');

/** The content of the state file. */
export interface GatewayState {
  /** The `npm start` process. */
  readonly pid: number;
  readonly startedAt: string;
  /** Base URL of each API by logical ID. */
  readonly apis: Readonly<Record<string, string>>;
  readonly issuerUrl?: string;
  /** The embedded DynamoDB the functions use. */
  readonly database?: { readonly endpoint: string; readonly inMemory: boolean };
}

/** Writes the state file; returns what removes it (only while it is still this process's). */
export function writeGatewayState(state: GatewayState, file = GATEWAY_STATE_FILE): () => void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  return () => {
    if (runningGateway(file)?.pid === state.pid) rmSync(file, { force: true });
  };
}

/** The state of the gateway that is running now, or undefined (no file, or its process is gone). */
export function runningGateway(file = GATEWAY_STATE_FILE): GatewayState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as GatewayState;
    process.kill(state.pid, 0); // throws when the process is gone
    return state;
  } catch {
    return undefined;
  }
}

/** A local database the CLIs act on, and how to say which one it is. */
export interface ToolDatabase {
  readonly endpoint: string;
  /** e.g. `the running gateway's database (process 4242, in memory, http://127.0.0.1:40123)`. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * The database for the credentials CLIs: the running gateway's (found through its state file), else
 * the persisted local one (`.gatehouse/dynamodb`), reused or started as {@link openLocalDynamo} does.
 */
export async function openToolDatabase(
  tables: readonly TableDefinition[],
  file = GATEWAY_STATE_FILE,
): Promise<ToolDatabase> {
  const gateway = runningGateway(file);
  if (gateway?.database !== undefined) {
    const { endpoint, inMemory } = gateway.database;
    try {
      await ensureTables(endpoint, tables);
      return {
        endpoint,
        description: `the running gateway's database (process ${gateway.pid}, ${inMemory ? 'in memory' : 'persisted'}, ${endpoint})`,
        close: async () => undefined,
      };
    } catch {
      // Not answering (stopping, or a stale file): use the persisted database below.
    }
  }
  const local = await openLocalDynamo({ tables });
  return {
    endpoint: local.endpoint,
    description: `the local database persisted in ${relative(PROJECT_ROOT, LOCAL_DYNAMO_DIR)}`,
    close: () => local.close(),
  };
}
