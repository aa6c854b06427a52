/** Environment variables as a function receives them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A bad configuration. Thrown at init (module scope), so the cold start fails with every problem
 * listed, each naming its variable.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Collects problems while reading variables, then throws them all at once. */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[] = [];

  constructor(env: Env) {
    this.#env = env;
  }

  /** Records a problem with a variable. */
  problem(name: string, message: string): void {
    this.#problems.push(`${name} ${message}`);
  }

  /** A string, or the default when unset or empty. */
  string(name: string, fallback?: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  /** A required, non-empty string. */
  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) {
      this.problem(name, 'is required');
      return '';
    }
    return value;
  }

  /** An integer within bounds. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw.trim())) {
      this.problem(name, `must be an integer, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.problem(name, `must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  /** `true` or `false` (case-insensitive). */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const lower = raw.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.problem(name, `must be true or false, got ${JSON.stringify(raw)}`);
    return fallback;
  }

  /** Parsed JSON, or undefined (with a problem recorded) when it does not parse. */
  json(name: string): unknown {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch (err) {
      this.problem(name, `is not valid JSON (${(err as Error).message})`);
      return undefined;
    }
  }

  /** Throws a {@link ConfigError} listing every problem recorded so far. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }
}

/** True for hosts that never leave the machine (plain http is accepted only for these). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Reads an endpoint override (`DYNAMODB_ENDPOINT`, `SECRETS_MANAGER_ENDPOINT`): it exists for local
 * runs and tests only, so anything but an http(s) URL of a loopback host is a problem (a deployed
 * function must talk to the AWS service itself).
 */
export function readLoopbackEndpoint(r: EnvReader, name: string): string | undefined {
  const endpoint = r.string(name);
  if (endpoint === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || !isLoopbackHost(url.hostname))
    r.problem(name, 'must be an http(s) URL of a loopback host (local runs only)');
  return endpoint;
}

/** Reads a required DynamoDB table name; a name DynamoDB would refuse is a problem. */
export function readTableName(r: EnvReader, name: string): string {
  const tableName = r.required(name);
  if (tableName !== '' && !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName))
    r.problem(name, `is not a DynamoDB table name: ${JSON.stringify(tableName)}`);
  return tableName;
}

/** Checks a URL: https, or http to a loopback host. Returns a problem, or undefined when fine. */
export function checkFetchUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: ${JSON.stringify(value)}`;
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return `must use https (plain http only for loopback hosts), got ${url.protocol}//${url.host}`;
}
