import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

/** A CloudFormation / SAM template as plain JSON (short-form tags turned into long form). */
export type Template = {
  readonly Parameters?: Record<string, TemplateParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Globals?: { readonly Function?: Record<string, unknown>; readonly [k: string]: unknown };
  readonly Resources: Record<string, TemplateResource>;
  readonly [key: string]: unknown;
};

export interface TemplateParameter {
  readonly Type: string;
  readonly Default?: unknown;
  readonly AllowedValues?: readonly unknown[];
  readonly AllowedPattern?: string;
  readonly NoEcho?: boolean;
  readonly Description?: string;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly [key: string]: unknown;
}

/** The API style of a SAM API resource: `rest` (AWS::Serverless::Api), `http` (HttpApi), else undefined. */
export function serverlessApiKind(resource: TemplateResource): 'rest' | 'http' | undefined {
  if (resource.Type === 'AWS::Serverless::Api') return 'rest';
  if (resource.Type === 'AWS::Serverless::HttpApi') return 'http';
  return undefined;
}

/** A template problem (bad file, unknown parameter, unresolvable value); exit status 2 in the CLIs. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const SHORT_FORMS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'ToJsonString',
  'Length',
];

/**
 * CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt` ...) for the `yaml` parser, mapped to
 * their long forms so the rest of the code sees one representation.
 */
function cloudFormationTags(): Tags {
  const tags: Tags = [];
  for (const kind of ['scalar', 'seq', 'map'] as const) {
    tags.push({
      tag: '!Ref',
      collection: kind === 'scalar' ? undefined : kind,
      resolve: (v: unknown) => ({ Ref: toJs(v) }),
    } as never);
    tags.push({
      tag: '!Condition',
      collection: kind === 'scalar' ? undefined : kind,
      resolve: (v: unknown) => ({ Condition: toJs(v) }),
    } as never);
    tags.push({
      tag: '!GetAtt',
      collection: kind === 'scalar' ? undefined : kind,
      resolve: (v: unknown) => {
        const value = toJs(v);
        if (typeof value === 'string') {
          const dot = value.indexOf('.');
          return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
        }
        return { 'Fn::GetAtt': value };
      },
    } as never);
    for (const name of SHORT_FORMS) {
      tags.push({
        tag: `!${name}`,
        collection: kind === 'scalar' ? undefined : kind,
        resolve: (v: unknown) => ({ [`Fn::${name}`]: toJs(v) }),
      } as never);
    }
  }
  return tags;
}

function toJs(node: unknown): unknown {
  if (
    node !== null &&
    typeof node === 'object' &&
    'toJSON' in node &&
    typeof (node as { toJSON: unknown }).toJSON === 'function'
  ) {
    return (node as { toJSON(): unknown }).toJSON();
  }
  return node;
}

/** Parses template text. */
export function parseTemplate(text: string, source = 'template.yaml'): Template {
  let doc: unknown;
  try {
    doc = parse(text, { customTags: cloudFormationTags(), maxAliasCount: 100 });
  } catch (err) {
    throw new TemplateError(`${source}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || typeof (doc as Template).Resources !== 'object') {
    throw new TemplateError(`${source}: no Resources section`);
  }
  return doc as Template;
}

/** Reads and parses a template file. */
export function loadTemplate(file: string): Template {
  return parseTemplate(readFileSync(file, 'utf8'), file);
}
