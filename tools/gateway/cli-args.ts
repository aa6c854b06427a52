/**
 * Command line of `npm start` (flags as `sam local start-api` names them). Pure.
 */
import type { Command } from 'commander';
import {
  type CliName,
  choiceValue,
  cliProgram,
  httpUrlValue,
  integerValue,
  overrideWords,
  parseCommandLine,
  portValue,
  UsageError,
} from '../cli/program.ts';
import { DEFAULT_ISSUER_PORT } from '../issuer/local-issuer.ts';
import { parseOverrides } from '../template/resolve.ts';

export { UsageError };

/** How `npm start` names itself in messages. */
export const START_NAME: CliName = { tool: 'start', invocation: 'npm start --' };

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
  /** Also print the functions' own logs (stderr). */
  readonly verbose: boolean;
  /** Access log as text lines (default) or JSON lines (with the functions' JSON logs). */
  readonly logFormat: 'text' | 'json';
  /** Serve HTTPS with client certificates (mutual TLS) of the local CA. */
  readonly mtls: boolean;
  /** Where the local CA and the server certificate are (`npm run certs -- --dir`). */
  readonly certsDir: string | undefined;
}

/** The `npm start` command line. */
export function startProgram(): Command {
  return cliProgram(START_NAME, 'Serve the APIs of the template locally, as API Gateway would (no Docker).')
    .option(
      '-p, --port <n>',
      'port of the first API (the next API takes port+1; 0 picks free ports)',
      portValue('--port', { allowZero: true }),
      3000,
    )
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option(
      '-n, --env-vars <file.json>',
      'environment overrides, sam local format ({"Parameters":{..},"LogicalId":{..}})',
    )
    .option('--parameter-overrides <K=V...>', 'template parameters (several words allowed)')
    .option('-t, --template <file>', 'the SAM template', 'template.yaml')
    .option('--openapi <file>', 'the API document (default: package.json "gatehouse.openapi")')
    .option(
      '--upstream <url>',
      'backend behind the validator (default: the in-process demo backend)',
      httpUrlValue('--upstream'),
    )
    .option('--in-memory', 'keep the embedded DynamoDB in memory (nothing persisted)')
    .option(
      '--issuer-port <n>',
      'port of the local token issuer',
      portValue('--issuer-port', { allowZero: true }),
      DEFAULT_ISSUER_PORT,
    )
    .option(
      '--max-body-bytes <n>',
      'largest request body (default 10485760, as API Gateway)',
      integerValue('--max-body-bytes', { min: 0 }),
    )
    .option(
      '--mtls',
      'serve HTTPS asking for client certificates of the local CA (npm run certs), passed on as clientCert',
    )
    .option('--certs-dir <dir>', 'with --mtls: where the local CA and server certificate are', undefined)
    .option('--watch', 'rebuild and restart functions when sources change')
    .option('--verbose', "also print the functions' own logs (on stderr)")
    .option(
      '--log-format <format>',
      "text: one line per request; json: JSON lines, with the functions' JSON logs",
      choiceValue('--log-format', ['text', 'json'] as const),
      'text',
    );
}

/** Parses the arguments after `npm start --`; throws UsageError (or HelpRequested). */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  const { options } = parseCommandLine<{
    port: number;
    host: string;
    envVars?: string;
    parameterOverrides?: string[];
    template: string;
    openapi?: string;
    upstream?: string;
    inMemory?: true;
    issuerPort: number;
    maxBodyBytes?: number;
    watch?: true;
    verbose?: true;
    logFormat: 'text' | 'json';
    mtls?: true;
    certsDir?: string;
  }>(startProgram(), argv);
  if (options.certsDir !== undefined && options.mtls !== true)
    throw new UsageError('--certs-dir goes with --mtls');
  return {
    port: options.port,
    host: options.host,
    envVars: options.envVars,
    parameterOverrides: parseOverrides(overrideWords(options.parameterOverrides)),
    template: options.template,
    openapi: options.openapi,
    upstream: options.upstream,
    inMemory: options.inMemory === true,
    issuerPort: options.issuerPort,
    maxBodyBytes: options.maxBodyBytes,
    watch: options.watch === true,
    verbose: options.verbose === true,
    logFormat: options.logFormat,
    mtls: options.mtls === true,
    certsDir: options.certsDir,
  };
}
