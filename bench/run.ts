/**
 * `npm run bench`: every section in one run, then RESULTS.md and ratios.svg.
 *
 *   npm run bench                        the full run (1–2 minutes on 2 cores), written to
 *                                        .gatehouse/bench/results/ (untracked)
 *   npm run bench -- --update-results    the same, written to bench/RESULTS.md and bench/ratios.svg
 *   npm run bench -- --quick             fewer samples and cold starts (a smoke run; rougher figures)
 *   npm run bench -- --only jwt,observer sections: jwt, observer, validation, cold-start, credentials,
 *                                        openapi
 */

import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { startFakeSecretsManager } from '../test/support/secrets-manager-server.ts';
import { type CliName, cliProgram, parseCommandLine, runCli } from '../tools/cli/program.ts';
import { signJwt } from '../tools/issuer/sign.ts';
import { PROJECT_ROOT, STATE_DIR } from '../tools/paths.ts';
import { templateEnvironment } from '../tools/template/functions.ts';
import {
  type Bundle,
  buildFunctions,
  buildPeers,
  libraryCosts,
  loadOurs,
  OURS_BUNDLE,
  PEERS,
} from './bundles.ts';
import { type ColdStartCase, runColdStarts } from './cold-start.ts';
import { runCredentialsSection, startSeededDynamo } from './credentials.ts';
import { createOrderProxyEvent, restAuthorizerEvent } from './events.ts';
import { COMMITTED_GATEWAY_RESULTS, latestGatewayResults } from './gateway-results.ts';
import type { MeasureOptions } from './harness.ts';
import { runJwtSection } from './jwt.ts';
import { renderOpenApi, runOpenApiSection } from './openapi.ts';
import { type BenchRun, renderMarkdown, renderSvg, type Unavailable } from './report.ts';
import { evaluateTargets } from './targets.ts';
import { orderBody, runValidationSection } from './validation.ts';

/** Where a run's report goes unless `--update-results` asks for the committed one. */
export const UNTRACKED_RESULTS = resolve(STATE_DIR, 'bench', 'results');
const SECTIONS = ['jwt', 'observer', 'validation', 'cold-start', 'credentials', 'openapi'] as const;
type Section = (typeof SECTIONS)[number];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function unavailable(err: unknown): Unavailable {
  return { unavailable: err instanceof Error ? err.message : String(err) };
}

function allowed(result: unknown): boolean {
  return (
    (result as { policyDocument?: { Statement?: { Effect?: string }[] } }).policyDocument?.Statement?.[0]
      ?.Effect === 'Allow'
  );
}

/** The environment a function gets from template.yaml, plus what a Lambda sandbox sets. */
function lambdaEnvironment(logicalId: string, overrides: Record<string, string>): Record<string, string> {
  return {
    ...templateEnvironment(logicalId),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...overrides,
  };
}

/** The cold-start case of the JWT authorizer whose issuer carries its JWKS (`jwks`). */
export const SEEDED_JWT = 'JwtAuthorizerFunction (seeded JWKS)';

const SIGNING_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:UpstreamSigningSecret-Bench0';
const PEPPER_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiKeyPepperSecret-Bench00';
const BENCH_PEPPER = 'bench-pepper-0123456789abcdef';

/**
 * The cold-start section: our bundles and the peers, with a JWKS server, a seeded dynalite and a
 * loopback Secrets Manager.
 */
