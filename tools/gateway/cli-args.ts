/**
 * Command line of `npm start` (flags as `sam local start-api` names them). Pure.
 */
import { DEFAULT_ISSUER_PORT } from '../issuer/local-issuer.ts';
import { parseOverrides } from '../template/resolve.ts';

/** Bad usage: printed with the usage text, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm start -- [options]
  -p, --port <n>                 port of the first API (default 3000; the next API takes port+1)
      --host <addr>              interface to listen on (default 127.0.0.1)
  -n, --env-vars <file.json>     environment overrides, sam local format ({"Parameters":{..},"LogicalId":{..}})
      --parameter-overrides K=V  template parameters (several words allowed)
  -t, --template <file>          template (default template.yaml)
      --openapi <file>           API document (default: package.json "gatehouse.openapi")
      --upstream <url>           backend behind the validator (default: the in-process demo backend)
      --in-memory                keep the embedded DynamoDB in memory (nothing persisted)
      --issuer-port <n>          port of the local token issuer (default 3999)
      --max-body-bytes <n>       largest request body (default 10485760, as API Gateway)
      --watch                    rebuild and restart functions when sources change`;

/** Parsed command line. */
export interface StartArgs {
  readonly port: number;
  readonly host: string;
  readonly envVars: string | undefined;
  readonly parameterOverrides: Record<string, string>;
  readonly template: string;
  /** The API document, when not the project's (package.json "gatehouse.openapi"). */
  readonly openapi: string | undefined;
  readonly upstream: string | undefined;
  readonly inMemory: boolean;
  readonly issuerPort: number;
  readonly maxBodyBytes: number | undefined;
  readonly watch: boolean;
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number`);
  return n;
}

/** Parses the arguments after `npm start --`. */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  let portNumber = 3000;
  let host = '127.0.0.1';
  let envVars: string | undefined;
  let template = 'template.yaml';
  let openapi: string | undefined;
  let upstream: string | undefined;
  let inMemory = false;
  let issuerPort = DEFAULT_ISSUER_PORT;
  let maxBodyBytes: number | undefined;
  let watchFlag = false;
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const arg = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const next = () => {
      if (inline !== undefined) return inline;
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      return value;
    };
    switch (arg) {
      case '-p':
      case '--port':
        portNumber = port(next(), arg);
        break;
      case '--host':
        host = next();
        break;
      case '-n':
      case '--env-vars':
        envVars = next();
        break;
      case '-t':
      case '--template':
        template = next();
        break;
      case '--openapi':
        openapi = next();
        break;
      case '--upstream': {
        upstream = next();
        if (!/^https?:\/\//.test(upstream)) throw new UsageError('--upstream must be an http(s) URL');
        break;
      }
      case '--in-memory':
        inMemory = true;
        break;
      case '--issuer-port':
        issuerPort = port(next(), arg);
        break;
      case '--max-body-bytes': {
        maxBodyBytes = Number(next());
        if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0)
          throw new UsageError('--max-body-bytes must be a whole number');
        break;
      }
      case '--watch':
        watchFlag = true;
        break;
      case '--parameter-overrides':
        if (inline !== undefined) overrides.push(...inline.split(/\s+/).filter(Boolean));
        while (argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('-'))
          overrides.push(...(argv[++i] as string).split(/\s+/).filter(Boolean));
        break;
      case '-h':
      case '--help':
        throw new UsageError('help');
      default:
        throw new UsageError(`unknown argument ${raw}`);
    }
  }
  return {
    port: portNumber,
    host,
    envVars,
    parameterOverrides: parseOverrides(overrides),
    template,
    openapi,
    upstream,
    inMemory,
    issuerPort,
    maxBodyBytes,
    watch: watchFlag,
  };
}
