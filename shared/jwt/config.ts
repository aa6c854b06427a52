import type { Jwks } from 'aws-jwt-verify/jwk';
import { checkFetchUrl, type Env, EnvReader } from '../config/env.ts';
import type { DpopMode } from '../sender-constraint/token-binding.ts';
import { type DroppedKey, filterJwks, jwksHoldsKeyId } from './jwks.ts';

/** Signature algorithms the authorizer can verify (aws-jwt-verify's set). */
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Keys an issuer entry carries itself (`jwks` or `jwksFile`), filtered like a downloaded JWKS. */
export interface SeededJwks {
  /** Where they came from: `jwks` (inline) or the bundled file's name. */
  readonly source: string;
  /** The keys kept. */
  readonly jwks: Jwks;
  /** The keys left out, and why (reported at init). */
  readonly dropped: readonly DroppedKey[];
}

/**
 * `kid` of the published development key (tools/issuer/published-development-key.json): its private
 * half is in the repository, so a token it signs proves nothing. Outside local runs, a JWKS holding
 * it is refused: at init for `jwks` / `jwksFile`, at download for the others (docs/events.md#why-the-key-is-committed).
 */
export const PUBLISHED_DEVELOPMENT_KEY_ID = 'gatehouse-published-development-key';

/** DPoP settings an issuer entry may carry (`"dpop"`). */
export const DPOP_MODES: readonly DpopMode[] = ['required', 'allowed', 'off'];

/** One trusted issuer. */
export interface IssuerConfig {
  /** Exact `iss` value. */
  readonly issuer: string;
  /** Accepted `aud` values; `null` skips the audience check (only by saying so explicitly). */
  readonly audience: readonly string[] | null;
  /** Where the keys are; `{issuer}/.well-known/jwks.json` by default. */
  readonly jwksUri: string;
  /** Algorithms accepted in the token header. */
  readonly algorithms: readonly Algorithm[];
  /** Keys known at init, so the cold start needs no download; an unknown `kid` still refetches. */
  readonly seed?: SeededJwks;
  /**
   * DPoP (`"dpop"`, docs/sender-constrained-tokens.md): `required`, `allowed`, or `off` (the
   * default). Tokens bound to a key or a certificate (`cnf`) are checked whatever the setting.
   */
  readonly dpop: DpopMode;
  /** Set for Amazon Cognito user pools (and their emulators). */
  readonly cognito?: {
    readonly userPoolId: string;
    /** `access`, `id`, or `null` for either. */
    readonly tokenUse: 'access' | 'id' | null;
    /** Accepted app client ids (`client_id` / `aud`), or `null` to skip. */
    readonly clientId: readonly string[] | null;
  };
}

/** Everything the JWT authorizer reads from its environment, checked once at init. */
export interface JwtAuthorizerConfig {
  readonly issuers: readonly IssuerConfig[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. */
  readonly clockSkewSeconds: number;
  /** Longest accepted token lifetime (`exp - iat`, or `exp - now` without `iat`). */
  readonly maxLifetimeSeconds: number;
  /** Required `typ` header (`at+jwt` per RFC 9068), or undefined. */
  readonly requiredTyp: string | undefined;
  /** HTTP API payload 2.0: answer with simple responses (true) or IAM policies (false). */
  readonly simpleResponses: boolean;
  /** Time budget for one JWKS download. */
  readonly jwksTimeoutMs: number;
  /** Capacity of the verified-token cache. */
  readonly tokenCacheSize: number;
  /**
   * Key ids a downloaded JWKS must not hold (the whole document is then refused): the published
   * development key, except in local runs (`AWS_SAM_LOCAL=true`).
   */
  readonly refusedKeyIds: readonly string[];
}

/** JWKS documents bundled at build time (`jwks/*.json`, see shared/generated/jwks-files.ts), by name. */
export type BundledJwksFiles = Readonly<Record<string, unknown>>;

const COMMON_FIELDS = ['jwksUri', 'algorithms', 'jwks', 'jwksFile', 'dpop'];
const ISSUER_FIELDS = ['issuer', 'audience', ...COMMON_FIELDS];
const COGNITO_FIELDS = ['userPoolId', 'tokenUse', 'clientId', 'issuer', ...COMMON_FIELDS];

// Amazon Cognito's user pool id: `<region>_<id>` (the region decides the issuer).
const AWS_USER_POOL_ID = /^((?:eusc-[a-z]{2}|[a-z]{2})-(?:gov-)?[a-z]+-\d)_[A-Za-z0-9]+$/;
// Emulators use other prefixes (cognito-local: `local_…`); they must then name their issuer.
const ANY_USER_POOL_ID = /^[A-Za-z0-9-]+_[A-Za-z0-9]+$/;

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== ''))
    return value as string[];
  return undefined;
}

/** What an issuer entry has in common, Cognito or not: keys (where and which) and algorithms. */
/** Whether the function runs locally: `sam local`, our local runtime and `npm start` set AWS_SAM_LOCAL. */
function runsLocally(env: Env): boolean {
  return env.AWS_SAM_LOCAL === 'true';
}

