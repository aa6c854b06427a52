/**
 * `npm start`: the local gateway, like `sam local start-api` but with API Gateway's authorizer
 * caching, policy evaluation, usage plans and gateway responses, and no Docker.
 *
 *   npm start -- [-p 3000] [--host 127.0.0.1] [-n events/env.json] [--parameter-overrides K=V ...]
 *                [--upstream URL] [--in-memory] [--watch] [--verbose] [--log-format text|json]
 *
 * Every function is cold-started before the gateway serves, so a configuration the functions
 * refuse (a bad `-n` file, a bad parameter) stops `npm start` with their message.
 * Exit status: 0 after Ctrl-C, 2 bad usage, template or function configuration, 1 anything else.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { runCli } from '../cli/program.ts';
import { DEFAULT_ISSUER_PORT } from '../issuer/local-issuer.ts';
import { writeGatewayState } from '../local/gateway-state.ts';
import { TemplateError } from '../template/template.ts';
import { parseStartArgs, START_NAME, UsageError } from './cli-args.ts';
import { type SeedLines, seedDemo } from './demo-seed.ts';
import { type RunningGateway, startGateway } from './gateway.ts';

function readEnvVars(file: string | undefined): Record<string, Record<string, unknown>> | undefined {
  if (file === undefined) return undefined;
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`--env-vars file ${file} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--env-vars file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError('--env-vars must hold a JSON object');
  return parsed as Record<string, Record<string, unknown>>;
}

/** A file of `dir`, relative to the working directory when that is shorter. */
function relativeTo(dir: string, file: string): string {
  const path = join(dir, file);
  const rel = relative(process.cwd(), path);
  return rel.length < path.length && !rel.startsWith('..') ? rel : path;
}

