// What CloudFormation deploys: template.yaml expanded by AWS's SAM translator (.ci/sam-translate.py,
// offline) for named parameter sets, with each set's conditions applied and its intrinsics resolved.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import {
  conditionHolds,
  type LocalStack,
  localStack,
  resolveParameters,
  resolveValue,
} from '../../tools/template/resolve.ts';
import type { Template, TemplateResource } from '../../tools/template/template.ts';

/** The parameters without a usable default: the Rules refuse a deploy without them. */
export const REQUIRED_PARAMETERS = {
  JwtIssuers: '[{"issuer":"https://idp.example.com/","audience":"orders-api"}]',
  UpstreamUrl: 'https://backend.example.com/api',
} as const;

const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/0d1e2f3a-1111-2222-3333-444455556666';

/** Parameter sets that change what deploys. Each is expanded and checked on its own. */
export const PARAMETER_SETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  defaults: { ...REQUIRED_PARAMETERS },
  'waf-off': { ...REQUIRED_PARAMETERS, EnableWaf: 'false' },
  'custom-domains': {
    ...REQUIRED_PARAMETERS,
    CustomDomainName: 'orders.example.com',
    KeyApiCustomDomainName: 'keys.example.com',
    CustomDomainCertificateArn: CERTIFICATE,
  },
  'account-role-managed': { ...REQUIRED_PARAMETERS, ConfigureApiGatewayAccount: 'true' },
  'locked-down': {
    ...REQUIRED_PARAMETERS,
    StageName: 'prod',
    AllowedSourceCidrs: '203.0.113.0/24,198.51.100.7/32',
    EnableHttpApis: 'false',
    EnableAuditTrail: 'true',
    AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
    TlsSecurityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09',
    AuthorizerCacheTtlSeconds: '0',
    ConfigureApiGatewayAccount: 'true',
    KeyApiCustomDomainName: 'keys.example.com',
    CustomDomainCertificateArn: CERTIFICATE,
  },
};

/** A resource that deploys under a parameter set: its condition holds; intrinsics resolved. */
export interface DeployedResource {
  readonly type: string;
  /** Properties with Fn::If, Ref, Fn::Sub ... resolved (`!Ref Resource` → its logical ID). */
  readonly properties: Readonly<Record<string, unknown>>;
  /** As the translator wrote it. */
  readonly raw: TemplateResource;
}

/** One parameter set's expansion. */
export interface Expansion {
  readonly name: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** The translator's output file. */
  readonly file: string;
  readonly template: Template;
  readonly stack: LocalStack;
  readonly resources: Readonly<Record<string, DeployedResource>>;
}

/** Where expansions are written. */
export const EXPANSIONS_DIR = join(PROJECT_ROOT, '.gatehouse', 'template-expansions');

/** True when python3 and AWS's aws-sam-translator are installed. */
export function translatorAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import samtranslator'], { encoding: 'utf8' }).status === 0;
}

/** Expands template.yaml once per parameter set (one translator process for all of them). */
export function expandAll(
  sets: Readonly<Record<string, Readonly<Record<string, string>>>> = PARAMETER_SETS,
  /** Where the expansions are written (test files running in parallel each use their own). */
  outDir = join(EXPANSIONS_DIR, 'all'),
  /** The template to expand (default: the project's). */
  templateFile = join(PROJECT_ROOT, 'template.yaml'),
): {
  expansions: Map<string, Expansion>;
  resourceCounts: Record<string, number>;
} {
  mkdirSync(outDir, { recursive: true });
  const setsFile = join(outDir, 'sets.json');
  writeFileSync(setsFile, JSON.stringify(sets));
  const run = spawnSync(
    'python3',
    ['.ci/sam-translate.py', templateFile, '--sets', setsFile, '--out-dir', outDir],
    { cwd: PROJECT_ROOT, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`the SAM translator failed:\n${run.stderr}${run.stdout}`);
  const resourceCounts: Record<string, number> = {};
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const { set, resources } = JSON.parse(line) as { set: string; resources: number };
    resourceCounts[set] = resources;
  }
  const expansions = new Map<string, Expansion>();
  for (const [name, parameters] of Object.entries(sets)) {
    const file = join(outDir, `${name}.json`);
    const template = JSON.parse(readFileSync(file, 'utf8')) as Template;
    const stack = localStack(template, parameters);
    const resources: Record<string, DeployedResource> = {};
    for (const [id, raw] of Object.entries(template.Resources)) {
      if (raw.Condition !== undefined && !conditionHolds(stack, raw.Condition)) continue;
      resources[id] = {
        type: raw.Type,
        properties: (resolveValue(stack, raw.Properties ?? {}) ?? {}) as Record<string, unknown>,
        raw,
      };
    }
    expansions.set(name, { name, parameters, file, template, stack, resources });
  }
  return { expansions, resourceCounts };
}

