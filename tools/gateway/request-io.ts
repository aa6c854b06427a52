/**
 * Reading requests and writing responses on the gateway's sockets, shared by the REST and HTTP API
 * pipelines.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InvocationResult } from '../lambda/runtime.ts';
import type { LocalApiKey } from '../local/api-keys.ts';
import {
  type AccessLogEntry,
  type AccessLogFormat,
  accessLogLine,
  accessLogText,
  type LoggedDecision,
  loggedDecision,
} from './access-log.ts';
import type { LocalIamCredential } from './sigv4.ts';

/** What a pipeline needs from the running gateway. */
export interface HandlerDeps {
  readonly invoke: (logicalId: string, event: unknown) => Promise<InvocationResult>;
  readonly clock: () => number;
  readonly region: string;
  readonly accountId: string;
  readonly accessLog: (line: string) => void;
  /** How access-log lines are written (text for `npm start`, JSON for tools). */
  readonly accessLogFormat: AccessLogFormat;
  readonly info: (line: string) => void;
  readonly maxBodyBytes: number;
  /** Every API's authorizer cache is registered here (flushed on rebuilds). */
  readonly caches: { clear(): void }[];
  /** Local IAM credentials by access key id (for AWS_IAM routes). */
  readonly iamCredential: (accessKeyId: string) => LocalIamCredential | undefined;
  /** The port this API listens on (X-Forwarded-Port). */
  readonly port: () => number;
  /** API keys made by `npm run keys` / `users` (each credential's usage key), looked up by value. */
  readonly apiKeys?: ((value: string) => Promise<LocalApiKey | undefined>) | undefined;
}

/** Reads the body up to `limit` bytes; `too_large` beyond (the rest is drained). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(over ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The path (still percent-encoded) and query of a request target. Split by hand: `new URL('//x/y',
 * base)` would read `x` as a host and lose the path.
 */
export function splitTarget(target: string): { readonly path: string; readonly query: string } {
  const q = target.indexOf('?');
  return { path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1) };
}

/** The caller's IP as API Gateway reports it (IPv4-mapped IPv6 unwrapped). */
export function sourceIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/** Writes a complete response. */
export function writeResponse(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string | readonly string[]>>,
  body: Buffer | string,
): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A request's access-log entry before anything is decided. `path` is the request path without the
 * query string (which may carry credentials: `?access_token=`).
 */
export function newAccessEntry(requestId: string, api: string, method: string, path: string): AccessLogEntry {
  return {
    requestId,
    api,
    method,
    path,
    route: undefined,
    status: 0,
    latencyMs: 0,
    principal: undefined,
    authorizer: 'none',
    authorizerReason: undefined,
    cacheHit: undefined,
    resourcePolicy: undefined,
    usage: undefined,
    integration: undefined,
    errorType: undefined,
  };
}

/** Writes a request's access-log line in the configured format. */
export function writeAccessLog(deps: HandlerDeps, entry: AccessLogEntry): void {
  deps.accessLog(deps.accessLogFormat === 'text' ? accessLogText(entry) : accessLogLine(entry));
}

/**
 * Invokes a function and hands the decision it logged for this invocation to `noted` (the access
 * log's reason codes come from the functions' own decision logs).
 */
export function invokeNoting(
  deps: HandlerDeps,
  logicalId: string,
  noted: (decision: LoggedDecision | undefined) => void,
): (event: unknown) => Promise<InvocationResult> {
  return async (event) => {
    const result = await deps.invoke(logicalId, event);
    noted(loggedDecision(result.logTail));
    return result;
  };
}
