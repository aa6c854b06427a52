import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { Jwk, Jwks } from 'aws-jwt-verify/jwk';
import { checkFetchUrl } from '../config/env.ts';
import { parseStrictJson } from '../json/strict-json.ts';
import { type KeyStrengthProblem, keyStrengthProblem } from './key-strength.ts';

/** Largest JWKS document accepted. Real ones are a few KB. */
export const MAX_JWKS_BYTES = 64 * 1024;

/** A JWKS could not be downloaded or read: a dependency failure, never a reason to Allow. */
export class JwksUnavailableError extends Error {
  override readonly name: string = 'JwksUnavailableError';
}

/**
 * A JWKS holds a key id that must never be trusted here (the published development key outside
 * local runs). The whole document is refused: a dependency failure, and at init a failed cold start.
 */
export class RefusedJwksError extends JwksUnavailableError {
  override readonly name = 'RefusedJwksError';
}

/** Whether a JWKS document (as given, before any filtering) holds a key with this `kid`. */
export function jwksHoldsKeyId(document: unknown, kid: string): boolean {
  const keys = (document as { keys?: unknown } | null)?.keys;
  return (
    Array.isArray(keys) &&
    keys.some((k) => typeof k === 'object' && k !== null && (k as { kid?: unknown }).kid === kid)
  );
}

/** Why a key was left out of the key set. */
export type DroppedKeyReason =
  | 'not_an_object'
  | 'kid_missing'
  | 'kid_duplicate'
  | 'use_not_sig'
  | 'key_ops_without_verify'
  | KeyStrengthProblem;

/** A key left out, with its `kid` (public) and why. */
export interface DroppedKey {
  readonly kid: string | undefined;
  readonly reason: DroppedKeyReason;
}

function whyDrop(key: Record<string, unknown>): DroppedKeyReason | undefined {
  if (typeof key.kid !== 'string' || key.kid === '') return 'kid_missing';
  if (key.use !== undefined && key.use !== 'sig') return 'use_not_sig';
  if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes('verify')))
    return 'key_ops_without_verify';
  // Strength, type and curve: the rule set DPoP proof keys are held to as well.
  return keyStrengthProblem(key);
}

/**
 * Filters a key set down to keys safe to verify with. aws-jwt-verify checks a key's shape but not
 * its strength, so weak keys (RSA < 2048 bits, e ≠ 65537), keys for other uses, and every key whose
 * `kid` appears twice (which one would be meant is ambiguous) are removed here, at load time.
 */
export function filterJwks(document: unknown): { jwks: Jwks; dropped: DroppedKey[] } {
  if (
    typeof document !== 'object' ||
    document === null ||
    !Array.isArray((document as { keys?: unknown }).keys)
  ) {
    throw new JwksUnavailableError('the JWKS document has no "keys" array');
  }
  const keys = (document as { keys: unknown[] }).keys;
  const dropped: DroppedKey[] = [];
  const counts = new Map<string, number>();
  for (const key of keys) {
    if (typeof key === 'object' && key !== null && typeof (key as Jwk).kid === 'string') {
      const kid = (key as Jwk).kid as string;
      counts.set(kid, (counts.get(kid) ?? 0) + 1);
    }
  }
  const kept: Jwk[] = [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      dropped.push({ kid: undefined, reason: 'not_an_object' });
      continue;
    }
    const record = key as Record<string, unknown>;
    const kid = typeof record.kid === 'string' ? record.kid : undefined;
    const reason = kid !== undefined && (counts.get(kid) ?? 0) > 1 ? 'kid_duplicate' : whyDrop(record);
    if (reason !== undefined) dropped.push({ kid, reason });
    else kept.push(record as Jwk);
  }
  return { jwks: { keys: kept }, dropped };
}

/**
 * Parses a downloaded JWKS strictly (no duplicate members) and filters it. A document holding one of
 * `refusedKeyIds` is refused whole ({@link RefusedJwksError}).
 */
export function parseJwksDocument(
  body: ArrayBuffer,
  onDropped: (dropped: readonly DroppedKey[]) => void,
  refusedKeyIds: readonly string[] = [],
): Jwks {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new JwksUnavailableError('the JWKS document is not UTF-8');
  }
  const parsed = parseStrictJson(text, { maxDepth: 8 });
  if (!parsed.ok) throw new JwksUnavailableError(`the JWKS document was refused (${parsed.reason})`);
  for (const kid of refusedKeyIds)
    if (jwksHoldsKeyId(parsed.value, kid))
      throw new RefusedJwksError(
        `the JWKS holds the key ${kid}, which is trusted only in local runs (AWS_SAM_LOCAL=true)`,
      );
  const { jwks, dropped } = filterJwks(parsed.value);
  if (dropped.length > 0) onDropped(dropped);
  return jwks;
}

/** The connection was closed or reset by the server before it answered. */
function connectionClosed(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * One GET with node:http(s): a deadline for the whole download, the size cap (declared and
 * actual), no redirects followed, no credentials. Not the global `fetch`: it loads undici on its
 * first call, which costs a cold start about 50 ms on a small machine (docs/performance.md).
 *
 * Node's agent keeps connections alive between downloads. A server may close an idle one just as
 * it is reused, and the request then fails before any answer (ECONNRESET): that says nothing about
 * the JWKS, so the request is sent once more on a new connection, within the same deadline.
 */
function httpGet(uri: string, timeoutMs: number): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ClientRequest | undefined;
    let settled = false;
    const fail = (message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      reject(new JwksUnavailableError(message, cause === undefined ? undefined : { cause }));
    };
    // Each message is written once: it names the URI, and the error or the limit.
    const failed = (err: Error) => fail(`JWKS download from ${uri} failed: ${err.message}`, err);
    const tooLarge = () => fail(`JWKS document from ${uri} is larger than ${MAX_JWKS_BYTES} bytes`);
    const attempt = (fresh: boolean) => {
      let answered = false;
      const current = send(
        url,
        { method: 'GET', headers: { accept: 'application/json' }, ...(fresh ? { agent: false } : {}) },
        (res: IncomingMessage) => {
          answered = true;
          if (res.statusCode !== 200) return fail(`JWKS download from ${uri} answered ${res.statusCode}`);
          if (Number(res.headers['content-length'] ?? '0') > MAX_JWKS_BYTES) return tooLarge();
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_JWKS_BYTES) tooLarge();
            else chunks.push(chunk);
          });
          res.on('error', failed);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const body = Buffer.concat(chunks);
            resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
          });
        },
      );
      req = current;
      current.on('error', (err) => {
        if (!settled && !fresh && !answered && current.reusedSocket && connectionClosed(err)) attempt(true);
        else failed(err);
      });
      current.end();
    };
    const timer = setTimeout(
      () => fail(`JWKS download from ${uri} failed: no answer within ${timeoutMs} ms`),
      timeoutMs,
    );
    attempt(false);
  });
}

/**
 * Downloads JWKS documents for aws-jwt-verify: https only (plain http for loopback hosts), a hard
 * time budget, a size cap, no redirects, no credentials.
 */
export class JwksFetcher implements Fetcher {
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  async fetch(uri: string): Promise<ArrayBuffer> {
    const problem = checkFetchUrl(uri);
    if (problem !== undefined) throw new JwksUnavailableError(`JWKS URI ${problem}`);
    return httpGet(uri, this.#timeoutMs);
  }
}