/**
 * Records a problem of one JWT_ISSUERS entry: `detail` follows the entry's position (`[0]`), so
 * each message names the variable, the entry and its field.
 */
type EntryProblem = (detail: string) => void;

function readDpopMode(bad: EntryProblem, entry: Record<string, unknown>): DpopMode {
  if (entry.dpop === undefined) return 'off';
  if (typeof entry.dpop === 'string' && (DPOP_MODES as readonly string[]).includes(entry.dpop))
    return entry.dpop as DpopMode;
  bad(`.dpop must be "required", "allowed" or "off", got ${JSON.stringify(entry.dpop)}`);
  return 'off';
}

function readKeys(
  bad: EntryProblem,
  entry: Record<string, unknown>,
  issuer: string,
  bundled: BundledJwksFiles,
  local: boolean,
): { jwksUri: string; algorithms: Algorithm[]; seed?: SeededJwks; dpop: DpopMode } | undefined {
  const dpop = readDpopMode(bad, entry);
  let algorithms: Algorithm[] = ['RS256', 'ES256', 'EdDSA'];
  if (entry.algorithms !== undefined) {
    const list = stringList(entry.algorithms);
    const unsupported = list?.filter((a) => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(a));
    if (list === undefined || (unsupported?.length ?? 0) > 0) {
      // Symmetric (HS*) and `none` are never accepted: a public JWKS key must not double as an HMAC secret.
      bad(`.algorithms must be a non-empty list of ${SUPPORTED_ALGORITHMS.join(', ')}`);
    } else algorithms = list as Algorithm[];
  }
  const jwksUri =
    entry.jwksUri === undefined ? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json` : entry.jwksUri;
  if (typeof jwksUri !== 'string') {
    bad('.jwksUri must be a string');
    return undefined;
  }
  const urlProblem = checkFetchUrl(jwksUri);
  if (urlProblem !== undefined) bad(`.jwksUri ${urlProblem}`);

  if (entry.jwks !== undefined && entry.jwksFile !== undefined) {
    bad(' has both jwks and jwksFile; give one');
    return undefined;
  }
  let document: unknown;
  let source: string | undefined;
  if (entry.jwks !== undefined) {
    document = entry.jwks;
    source = 'jwks';
  } else if (entry.jwksFile !== undefined) {
    const name = entry.jwksFile;
    if (typeof name !== 'string' || !Object.hasOwn(bundled, name)) {
      const known = Object.keys(bundled);
      bad(
        `.jwksFile ${JSON.stringify(name)} is not bundled: put the file in jwks/ and run npm run generate` +
          ` (bundled: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
      return undefined;
    }
    document = bundled[name];
    source = name;
  }
  if (source === undefined) return { jwksUri, algorithms, dpop };
  const field = source === 'jwks' ? 'jwks' : 'jwksFile';
  // Checked on the document as given, dropped keys included: the key must not be trusted anywhere.
  if (!local && jwksHoldsKeyId(document, PUBLISHED_DEVELOPMENT_KEY_ID)) {
    bad(
      `.${field} holds the published development key (kid ${PUBLISHED_DEVELOPMENT_KEY_ID}), whose private half is public: it is trusted only in local runs (AWS_SAM_LOCAL=true); remove it (docs/events.md#why-the-key-is-committed)`,
    );
    return undefined;
  }
  let seed: SeededJwks;
  try {
    const { jwks, dropped } = filterJwks(document);
    seed = { source, jwks, dropped };
  } catch {
    bad(`.${field} must be a JWKS (an object with a "keys" array)`);
    return undefined;
  }
  if (seed.jwks.keys.length === 0) {
    const why = seed.dropped.map((d) => `${d.kid ?? '(no kid)'}: ${d.reason}`).join(', ');
    bad(`.${field} has no usable key (${why || 'empty'})`);
    return undefined;
  }
  return { jwksUri, algorithms, seed, dpop };
}