/** The banner printed at start: where each API is and how to call it. */
export function banner(
  gateway: RunningGateway,
  seeded: SeedLines,
  logs: { readonly format: 'text' | 'json'; readonly verbose: boolean } = { format: 'json', verbose: true },
  inMemory = false,
): string {
  const lines: string[] = ['', 'Gatehouse local gateway'];
  for (const api of gateway.apis)
    lines.push(`  ${api.logicalId.padEnd(16)} ${api.url}   (stage ${api.stageName})`);
  if (gateway.issuerUrl !== undefined) lines.push(`  token issuer     ${gateway.issuerUrl}`);
  lines.push(
    `  upstream         ${gateway.upstreamUrl}${gateway.demoBackend === undefined ? '' : '   (demo backend)'}`,
  );
  const database = gateway.services.dynamo;
  if (database !== undefined) {
    const kept = inMemory
      ? 'in memory: nothing is kept'
      : database.owned
        ? 'persisted in .gatehouse/dynamodb'
        : 'shared with the process that holds .gatehouse/dynamodb';
    lines.push(`  database         ${database.endpoint}   (${kept}; npm run keys / users use it)`);
  }
  const first = gateway.apis[0]?.url ?? 'http://127.0.0.1:3000';
  // With --mtls every call needs the local CA and a client certificate of it (npm run certs).
  const tls = gateway.tls;
  const curl =
    tls === undefined
      ? 'curl -i'
      : `curl -i --cacert ${relativeTo(tls.certsDir, 'ca.pem')} --cert ${relativeTo(tls.certsDir, 'alice.pem')} --key ${relativeTo(tls.certsDir, 'alice-key.pem')}`;
  // The port the issuer really got (`--issuer-port 0` picks one): tokens must carry its URL.
  const issuerPort =
    gateway.issuerUrl === undefined ? DEFAULT_ISSUER_PORT : Number(new URL(gateway.issuerUrl).port);
  const port = issuerPort === DEFAULT_ISSUER_PORT ? '' : ` --issuer-port ${issuerPort}`;
  if (tls !== undefined) {
    lines.push(
      '',
      `Mutual TLS: clients need a certificate of ${relativeTo(tls.certsDir, 'ca.pem')} (npm run certs -- client alice)`,
    );
    for (const file of tls.created) lines.push(`  created ${file}`);
  }
  lines.push('', 'Try:', `  ${curl} ${first}/health`);
  if (gateway.issuerUrl !== undefined) {
    lines.push(
      `  ${curl} -H "Authorization: Bearer $(npm run -s token -- --scope 'orders:read'${port})" ${first}/orders`,
    );
    // DPoP-bound tokens go to the API behind the REQUEST authorizer (docs/sender-constrained-tokens.md).
    const dpopApi = gateway.apis.find((a) => a.logicalId === 'OrdersDpopApi');
    if (dpopApi !== undefined)
      lines.push(
        `  TOKEN=$(npm run -s token -- --dpop-key .gatehouse/dpop/key.json${port}); ${curl} -H "Authorization: DPoP $TOKEN" -H "DPoP: $(npm run -s dpop -- --method GET --url ${dpopApi.url}/orders --token "$TOKEN")" ${dpopApi.url}/orders`,
      );
  }
  // AWS_IAM routes: the local key pairs they accept (docs/local-gateway.md#iam-routes).
  const iam = gateway.apis.find((a) => a.iamRoutes);
  for (const c of gateway.iamCredentials)
    lines.push(`  IAM key          ${c.accessKeyId}:${c.secretAccessKey}   (${c.principalArn})`);
  const key = gateway.iamCredentials[0];
  if (iam !== undefined && key !== undefined)
    lines.push(
      `  curl -i --aws-sigv4 'aws:amz:${gateway.region}:execute-api' --user '${key.accessKeyId}:${key.secretAccessKey}' ${iam.url}/...`,
    );
  lines.push(...seeded.lines);
  const access =
    logs.format === 'json'
      ? "one JSON line per request on stdout, the functions' logs on stderr"
      : `one line per request on stdout${logs.verbose ? ", the functions' logs on stderr" : " (--verbose adds the functions' logs)"}`;
  lines.push('', `Access log: ${access}. Ctrl-C stops.`, '');
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseStartArgs(argv);
  let gateway: RunningGateway;
  try {
    const envVars = readEnvVars(args.envVars);
    gateway = await startGateway({
      port: args.port,
      host: args.host,
      template: args.template,
      ...(args.openapi !== undefined ? { openapi: args.openapi } : {}),
      parameterOverrides: args.parameterOverrides,
      issuerPort: args.issuerPort,
      inMemory: args.inMemory,
      watch: args.watch,
      accessLogFormat: args.logFormat,
      ...(args.verbose || args.logFormat === 'json' ? {} : { functionLog: () => undefined }),
      ...(envVars !== undefined ? { envVars } : {}),
      ...(args.upstream !== undefined ? { upstream: args.upstream } : {}),
      ...(args.maxBodyBytes !== undefined ? { maxBodyBytes: args.maxBodyBytes } : {}),
      ...(args.mtls ? { mtls: args.certsDir === undefined ? {} : { certsDir: args.certsDir } } : {}),
    });
  } catch (err) {
    if (err instanceof UsageError || err instanceof TemplateError) {
      process.stderr.write(`start: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`start: ${(err as Error).message}\n`);
    return 1;
  }
  // A function that cannot start would answer every request with a 5xx: refuse to serve instead.
  const failed = await gateway.startFunctions();
  if (failed.length > 0) {
    for (const f of failed)
      process.stderr.write(`start: ${f.logicalId} cannot start: ${f.error.errorMessage}\n`);
    await gateway.close();
    return failed.every((f) => f.error.errorMessage.startsWith('ConfigError')) ? 2 : 1;
  }
  const seeded = await seedDemo(gateway);
  const removeState = writeGatewayState({
    pid: process.pid,
    startedAt: new Date().toISOString(),
    apis: gateway.urls,
    ...(gateway.issuerUrl !== undefined ? { issuerUrl: gateway.issuerUrl } : {}),
    ...(gateway.services.dynamo !== undefined
      ? { database: { endpoint: gateway.services.dynamo.endpoint, inMemory: args.inMemory } }
      : {}),
  });
  process.stderr.write(
    `${banner(gateway, seeded, { format: args.logFormat, verbose: args.verbose }, args.inMemory)}\n`,
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\nstart: ${signal}, stopping\n`);
      removeState();
      gateway.close().then(done, done);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`)
  await runCli(START_NAME, main, (err) => (err instanceof TemplateError ? 2 : undefined));
