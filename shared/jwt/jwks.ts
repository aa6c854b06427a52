import { request as httpRequest, type IncomingMessage } from 'node:http';
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
  override readonly name = 'JwksUnavailableError';
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

/** Parses a downloaded JWKS strictly (no duplicate members) and filters it. */
export function parseJwksDocument(
  body: ArrayBuffer,
  onDropped: (dropped: readonly DroppedKey[]) => void,
): Jwks {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new JwksUnavailableError('the JWKS document is not UTF-8');
  }
  const parsed = parseStrictJson(text, { maxDepth: 8 });
  if (!parsed.ok) throw new JwksUnavailableError(`the JWKS document was refused (${parsed.reason})`);
  const { jwks, dropped } = filterJwks(parsed.value);
  if (dropped.length > 0) onDropped(dropped);
  return jwks;
}

/**
 * One GET with node:http(s): a deadline for the whole download, the size cap (declared and
 * actual), no redirects followed, no credentials. Not the global `fetch`: it loads undici on its
 * first call, which costs a cold start about 50 ms on a small machine (docs/performance.md).
 */
function httpGet(uri: string, timeoutMs: number): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      req.destroy();
      reject(new JwksUnavailableError(message, cause === undefined ? undefined : { cause }));
    };
    const url = new URL(uri);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) return fail(`JWKS download from ${uri} answered ${res.statusCode}`);
        if (Number(res.headers['content-length'] ?? '0') > MAX_JWKS_BYTES)
          return fail(`JWKS document from ${uri} is larger than ${MAX_JWKS_BYTES} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_JWKS_BYTES) fail(`JWKS document from ${uri} is larger than ${MAX_JWKS_BYTES} bytes`);
          else chunks.push(chunk);
        });
        res.on('error', (err) => fail(`JWKS download from ${uri} failed: ${err.message}`, err));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
        });
      },
    );
    const timer = setTimeout(
      () => fail(`JWKS download from ${uri} failed: no answer within ${timeoutMs} ms`),
      timeoutMs,
    );
    req.on('error', (err) => fail(`JWKS download from ${uri} failed: ${err.message}`, err));
    req.end();
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
