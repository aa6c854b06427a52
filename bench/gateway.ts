/**
 * `npm run bench:gateway`: requests per second and p50/p99 latency through the local gateway's full
 * chain (authorizer cached and uncached, request validator, demo backend), beside the demo backend
 * called directly, as ratios. Writes .gatehouse/bench/results/gateway-results.json (untracked), or
 * the committed bench/gateway-results.json with --update-results. About 45 s.
 *
 * Stage throttling and usage plans are lifted with --parameter-overrides so that the numbers show
 * the chain's cost rather than the template's rate limits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import autocannon from 'autocannon';
import { seedDemoCredentials } from '../shared/credentials/admin.ts';
import { createPasswordHasher } from '../shared/credentials/password.ts';
import { type CliName, cliProgram, parseCommandLine, runCli } from '../tools/cli/program.ts';
import { type RunningGateway, startGateway } from '../tools/gateway/gateway.ts';
import { startDemoBackend } from '../tools/local/demo-backend.ts';
import { COMMITTED_GATEWAY_RESULTS, UNTRACKED_GATEWAY_RESULTS } from './gateway-results.ts';

const DURATION_S = Number(process.env.BENCH_GATEWAY_SECONDS ?? 5);
const SINGLE_S = Math.max(1, Math.round(DURATION_S / 2.5));
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 8);

/** One measured case. */
interface CaseResult {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** p50 / p99 with a single connection (no queueing). */
  readonly singleClientP50Ms: number;
  readonly singleClientP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Responses by status code. */
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Direct backend requests per second divided by this case's (how many times slower). */
  readonly slowdown: number;
  /** This case's single-client p50 minus the direct one: what the chain adds per request, in ms. */
  readonly addedP50Ms: number;
}

const LIFTED_LIMITS = {
  ThrottlingRateLimit: '1000000',
  ThrottlingBurstLimit: '1000000',
  WriteThrottlingRateLimit: '1000000',
  WriteThrottlingBurstLimit: '1000000',
  BasicTierRateLimit: '1000000',
  BasicTierBurstLimit: '1000000',
  BasicTierQuotaPerDay: '1000000000',
};

async function measure(url: string, headers: Record<string, string>) {
  // Warm-up: cold starts and the authorizer cache's first fill are not what is measured.
  await autocannon({ url, headers, connections: 2, amount: 50 });
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_S });
  // One client alone: the latency the chain adds, without queueing behind other requests.
  const single = await autocannon({ url, headers, connections: 1, duration: SINGLE_S });
  return {
    singleClientP50Ms: single.latency.p50,
    singleClientP99Ms: single.latency.p99,
    requestsPerSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes: Object.fromEntries(
      Object.entries(r.statusCodeStats as Record<string, { count: number }>).map(([code, s]) => [
        code,
        s.count,
      ]),
    ) as Record<string, number>,
  };
}

async function quietGateway(parameterOverrides: Record<string, string>): Promise<RunningGateway> {
  return startGateway({
    port: 0,
    issuerPort: 0,
    inMemory: true,
    parameterOverrides: { ...LIFTED_LIMITS, ...parameterOverrides },
    accessLog: () => undefined,
    functionLog: () => undefined,
    info: () => undefined,
  });
}

const NAME: CliName = { tool: 'bench:gateway', invocation: 'npm run bench:gateway --' };

async function main(argv: readonly string[]): Promise<number> {
  const { options } = parseCommandLine<{ updateResults?: true }>(
    cliProgram(
      NAME,
      'Measure the local gateway chain (BENCH_GATEWAY_SECONDS, BENCH_GATEWAY_CONNECTIONS); write the figures to .gatehouse/bench/results/ unless --update-results.',
    ).option('--update-results', 'write the committed bench/gateway-results.json'),
    argv,
  );
  const target = options.updateResults === true ? COMMITTED_GATEWAY_RESULTS : UNTRACKED_GATEWAY_RESULTS;
  const started = Date.now();
  const direct = await startDemoBackend();
  const cached = await quietGateway({});
  const uncached = await quietGateway({ AuthorizerCacheTtlSeconds: '0' });
  const rows: { name: string; url: string; headers: Record<string, string> }[] = [];
  try {
    const token = cached.services.issuer?.mint({ scope: 'orders:read' }) as string;
    const token2 = uncached.services.issuer?.mint({ scope: 'orders:read' }) as string;
    const store = cached.services.credentialStore;
    rows.push(
      { name: 'backend direct (GET /orders)', url: `${direct.url}/orders`, headers: {} },
      {
        name: 'gateway, no authorizer (GET /health: validator + backend)',
        url: `${cached.urls.OrdersApi}/health`,
        headers: {},
      },
      {
        name: 'gateway, JWT authorizer cached (GET /orders)',
        url: `${cached.urls.OrdersApi}/orders`,
        headers: { authorization: `Bearer ${token}` },
      },
      {
        name: 'gateway, JWT authorizer uncached, TTL 0 (GET /orders)',
        url: `${uncached.urls.OrdersApi}/orders`,
        headers: { authorization: `Bearer ${token2}` },
      },
    );
    if (store !== undefined && cached.urls.OrdersKeyApi !== undefined) {
      const demo = await seedDemoCredentials(store, createPasswordHasher(), {
        environment: 'live',
        pepper: undefined,
        now: Date.now(),
        usageKeys: cached.services.usageKeys,
      });
      if (demo !== undefined)
        rows.push({
          name: 'gateway, API key authorizer, TTL 0 (GET /orders)',
          url: `${cached.urls.OrdersKeyApi}/orders`,
          headers: { 'x-api-key': demo.apiKey },
        });
    }
    const measured: Omit<CaseResult, 'slowdown' | 'addedP50Ms'>[] = [];
    for (const row of rows) {
      process.stderr.write(`bench:gateway: ${row.name} ...\n`);
      measured.push({ name: row.name, ...(await measure(row.url, row.headers)) });
    }
    const base = measured[0] as (typeof measured)[0];
    const results: CaseResult[] = measured.map((m) => ({
      ...m,
      slowdown: Math.round((base.requestsPerSecond / Math.max(1, m.requestsPerSecond)) * 100) / 100,
      addedP50Ms: Math.round((m.singleClientP50Ms - base.singleClientP50Ms) * 100) / 100,
    }));
    const out = {
      generatedAt: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      durationSecondsPerCase: DURATION_S,
      connections: CONNECTIONS,
      note: 'One warm Lambda environment per function (invocations serialized, as one Lambda instance); loopback HTTP.',
      results,
    };
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(
      `| case | req/s (${CONNECTIONS} conn.) | p50 ms | p99 ms | 1-client p50 ms | 1-client p99 ms | non-2xx | slowdown vs direct | added p50 ms (1 client) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
    );
    for (const r of results)
      process.stdout.write(
        `| ${r.name} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.singleClientP50Ms} | ${r.singleClientP99Ms} | ${r.non2xx} | ${r.slowdown}× | ${r.addedP50Ms} |\n`,
      );
    process.stdout.write(
      `\nbench:gateway: ${((Date.now() - started) / 1000).toFixed(1)} s; written to ${relative(process.cwd(), target)}\n`,
    );
  } finally {
    await cached.close();
    await uncached.close();
    await direct.close();
  }
  return 0;
}

await runCli(NAME, main);
