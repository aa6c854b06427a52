/**
 * `npm run bench:routes`: routing and authorizer policies at API sizes from the demo to 5,000 routes.
 * - lookup: the trie RouteMatcher beside a scan of every route (a regular expression per route,
 *   the way the table was searched before), on request paths made from the table's own templates;
 * - answers: `answerFor` for a scope set it has never seen (a new caller), and the whole-API compiler;
 * - plan: what `npm run generate` checks (the cache mode and the largest policy), in seconds.
 * Writes bench/ROUTES.md.
 *
 *   npm run bench:routes [-- --openapi path/to/document.json] [--quick]
 *
 * `--openapi` adds a third-party document's routes (e.g. GitHub's, from the npm package
 * @octokit/openapi). Documents without `security` get one scope per first path segment and method
 * kind, so that callers differ; `{path}` parameters in the last segment are made greedy.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { normalizeAuthorizerEvent } from '../shared/apigw/authorizer-request.ts';
import { answerFor } from '../shared/authz/answer.ts';
import { ROUTES } from '../shared/generated/routes.ts';
import { PolicyCache } from '../shared/policy/policy-compiler.ts';
import { PolicyCompiler } from '../shared/policy/policy-planner.ts';
import { parseTemplate, type Route, RouteMatcher, type RouteTable } from '../shared/routes/route-table.ts';
import { syntheticRoutes } from '../test/support/synthetic-routes.ts';
import { loadOpenApi } from '../tools/openapi/document.ts';
import { routeTable } from '../tools/openapi/routes.ts';
import { PROJECT_ROOT } from '../tools/paths.ts';
import { type Measurement, measureGroup } from './harness.ts';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/** The table a scan-every-route matcher searched: a regular expression per route, most specific wins. */
class ScanMatcher {
  readonly #entries: { route: Route; pattern: RegExp; score: number[] }[];
  constructor(routes: RouteTable) {
    this.#entries = routes.map((route) => {
      const segments = parseTemplate(route.path, route.greedy === true);
      const source = segments
        .map((s) =>
          s.kind === 'literal'
            ? escapeRegExp(s.text)
            : s.kind === 'greedy'
              ? '(.+)'
              : s.parts.map((p) => (typeof p === 'string' ? escapeRegExp(p) : '([^/]+?)')).join(''),
        )
        .map((x) => `/${x}`)
        .join('');
      const score = segments.map((s) =>
        s.kind === 'literal' ? 3 : s.kind === 'greedy' ? 0 : s.parts.length > 1 ? 2 : 1,
      );
      return { route, pattern: new RegExp(`^${source}$`, 's'), score };
    });
  }
  lookup(method: string, path: string): Route | undefined {
    let best: { route: Route; score: number[] } | undefined;
    for (const e of this.#entries) {
      if (e.route.method !== method || !e.pattern.test(path)) continue;
      if (best === undefined || better(e.score, best.score)) best = e;
    }
    return best?.route;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const better = (a: readonly number[], b: readonly number[]) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

/** Request paths for a table: each template with made-up values, in table order. */
function requestPaths(routes: RouteTable): { method: string; path: string }[] {
  return routes.map((r, i) => ({
    method: r.method,
    path: r.path.replace(/\{[^{}]+\}/g, () => `v${i % 97}x`),
  }));
}

/** A third-party document's route table, with scopes where it declares none. */
function documentRoutes(file: string): RouteTable {
  return routeTable(loadOpenApi(file)).map((r) => {
    const greedy = r.greedy === true || /\/\{path\}$/.test(r.path);
    const first = r.path.split('/')[1] ?? 'root';
    const scopes = r.scopeAlternatives ?? [[`${first}:${r.method === 'GET' ? 'read' : 'write'}`]];
    return { ...r, scopeAlternatives: scopes, ...(greedy ? { greedy: true as const } : {}) };
  });
}

const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { openapi: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const options = values.quick ? { samples: 10, warmupMs: 50 } : { samples: 30 };
  const tables: { name: string; routes: RouteTable }[] = [
    { name: 'demo (openapi.yaml)', routes: ROUTES },
    { name: 'synthetic 1,000', routes: syntheticRoutes(1000) },
    { name: 'synthetic 5,000', routes: syntheticRoutes(5000) },
  ];
  if (values.openapi !== undefined) {
    const routes = documentRoutes(resolve(values.openapi));
    tables.push({ name: `${values.openapi.split('/').pop()} (${routes.length})`, routes });
  }
  const lines: string[] = [
    '# Routing and policy benchmark',
    '',
    `Generated by \`npm run bench:routes\` on ${new Date().toISOString()}. Node ${process.version}. Medians over batched samples (bench/harness.ts); compare the ratios, absolute times move with load.`,
    '',
    '## Route lookup',
    '',
    '| table | routes | trie lookup | scan of every route | scan ÷ trie |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const { name, routes } of tables) {
    const trie = new RouteMatcher(routes);
    const scan = new ScanMatcher(routes);
    const paths = requestPaths(routes);
    for (const p of paths) {
      const a = trie.lookup(p.method, p.path);
      if (a.kind !== 'found' || a.match.route !== scan.lookup(p.method, p.path))
        throw new Error(`the matchers disagree on ${p.method} ${p.path}`);
    }
    const [t, s] = (await measureGroup(
      [
        {
          name: 'trie',
          fn: (i) => trie.lookup(paths[i % paths.length]?.method ?? '', paths[i % paths.length]?.path ?? ''),
        },
        {
          name: 'scan',
          fn: (i) => scan.lookup(paths[i % paths.length]?.method ?? '', paths[i % paths.length]?.path ?? ''),
        },
      ],
      options,
    )) as [Measurement, Measurement];
    lines.push(
      `| ${name} | ${routes.length} | ${us(t.medianNs)} | ${us(s.medianNs)} | ${(s.medianNs / t.medianNs).toFixed(1)}× |`,
    );
    process.stderr.write(`lookup ${name}: ${us(t.medianNs)}\n`);
  }

  lines.push(
    '',
    '## Policies',
    '',
    'Plan: the cache mode and the largest policy, what `npm run generate` checks (one run, wall time). New caller: `answerFor` for a scope set never seen before, on a warm authorizer (REST REQUEST event, policy answer). Whole-API compile: the `api`-mode compiler over every route (what a new scope set costs where the whole API is one policy; at these sizes the plan answers per route instead).',
    '',
    '| table | plan | mode | largest policy | new caller | whole-API compile |',
    '| --- | ---: | --- | ---: | ---: | ---: |',
  );
  for (const { name, routes } of tables) {
    const t0 = process.hrtime.bigint();
    const compiler = new PolicyCompiler(routes);
    const planNs = Number(process.hrtime.bigint() - t0);
    const matcher = new RouteMatcher(routes);
    const policies = new PolicyCache(routes);
    const paths = requestPaths(routes);
    const events = paths.map((p, i) =>
      normalizeAuthorizerEvent(
        {
          type: 'REQUEST',
          methodArn: `${STAGE}/${p.method}${p.path}`,
          resource: (routes[i] as Route).path,
          path: p.path,
          httpMethod: p.method,
          headers: {},
          requestContext: {},
        },
        false,
      ),
    );
    const scopes = [...new Set(routes.flatMap((r) => (r.scopeAlternatives ?? []).flat()))];
    const [answer, whole] = (await measureGroup(
      [
        {
          name: 'new caller',
          fn: (i) =>
            answerFor(
              events[i % events.length] as (typeof events)[number],
              // A scope list never seen before: a new set, a new key.
              { principalId: 'p', scopes: [scopes[i % scopes.length] ?? 'x', `caller-${i}`], context: {} },
              matcher,
              policies,
            ),
        },
        {
          name: 'whole-API compile',
          // A new scope set every time (the memo never answers).
          fn: (i) => compiler.compile(new Set([scopes[i % scopes.length] ?? 'x', `caller-${i}`]), STAGE),
        },
      ],
      { ...options, samples: Math.min(options.samples, 15) },
    )) as [Measurement, Measurement];
    lines.push(
      `| ${name} | ${(planNs / 1e9).toFixed(3)} s | ${compiler.plan.mode} | ${compiler.plan.largestPolicyBytes} B | ${us(answer.medianNs)} | ${ms(whole.medianNs)} |`,
    );
    process.stderr.write(
      `policies ${name}: plan ${(planNs / 1e9).toFixed(3)} s, mode ${compiler.plan.mode}\n`,
    );
  }
  lines.push(
    '',
    "Sizes are measured with the longest stage prefix (`WORST_CASE_STAGE_PREFIX`, a 128-character stage); the bound is 6,144 bytes of policy within API Gateway's 8 KB authorizer result.",
    '',
  );
  const out = resolve(PROJECT_ROOT, 'bench/ROUTES.md');
  writeFileSync(out, lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