async function coldStartSection(functions: readonly Bundle[], peers: readonly Bundle[], rounds: number) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...createPublicKey(privateKey).export({ format: 'jwk' }),
    kid: 'cold',
    alg: 'RS256',
    use: 'sig',
  };
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cold`;
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { alg: 'RS256', kid: 'cold', typ: 'JWT' },
    { iss: issuer, aud: 'bench', sub: 'cold-user', scope: 'orders:read', iat: now, exp: now + 3600 },
    privateKey,
  );
  const jwtEvent = restAuthorizerEvent({ Authorization: `Bearer ${token}` });
  // The validator forwards a valid request upstream: a loopback upstream answers at once.
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ id: 'ord_bench0001', status: 'pending', createdAt: new Date().toISOString() }),
      );
    });
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  // Deployed, the validator reads its signing key and the key authorizer its pepper from Secrets
  // Manager (GetSecretValue, signed): a loopback Secrets Manager holds them here, so both cold
  // starts include that read as they do in AWS.
  const secrets = await startFakeSecretsManager();
  secrets.put(SIGNING_SECRET_ID, 'bench-signing-secret-0123456789abcdef');
  secrets.put(PEPPER_SECRET_ID, BENCH_PEPPER);
  const dynamo = await startSeededDynamo(BENCH_PEPPER).catch((err: unknown) => unavailable(err));
  try {
    const cases: ColdStartCase[] = [];
    const bundle = (name: string) =>
      functions.find((f) => f.name === name) ?? peers.find((p) => p.name === name);
    const add = (
      name: string,
      make: (b: Bundle) => Omit<ColdStartCase, 'name' | 'bundle' | 'exportName'>,
      bundleName = name,
    ) => {
      const b = bundle(bundleName);
      if (b !== undefined && b.bytes > 1024)
        cases.push({ name, bundle: b.bundle, exportName: b.exportName, ...make(b) });
    };
    const expectAllow = (o: { ok: boolean; result?: unknown; error?: string }) =>
      o.ok && allowed(o.result) ? undefined : `did not answer Allow: ${o.error ?? JSON.stringify(o.result)}`;
    add('JwtAuthorizerFunction', () => ({
      env: lambdaEnvironment('JwtAuthorizerFunction', {
        JWT_ISSUERS: JSON.stringify([{ issuer, audience: 'bench' }]),
      }),
      event: jwtEvent,
      expect: expectAllow,
    }));
    // The same function with its issuer's keys in JWT_ISSUERS (`jwks`): no JWKS download at init.
    add(
      SEEDED_JWT,
      () => ({
        env: lambdaEnvironment('JwtAuthorizerFunction', {
          JWT_ISSUERS: JSON.stringify([{ issuer, audience: 'bench', jwks: { keys: [jwk] } }]),
        }),
        event: jwtEvent,
        expect: expectAllow,
      }),
      'JwtAuthorizerFunction',
    );
    add(PEERS.JwtAuthorizerFunction.name, () => ({
      env: {
        PEER_ISSUER: issuer,
        PEER_AUDIENCE: 'bench',
        PEER_JWKS_URI: `${issuer}/.well-known/jwks.json`,
      },
      event: jwtEvent,
      expect: expectAllow,
    }));
    const orderEvent = createOrderProxyEvent(orderBody());
    const expectAnswer = (o: { ok: boolean; result?: unknown; error?: string }) => {
      const status = (o.result as { statusCode?: number } | undefined)?.statusCode;
      return o.ok && status !== undefined && status < 300
        ? undefined
        : `did not forward: ${o.error ?? JSON.stringify(o.result)}`;
    };
    add('RequestValidatorFunction', () => ({
      env: lambdaEnvironment('RequestValidatorFunction', {
        UPSTREAM_URL: upstreamUrl,
        UPSTREAM_SIGNING_SECRET_ARN: SIGNING_SECRET_ID,
        SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
      }),
      event: orderEvent,
      expect: expectAnswer,
    }));
    add(PEERS.RequestValidatorFunction.name, () => ({ env: {}, event: orderEvent, expect: expectAnswer }));
    if (!('unavailable' in dynamo)) {
      add('KeyAuthorizerFunction', () => ({
        env: lambdaEnvironment('KeyAuthorizerFunction', {
          DYNAMODB_ENDPOINT: dynamo.endpoint,
          CREDENTIALS_TABLE: dynamo.table,
          API_KEY_ENVIRONMENT: 'test',
          API_KEY_PEPPER_SECRET_ARN: PEPPER_SECRET_ID,
          SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
          // The benchmark's key has no API Gateway usage key of its own (there is no API Gateway).
          USAGE_KEY_REQUIRED: 'false',
        }),
        event: restAuthorizerEvent({ 'x-api-key': dynamo.apiKey }),
        expect: expectAllow,
      }));
    }
    return await runColdStarts(cases, rounds, log);
  } finally {
    server.close();
    upstream.close();
    await secrets.close();
    if (!('unavailable' in dynamo)) await dynamo.close();
  }
}

/**
 * The observer's cost per decision (`begin` + `decision`, one line written to stdout), from a child
 * process whose stdout goes to /dev/null, warmed up with 5,000 decisions so the JIT has settled.
 */
function observerCost(): { readonly medianNs: number; readonly p99Ns: number } | Unavailable {
  const child = spawnSync(
    process.execPath,
    [resolve(PROJECT_ROOT, 'bench/observer-child.mjs'), OURS_BUNDLE],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'JwtAuthorizerFunction',
        POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
        POWERTOOLS_METRICS_NAMESPACE: 'Gatehouse',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    },
  );
  const line = child.stderr.split('\n').find((l) => l.startsWith('@@bench '));
  if (line === undefined) return { unavailable: `the observer child failed: ${child.stderr.slice(0, 200)}` };
  return JSON.parse(line.slice(8)) as { medianNs: number; p99Ns: number };
}

/**
 * The local gateway's figures (`npm run bench:gateway`, about 45 s, run when they are missing): for
 * the committed report the committed file, else the newer of the untracked and committed ones.
 */
function gatewayFigures(updateResults: boolean): Readonly<Record<string, unknown>> | Unavailable {
  const pick = () =>
    updateResults
      ? existsSync(COMMITTED_GATEWAY_RESULTS)
        ? COMMITTED_GATEWAY_RESULTS
        : undefined
      : latestGatewayResults();
  let file = pick();
  if (file === undefined) {
    const scripts = (
      JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      }
    ).scripts;
    if (scripts?.['bench:gateway'] === undefined)
      return { unavailable: 'no `bench:gateway` script, and no gateway figures' };
    log('gateway: no figures yet, running npm run bench:gateway');
    const run = spawnSync(
      'npm',
      ['run', '--silent', 'bench:gateway', ...(updateResults ? ['--', '--update-results'] : [])],
      { cwd: PROJECT_ROOT, stdio: 'inherit' },
    );
    file = pick();
    if (run.status !== 0 || file === undefined)
      return { unavailable: `npm run bench:gateway failed (exit ${run.status})` };
  }
  try {
    return {
      ...(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>),
      file: relative(PROJECT_ROOT, file),
    };
  } catch (err) {
    return unavailable(err);
  }
}

const skipped = (section: string): Unavailable => ({ unavailable: `not run (--only without ${section})` });

const NAME: CliName = { tool: 'bench', invocation: 'npm run bench --' };

/** The `npm run bench` command line. */
export function benchProgram(): Command {
  return cliProgram(
    NAME,
    'Run the benchmark sections; write RESULTS.md and ratios.svg (to .gatehouse/bench/results/ unless --update-results).',
  )
    .option('--quick', 'fewer samples and cold starts (a smoke run; figures are rougher)')
    .option('--update-results', 'write the committed bench/RESULTS.md and bench/ratios.svg')
    .addOption(
      new Option('--only <sections>', `comma-separated sections to run (${SECTIONS.join(', ')})`).argParser(
        (value) => {
          const picked = value.split(',').map((x) => x.trim());
          const unknown = picked.filter((x) => !(SECTIONS as readonly string[]).includes(x));
          if (unknown.length > 0)
            throw new InvalidArgumentError(
              `unknown section ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`,
            );
          return picked as Section[];
        },
      ),
    );
}

interface BenchCommandLine {
  quick?: true;
  updateResults?: true;
  only?: Section[];
}

async function main(argv: readonly string[]): Promise<number> {
  const { options: flags } = parseCommandLine<BenchCommandLine>(benchProgram(), argv);
  const quick = flags.quick === true;
  const sections: ReadonlySet<Section> = new Set(flags.only ?? SECTIONS);
  // Many short samples: on a shared machine most 2 ms batches run without being preempted, so the
  // median reflects the code, and the preempted ones land in the p99.
  const options: MeasureOptions = quick
    ? { warmupMs: 100, samples: 40, sampleMs: 2 }
    : { warmupMs: 400, samples: 151, sampleMs: 2 };
  const rounds = quick ? 4 : 12;
  const started = Date.now();
  const loadBefore = loadavg();

  log('bundles: building functions and peers');
  const functions = await buildFunctions();
  const peers = await buildPeers();
  const costs = await libraryCosts();
  const ours = await loadOurs();

  log('1. JWT decision');
  const jwt = sections.has('jwt') ? await runJwtSection(ours, options, log) : [];
  const observer = sections.has('observer') ? observerCost() : skipped('observer');
  log('2. request validation');
  const validation = sections.has('validation')
    ? await runValidationSection(ours, options).catch(unavailable)
    : skipped('validation');
  log('3. cold start');
  const coldStart = sections.has('cold-start')
    ? await coldStartSection(functions, peers, rounds)
    : { emptyMs: Number.NaN, results: [] };
  log('5. credentials authorizer');
  const credentials = sections.has('credentials')
    ? await runCredentialsSection(ours, options).catch(unavailable)
    : skipped('credentials');
  log('6. local gateway');
  const gateway = gatewayFigures(flags.updateResults === true);
  log('7. OpenAPI documents (bench/openapi.ts)');
  const openapi = sections.has('openapi')
    ? await runOpenApiSection(quick ? 3 : 9, log).then(renderOpenApi, unavailable)
    : skipped('openapi');

  const run: BenchRun = {
    startedAt: new Date(started).toISOString(),
    durationS: (Date.now() - started) / 1000,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    loadBefore,
    jwt,
    observer,
    validation,
    coldStart,
    bundles: [...functions, ...peers],
    libraryCosts: costs,
    credentials,
    gateway,
    openapi,
  };
  const targets = evaluateTargets(run);
  // The committed report changes only when asked: a routine run must not dirty the work tree.
  const dir = flags.updateResults === true ? resolve(PROJECT_ROOT, 'bench') : UNTRACKED_RESULTS;
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'RESULTS.md'), renderMarkdown(run, targets));
  writeFileSync(resolve(dir, 'ratios.svg'), renderSvg(run));
  for (const t of targets) {
    log(`${t.status.padEnd(6)} ${t.target}: ${t.measured} (limit ${t.limit})`);
    if (t.status === 'short') log(`       ${t.note}`);
  }
  log(`wrote ${resolve(dir, 'RESULTS.md')} and ratios.svg in ${run.durationS.toFixed(0)} s`);
  return 0;
}

await runCli(NAME, main);