/** The deployed resources of a type, as [logicalId, resource]. */
export function ofType(expansion: Expansion, type: string): [string, DeployedResource][] {
  return Object.entries(expansion.resources).filter(([, r]) => r.type === type);
}

/**
 * The resources a resource waits for, directly: its DependsOn and every Ref / GetAtt / Sub
 * reference in its properties and metadata, taking only the Fn::If branch its condition picks.
 */
export function directDependencies(expansion: Expansion, id: string): Set<string> {
  const raw = expansion.template.Resources[id];
  const out = new Set<string>();
  if (raw === undefined) return out;
  const add = (name: string) => {
    if (expansion.template.Resources[name] !== undefined) out.add(name);
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Fn::If') {
      const [condition, yes, no] = arg as [string, unknown, unknown];
      walk(conditionHolds(expansion.stack, condition) ? yes : no);
      return;
    }
    if (entries.length === 1 && key === 'Ref' && typeof arg === 'string') {
      add(arg);
      return;
    }
    if (entries.length === 1 && key === 'Fn::GetAtt') {
      add(Array.isArray(arg) ? String(arg[0]) : (String(arg).split('.')[0] ?? ''));
      return;
    }
    if (entries.length === 1 && key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg)
        ? (arg as [string, Record<string, unknown>])
        : [String(arg), {}];
      for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g))
        if (!Object.hasOwn(vars, name as string)) add((name as string).split('.')[0] as string);
      walk(vars);
      return;
    }
    for (const [, v] of entries) walk(v);
  };
  const dependsOn = raw.DependsOn;
  for (const name of Array.isArray(dependsOn) ? dependsOn : dependsOn === undefined ? [] : [dependsOn])
    add(String(name));
  walk(raw.Properties);
  walk(raw.Metadata);
  return out;
}

/** Whether CloudFormation creates `to` before `from` (a path of dependencies leads there). */
export function waitsFor(expansion: Expansion, from: string, to: string): boolean {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const next of directDependencies(expansion, id)) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

/**
 * The template's Rules that refuse these parameter values (CloudFormation checks them before it
 * creates anything). Rule-specific functions as CloudFormation defines them.
 */
export function refusingRules(template: Template, overrides: Readonly<Record<string, string>>): string[] {
  const parameters = resolveParameters(template, overrides);
  const value = (node: unknown): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
    const [[fn, arg]] = Object.entries(node) as [[string, unknown]];
    const args = arg as unknown[];
    switch (fn) {
      case 'Ref':
        return parameters[String(arg)];
      case 'Fn::Equals':
        return String(value(args[0])) === String(value(args[1]));
      case 'Fn::Not':
        return !value(args[0]);
      case 'Fn::And':
        return args.every((a) => value(a) === true);
      case 'Fn::Or':
        return args.some((a) => value(a) === true);
      case 'Fn::Contains':
        return (args[0] as unknown[]).map((v) => String(value(v))).includes(String(value(args[1])));
      default:
        throw new Error(`rule function ${fn} is not evaluated here`);
    }
  };
  const rules = (template.Rules ?? {}) as Record<
    string,
    { RuleCondition?: unknown; Assertions: { Assert: unknown }[] }
  >;
  return Object.entries(rules)
    .filter(([, rule]) => rule.RuleCondition === undefined || value(rule.RuleCondition) === true)
    .filter(([, rule]) => rule.Assertions.some((a) => value(a.Assert) !== true))
    .map(([name]) => name);
}
