import { type Template, TemplateError } from './template.ts';

/** What intrinsic functions resolve against when a template runs locally. */
export interface LocalStack {
  readonly template: Template;
  /** Parameter values: defaults overlaid with `--parameter-overrides`. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /**
   * What `!Ref Resource` and `!GetAtt Resource.Attr` become locally. By default a resource's
   * logical ID (the embedded DynamoDB names its tables after them), as `sam local` does.
   */
  readonly resourceRef?: (logicalId: string, attribute?: string) => string;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The account every local run pretends to be in (it appears in ARNs only). */
export const LOCAL_ACCOUNT_ID = '123456789012';

/** The stack local tools resolve a template against: parameter defaults plus overrides. */
export function localStack(
  template: Template,
  overrides: Readonly<Record<string, string>> = {},
  options: { readonly region?: string; readonly resourceRef?: LocalStack['resourceRef'] } = {},
): LocalStack {
  return {
    template,
    parameters: resolveParameters(template, overrides),
    region: options.region ?? 'us-east-1',
    accountId: LOCAL_ACCOUNT_ID,
    stackName: 'gatehouse-local',
    ...(options.resourceRef === undefined ? {} : { resourceRef: options.resourceRef }),
  };
}

/** Builds the parameter map from the template's defaults and `K=V` overrides. */
export function resolveParameters(
  template: Template,
  overrides: Readonly<Record<string, string>>,
): Record<string, string> {
  const declared = template.Parameters ?? {};
  const out: Record<string, string> = {};
  for (const [name, param] of Object.entries(declared)) {
    if (param.Default !== undefined) out[name] = String(param.Default);
  }
  for (const [name, value] of Object.entries(overrides)) {
    const param = declared[name];
    if (param === undefined)
      throw new TemplateError(`--parameter-overrides: ${name} is not a parameter of the template`);
    if (param.AllowedValues !== undefined && !param.AllowedValues.map(String).includes(value)) {
      throw new TemplateError(
        `--parameter-overrides: ${name} must be one of ${param.AllowedValues.join(', ')}`,
      );
    }
    if (param.AllowedPattern !== undefined && !new RegExp(`^(?:${param.AllowedPattern})$`).test(value)) {
      throw new TemplateError(`--parameter-overrides: ${name} does not match ${param.AllowedPattern}`);
    }
    out[name] = value;
  }
  return out;
}

/** Parses `K=V` words (and SAM's `ParameterKey=K,ParameterValue=V` form). */
export function parseOverrides(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    const long = /^ParameterKey=([^,]+),ParameterValue=(.*)$/.exec(word);
    if (long?.[1] !== undefined && long[2] !== undefined) {
      out[long[1]] = long[2];
      continue;
    }
    const eq = word.indexOf('=');
    if (eq <= 0)
      throw new TemplateError(`--parameter-overrides: expected Key=Value, got ${JSON.stringify(word)}`);
    out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

function pseudo(stack: LocalStack, name: string): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return stack.region;
    case 'AWS::AccountId':
      return stack.accountId;
    case 'AWS::StackName':
      return stack.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${stack.region}:${stack.accountId}:stack/${stack.stackName}/local`;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    default:
      return undefined;
  }
}

function ref(stack: LocalStack, name: string, attribute?: string): string {
  const fromPseudo = pseudo(stack, name);
  if (fromPseudo !== undefined) return fromPseudo;
  if (attribute === undefined && Object.hasOwn(stack.parameters, name))
    return stack.parameters[name] as string;
  if (attribute === undefined && stack.template.Parameters?.[name] !== undefined) {
    throw new TemplateError(`parameter ${name} has no default: pass --parameter-overrides ${name}=...`);
  }
  if (stack.template.Resources[name] !== undefined) {
    return stack.resourceRef?.(name, attribute) ?? (attribute === undefined ? name : `${name}.${attribute}`);
  }
  throw new TemplateError(`!Ref ${name}: no such parameter or resource`);
}

/** Evaluates a condition by name. */
export function conditionHolds(stack: LocalStack, name: string): boolean {
  const condition = stack.template.Conditions?.[name];
  if (condition === undefined) throw new TemplateError(`condition ${name} is not defined`);
  return truthy(stack, condition);
}

function truthy(stack: LocalStack, node: unknown): boolean {
  if (typeof node === 'boolean') return node;
  if (typeof node !== 'object' || node === null)
    throw new TemplateError(`not a condition: ${JSON.stringify(node)}`);
  const [[fn, arg]] = Object.entries(node) as [[string, unknown]];
  const args = arg as unknown[];
  switch (fn) {
    case 'Fn::Equals':
      return String(resolveValue(stack, args[0])) === String(resolveValue(stack, args[1]));
    case 'Fn::Not':
      return !truthy(stack, args[0]);
    case 'Fn::And':
      return args.every((a) => truthy(stack, a));
    case 'Fn::Or':
      return args.some((a) => truthy(stack, a));
    case 'Condition':
      return conditionHolds(stack, arg as string);
    default:
      throw new TemplateError(`unsupported condition function ${fn}`);
  }
}

/**
 * Resolves intrinsic functions in a value, as CloudFormation would for this local stack. Values
 * that only exist in AWS (imports, dynamic references) are refused with a message saying so.
 */
export function resolveValue(stack: LocalStack, node: unknown): unknown {
  const out = resolveInner(stack, node);
  return out === NO_VALUE ? undefined : out;
}

function resolveInner(stack: LocalStack, node: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveInner(stack, n)).filter((n) => n !== NO_VALUE);
  if (typeof node !== 'object' || node === null) return node;
  const keys = Object.keys(node);
  const record = node as Record<string, unknown>;
  if (keys.length === 1) {
    const key = keys[0] as string;
    const arg = record[key];
    switch (key) {
      case 'Ref':
        return arg === 'AWS::NoValue' ? NO_VALUE : ref(stack, String(arg));
      case 'Fn::GetAtt': {
        const [name, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return ref(stack, String(name), String(attribute));
      }
      case 'Fn::Sub':
        return substitute(stack, arg);
      case 'Fn::Join': {
        const [sep, list] = arg as [string, unknown];
        return (resolveInner(stack, list) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolveInner(stack, list) as unknown[])[Number(resolveInner(stack, index))];
      }
      case 'Fn::Split': {
        const [sep, value] = arg as [string, unknown];
        return String(resolveInner(stack, value)).split(sep);
      }
      case 'Fn::If': {
        const [name, yes, no] = arg as [string, unknown, unknown];
        return resolveInner(stack, conditionHolds(stack, name) ? yes : no);
      }
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
        return truthy(stack, node);
      case 'Fn::ToJsonString':
        return JSON.stringify(resolveInner(stack, arg));
      case 'Fn::Base64':
        return Buffer.from(String(resolveInner(stack, arg))).toString('base64');
      case 'Fn::ImportValue':
      case 'Fn::FindInMap':
      case 'Fn::GetAZs':
      case 'Fn::Cidr':
        throw new TemplateError(`${key} cannot be resolved locally`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const resolved = resolveInner(stack, v);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

function substitute(stack: LocalStack, arg: unknown): string {
  const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_all, bang: string, name: string) => {
    if (bang === '!') return `\${${name}}`;
    if (Object.hasOwn(vars, name)) return String(resolveInner(stack, vars[name]));
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return ref(stack, name.slice(0, dot), name.slice(dot + 1));
    return ref(stack, name);
  });
}

/** True when a string holds a CloudFormation dynamic reference (`{{resolve:ssm:...}}`). */
export function isDynamicReference(value: string): boolean {
  return /\{\{resolve:[^}]+\}\}/.test(value);
}
