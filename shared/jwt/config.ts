import { checkFetchUrl, type Env, EnvReader } from '../config/env.ts';

/** Signature algorithms the authorizer can verify (aws-jwt-verify's set). */
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

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
  /** Set for Amazon Cognito user pools. */
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
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== ''))
    return value as string[];
  return undefined;
}

function readIssuer(r: EnvReader, raw: unknown, index: number): IssuerConfig | undefined {
  const at = `[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    r.problem('JWT_ISSUERS', `${at} must be an object`);
    return undefined;
  }
  const entry = raw as Record<string, unknown>;
  const known = ['issuer', 'audience', 'jwksUri', 'algorithms', 'userPoolId', 'tokenUse', 'clientId'];
  for (const key of Object.keys(entry)) {
    if (!known.includes(key))
      r.problem('JWT_ISSUERS', `${at} has an unknown field "${key}" (known: ${known.join(', ')})`);
  }
  let algorithms: Algorithm[] = ['RS256', 'ES256', 'EdDSA'];
  if (entry.algorithms !== undefined) {
    const list = stringList(entry.algorithms);
    const bad = list?.filter((a) => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(a));
    if (list === undefined || (bad?.length ?? 0) > 0) {
      // Symmetric (HS*) and `none` are never accepted: a public JWKS key must not double as an HMAC secret.
      r.problem(
        'JWT_ISSUERS',
        `${at}.algorithms must be a non-empty list of ${SUPPORTED_ALGORITHMS.join(', ')}`,
      );
    } else algorithms = list as Algorithm[];
  }

  if (entry.userPoolId !== undefined) {
    const pool =
      typeof entry.userPoolId === 'string'
        ? /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/.exec(entry.userPoolId)
        : null;
    if (pool === null) {
      r.problem('JWT_ISSUERS', `${at}.userPoolId must look like us-east-1_AbCdEf123`);
      return undefined;
    }
    const tokenUse = entry.tokenUse;
    if (tokenUse !== 'access' && tokenUse !== 'id' && tokenUse !== null) {
      r.problem('JWT_ISSUERS', `${at}.tokenUse must be "access", "id" or null for a Cognito user pool`);
    }
    const clientId = entry.clientId === null ? null : stringList(entry.clientId);
    if (clientId === undefined)
      r.problem('JWT_ISSUERS', `${at}.clientId must be a string, a list of strings, or null`);
    const issuer = `https://cognito-idp.${pool[1]}.amazonaws.com/${entry.userPoolId as string}`;
    if (entry.issuer !== undefined && entry.issuer !== issuer) {
      r.problem('JWT_ISSUERS', `${at}.issuer must be ${issuer} for this user pool (or left out)`);
    }
    return {
      issuer,
      audience: null,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      algorithms,
      cognito: {
        userPoolId: entry.userPoolId as string,
        tokenUse: (tokenUse ?? null) as 'access' | 'id' | null,
        clientId: clientId ?? null,
      },
    };
  }

  if (typeof entry.issuer !== 'string' || entry.issuer === '') {
    r.problem('JWT_ISSUERS', `${at}.issuer is required`);
    return undefined;
  }
  let audience: readonly string[] | null = null;
  if (!('audience' in entry)) {
    r.problem('JWT_ISSUERS', `${at}.audience is required (a string, a list, or null to skip the check)`);
  } else if (entry.audience !== null) {
    const list = stringList(entry.audience);
    if (list === undefined)
      r.problem('JWT_ISSUERS', `${at}.audience must be a string, a non-empty list of strings, or null`);
    audience = list ?? [];
  }
  const jwksUri =
    entry.jwksUri === undefined ? `${entry.issuer.replace(/\/+$/, '')}/.well-known/jwks.json` : entry.jwksUri;
  if (typeof jwksUri !== 'string') {
    r.problem('JWT_ISSUERS', `${at}.jwksUri must be a string`);
    return undefined;
  }
  const urlProblem = checkFetchUrl(jwksUri);
  if (urlProblem !== undefined) r.problem('JWT_ISSUERS', `${at}.jwksUri ${urlProblem}`);
  return { issuer: entry.issuer, audience, jwksUri, algorithms };
}

/** Reads and checks the JWT authorizer's variables; throws a ConfigError naming each bad one. */
export function readJwtAuthorizerConfig(env: Env): JwtAuthorizerConfig {
  const r = new EnvReader(env);
  const raw = r.json('JWT_ISSUERS');
  const issuers: IssuerConfig[] = [];
  if (raw === undefined && env.JWT_ISSUERS === undefined)
    r.problem('JWT_ISSUERS', 'is required (a JSON array of issuers)');
  else if (raw !== undefined && (!Array.isArray(raw) || raw.length === 0))
    r.problem('JWT_ISSUERS', 'must be a non-empty JSON array');
  else if (Array.isArray(raw)) {
    raw.forEach((entry, i) => {
      const issuer = readIssuer(r, entry, i);
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
  };
  r.done();
  return Object.freeze(config);
}