function readCognito(
  bad: EntryProblem,
  entry: Record<string, unknown>,
  bundled: BundledJwksFiles,
  local: boolean,
): IssuerConfig | undefined {
  const userPoolId = entry.userPoolId;
  const overridden = entry.issuer !== undefined;
  if (overridden && (typeof entry.issuer !== 'string' || entry.issuer === '')) {
    bad('.issuer must be a non-empty string');
    return undefined;
  }
  const pool =
    typeof userPoolId === 'string'
      ? (overridden ? ANY_USER_POOL_ID : AWS_USER_POOL_ID).exec(userPoolId)
      : null;
  if (pool === null) {
    bad(
      overridden
        ? '.userPoolId must look like <prefix>_<id>'
        : `.userPoolId must look like us-east-1_AbCdEf123 (an emulator's pool needs its "issuer")`,
    );
    return undefined;
  }
  const tokenUse = entry.tokenUse;
  if (tokenUse !== 'access' && tokenUse !== 'id' && tokenUse !== null) {
    bad('.tokenUse must be "access", "id" or null for a Cognito user pool');
  }
  const clientId = entry.clientId === null ? null : stringList(entry.clientId);
  if (clientId === undefined) bad('.clientId must be a string, a list of strings, or null');
  // Amazon Cognito's issuer for the pool, unless an emulator (moto, LocalStack, cognito-local) names its own.
  const issuer = overridden
    ? (entry.issuer as string)
    : `https://cognito-idp.${pool[1]}.amazonaws.com/${userPoolId as string}`;
  const keys = readKeys(bad, entry, issuer, bundled, local);
  if (keys === undefined) return undefined;
  return {
    issuer,
    // The Cognito checks below stand in for the audience: `client_id` (access) or `aud` (id).
    audience: null,
    ...keys,
    cognito: {
      userPoolId: userPoolId as string,
      tokenUse: (tokenUse ?? null) as 'access' | 'id' | null,
      clientId: clientId ?? null,
    },
  };
}

function readIssuer(
  r: EnvReader,
  raw: unknown,
  index: number,
  bundled: BundledJwksFiles,
  local: boolean,
): IssuerConfig | undefined {
  const at = `[${index}]`;
  const bad: EntryProblem = (detail) => r.problem('JWT_ISSUERS', `${at}${detail}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad(' must be an object');
    return undefined;
  }
  const entry = raw as Record<string, unknown>;
  const cognito = entry.userPoolId !== undefined;
  // Every field is used or refused: a field this kind of entry ignores is a mistake to report.
  const known = cognito ? COGNITO_FIELDS : ISSUER_FIELDS;
  for (const key of Object.keys(entry)) {
    if (known.includes(key)) continue;
    if (!cognito && COGNITO_FIELDS.includes(key))
      bad(`.${key} applies to Cognito user pools only (give userPoolId)`);
    else if (cognito && key === 'audience')
      bad('.audience does not apply to a Cognito user pool (use clientId)');
    else bad(` has an unknown field "${key}" (known: ${known.join(', ')})`);
  }
  if (cognito) return readCognito(bad, entry, bundled, local);

  if (typeof entry.issuer !== 'string' || entry.issuer === '') {
    bad('.issuer is required');
    return undefined;
  }
  let audience: readonly string[] | null = null;
  if (!('audience' in entry)) {
    bad('.audience is required (a string, a list, or null to skip the check)');
  } else if (entry.audience !== null) {
    const list = stringList(entry.audience);
    if (list === undefined) bad('.audience must be a string, a non-empty list of strings, or null');
    audience = list ?? [];
  }
  const keys = readKeys(bad, entry, entry.issuer, bundled, local);
  if (keys === undefined) return undefined;
  return { issuer: entry.issuer, audience, ...keys };
}

/**
 * Reads and checks the JWT authorizer's variables; throws a ConfigError naming each bad one.
 * `bundled` holds the JWKS files bundled at build time, for `jwksFile`.
 */
export function readJwtAuthorizerConfig(env: Env, bundled: BundledJwksFiles = {}): JwtAuthorizerConfig {
  const r = new EnvReader(env);
  const local = runsLocally(env);
  const raw = r.json('JWT_ISSUERS');
  const issuers: IssuerConfig[] = [];
  if (raw === undefined && env.JWT_ISSUERS === undefined)
    r.problem('JWT_ISSUERS', 'is required (a JSON array of issuers)');
  else if (raw !== undefined && (!Array.isArray(raw) || raw.length === 0))
    r.problem('JWT_ISSUERS', 'must be a non-empty JSON array');
  else if (Array.isArray(raw)) {
    raw.forEach((entry, i) => {
      const issuer = readIssuer(r, entry, i, bundled, local);
      if (issuer !== undefined) issuers.push(issuer);
    });
    const seen = new Set<string>();
    for (const i of issuers) {
      if (seen.has(i.issuer)) r.problem('JWT_ISSUERS', `lists ${i.issuer} twice`);
      seen.add(i.issuer);
    }
  }
  const typ = r.string('JWT_REQUIRED_TYP');
  const config: JwtAuthorizerConfig = {
    issuers,
    clockSkewSeconds: r.integer('JWT_CLOCK_SKEW_SECONDS', 30, 0, 300),
    maxLifetimeSeconds: r.integer('JWT_MAX_LIFETIME_SECONDS', 86400, 60, 31 * 86400),
    requiredTyp: typ?.toLowerCase(),
    simpleResponses: r.boolean('HTTP_API_SIMPLE_RESPONSES', true),
    jwksTimeoutMs: r.integer('JWT_JWKS_TIMEOUT_MS', 1500, 100, 10000),
    tokenCacheSize: r.integer('JWT_TOKEN_CACHE_SIZE', 1000, 0, 100000),
    refusedKeyIds: local ? [] : [PUBLISHED_DEVELOPMENT_KEY_ID],
  };
  r.done();
  return Object.freeze(config);
}
