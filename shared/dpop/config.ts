/**
 * The DPoP settings a function reads from its environment, checked once at init. Every problem is
 * reported at once, each naming its variable (docs/sender-constrained-tokens.md, "Configuration").
 */
import { type Env, EnvReader, readLoopbackEndpoint, readTableName } from '../config/env.ts';
import { type PublicUrlRule, publicUrlRuleProblems } from './htu.ts';
import { DPOP_ALGORITHMS, type DpopAlgorithm, decodeBase64Url } from './jwk.ts';
import { MIN_NONCE_SECRET_BYTES } from './nonce.ts';
import { DPOP_DEFAULTS } from './proof.ts';

/** Where proofs are recorded. */
export type ReplayStoreConfig =
  | {
      readonly kind: 'dynamodb';
      readonly tableName: string;
      readonly budgetMs: number;
      /** `AWS_REGION` (set by Lambda). */
      readonly region: string;
      /** `DYNAMODB_ENDPOINT`: the embedded DynamoDB of local runs (loopback only); undefined in AWS. */
      readonly endpoint: string | undefined;
    }
  | { readonly kind: 'memory'; readonly capacity: number };

/** Everything DPoP verification needs from the environment. */
export interface DpopConfig {
  /** `DPOP_PUBLIC_URLS`: how received requests map to the URLs clients sign. */
  readonly publicUrls: readonly PublicUrlRule[];
  /** `DPOP_ALGORITHMS`: accepted proof algorithms. */
  readonly algorithms: readonly DpopAlgorithm[];
  /** `DPOP_IAT_WINDOW_SECONDS`: oldest accepted `iat`. */
  readonly iatWindowSeconds: number;
  /** `DPOP_CLOCK_SKEW_SECONDS`: newest accepted `iat` beyond now. */
  readonly clockSkewSeconds: number;
  /** `DPOP_NONCE_SECRETS` + `DPOP_NONCE_WINDOW_SECONDS`; null when nonces are not used. */
  readonly nonce: { readonly secrets: readonly Buffer[]; readonly windowSeconds: number } | null;
  /** `DPOP_REPLAY_STORE` (+ `DPOP_REPLAY_TABLE`, `DPOP_REPLAY_BUDGET_MS`, `DPOP_REPLAY_MEMORY_CAPACITY`). */
  readonly replay: ReplayStoreConfig;
}

function readRules(r: EnvReader): PublicUrlRule[] {
  const raw = r.json('DPOP_PUBLIC_URLS');
  if (raw === undefined) {
    r.problem('DPOP_PUBLIC_URLS', 'is required when DPoP is enabled (a JSON array of public URL rules)');
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    r.problem('DPOP_PUBLIC_URLS', 'must be a non-empty JSON array');
    return [];
  }
  const known = ['domainName', 'stage', 'eventPathPrefix', 'publicBaseUrl'];
  raw.forEach((rule, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return;
    for (const key of Object.keys(rule))
      if (!known.includes(key))
        r.problem('DPOP_PUBLIC_URLS', `[${i}] has an unknown field "${key}" (known: ${known.join(', ')})`);
  });
  const rules = raw.map((rule) => ({ eventPathPrefix: '', ...(rule as object) }) as PublicUrlRule);
  for (const problem of publicUrlRuleProblems(rules)) r.problem('DPOP_PUBLIC_URLS', problem);
  return rules;
}

function readAlgorithms(r: EnvReader): DpopAlgorithm[] {
  const raw = r.string('DPOP_ALGORITHMS');
  if (raw === undefined) return [...DPOP_DEFAULTS.algorithms];
  const list = raw.split(/[\s,]+/).filter(Boolean);
  const bad = list.filter((a) => !(DPOP_ALGORITHMS as readonly string[]).includes(a));
  // HS* and none are never accepted: a proof's key is public, so an HMAC over it proves nothing.
  if (list.length === 0 || bad.length > 0) {
    r.problem(
      'DPOP_ALGORITHMS',
      `must list some of ${DPOP_ALGORITHMS.join(' ')}; refused: ${bad.join(' ') || '(empty)'}`,
    );
    return [...DPOP_DEFAULTS.algorithms];
  }
  return list as DpopAlgorithm[];
}

function readNonce(r: EnvReader): DpopConfig['nonce'] {
  const raw = r.string('DPOP_NONCE_SECRETS');
  const windowSeconds = r.integer('DPOP_NONCE_WINDOW_SECONDS', 300, 10, 3600);
  if (raw === undefined) return null;
  const decoded = raw.split(',').map((s) => decodeBase64Url(s.trim()));
  const secrets = decoded.filter((s): s is Buffer => s !== undefined && s.length >= MIN_NONCE_SECRET_BYTES);
  if (secrets.length !== decoded.length)
    r.problem(
      'DPOP_NONCE_SECRETS',
      `must be base64url secrets of at least ${MIN_NONCE_SECRET_BYTES} bytes each, comma-separated`,
    );
  return { secrets, windowSeconds };
}

function readReplay(r: EnvReader): ReplayStoreConfig {
  const kind = r.string('DPOP_REPLAY_STORE', 'dynamodb');
  if (kind === 'memory')
    return { kind, capacity: r.integer('DPOP_REPLAY_MEMORY_CAPACITY', 100_000, 100, 10_000_000) };
  if (kind !== 'dynamodb') {
    r.problem('DPOP_REPLAY_STORE', `must be dynamodb or memory, got ${JSON.stringify(kind)}`);
    return { kind: 'memory', capacity: 1 };
  }
  const tableName = readTableName(r, 'DPOP_REPLAY_TABLE');
  const budgetMs = r.integer('DPOP_REPLAY_BUDGET_MS', 1000, 50, 10_000);
  // Local emulators (SAM CLI, our local runtime) tell the timeout; there a budget that cannot fit is refused.
  const timeoutSeconds = r.integer('AWS_LAMBDA_FUNCTION_TIMEOUT', 0, 1, 900);
  if (timeoutSeconds > 0 && budgetMs >= timeoutSeconds * 1000)
    r.problem(
      'DPOP_REPLAY_BUDGET_MS',
      `must be below the function timeout (${timeoutSeconds * 1000} ms, AWS_LAMBDA_FUNCTION_TIMEOUT)`,
    );
  const endpoint = readLoopbackEndpoint(r, 'DYNAMODB_ENDPOINT');
  return { kind, tableName, budgetMs, region: r.string('AWS_REGION', 'us-east-1') as string, endpoint };
}

/**
 * Reads the DPoP settings. Call it only when some issuer has DPoP `required` or `allowed`.
 * @throws ConfigError listing every problem
 */
export function readDpopConfig(env: Env): DpopConfig {
  const r = new EnvReader(env);
  const config: DpopConfig = {
    publicUrls: readRules(r),
    algorithms: readAlgorithms(r),
    iatWindowSeconds: r.integer('DPOP_IAT_WINDOW_SECONDS', DPOP_DEFAULTS.iatWindowSeconds, 1, 600),
    clockSkewSeconds: r.integer('DPOP_CLOCK_SKEW_SECONDS', DPOP_DEFAULTS.clockSkewSeconds, 0, 60),
    nonce: readNonce(r),
    replay: readReplay(r),
  };
  r.done();
  return Object.freeze(config);
}
