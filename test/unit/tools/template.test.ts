import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../tools/build.ts';
import { generate } from '../../../tools/generate.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { findFunction, functionEnvironment, templateFunctions } from '../../../tools/template/functions.ts';
import {
  type LocalStack,
  parseOverrides,
  resolveParameters,
  resolveValue,
} from '../../../tools/template/resolve.ts';
import { loadTemplate, parseTemplate, TemplateError } from '../../../tools/template/template.ts';

const SAMPLE = `
Parameters:
  Stage: { Type: String, Default: v1, AllowedValues: [v1, v2] }
  Secret: { Type: String }
Conditions:
  IsV2: !Equals [!Ref Stage, v2]
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: esbuild, BuildProperties: { EntryPoints: [a.ts] } }
    Properties:
      Handler: a.handler
      Environment:
        Variables:
          STAGE: !Ref Stage
          TABLE: !Ref Table
          ARN: !GetAtt Table.Arn
          SUB: !Sub 'https://\${AWS::Region}/\${Stage}/\${Table}/\${!Literal}'
          JOINED: !Join ['-', [a, !Ref Stage]]
          PICK: !If [IsV2, two, one]
          GONE: !If [IsV2, x, !Ref AWS::NoValue]
          SELECTED: !Select [1, !Split [',', 'a,b,c']]
`;

const stack = (overrides: Record<string, string> = {}): LocalStack => {
  const template = parseTemplate(SAMPLE);
  return {
    template,
    parameters: resolveParameters(template, overrides),
    region: 'eu-west-1',
    accountId: '123456789012',
    stackName: 's',
  };
};

describe('template resolution for local runs', () => {
  it('resolves CloudFormation short-form tags and intrinsics', () => {
    const s = stack();
    const [fn] = templateFunctions(s.template);
    expect(functionEnvironment(s, fn as never).env).toEqual({
      STAGE: 'v1',
      TABLE: 'Table',
      ARN: 'Table.Arn',
      // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
      SUB: ['https://eu-west-1/v1/Table/$', '{Literal}'].join(''),
      JOINED: 'a-v1',
      PICK: 'one',
      SELECTED: 'b',
    });
  });

  it('applies parameter overrides, conditions included', () => {
    const s = stack(parseOverrides(['Stage=v2']));
    const env = functionEnvironment(s, templateFunctions(s.template)[0] as never).env;
    expect([env.STAGE, env.PICK, env.GONE]).toEqual(['v2', 'two', 'x']);
  });

  it('applies --env-vars like sam local: Parameters for all, then the function, declared variables only', () => {
    const s = stack();
    const fn = templateFunctions(s.template)[0] as never;
    const { env, ignored } = functionEnvironment(s, fn, {
      Parameters: { STAGE: 'p', EXTRA: 'x' },
      Fn: { TABLE: 't' },
    });
    expect([env.STAGE, env.TABLE, env.EXTRA]).toEqual(['p', 't', undefined]);
    expect(ignored).toEqual(['EXTRA']);
  });

  it.each([
    [['Nope=1'], /Nope is not a parameter/],
    [['Stage=v3'], /Stage must be one of v1, v2/],
    [['justaword'], /expected Key=Value/],
  ])('refuses overrides %j', (words, message) => {
    const template = parseTemplate(SAMPLE);
    expect(() => resolveParameters(template, parseOverrides(words))).toThrow(message);
  });

  it('accepts SAM CLI long-form overrides', () => {
    expect(parseOverrides(['ParameterKey=Stage,ParameterValue=v2'])).toEqual({ Stage: 'v2' });
  });

  it('names a parameter without a default that a variable needs', () => {
    const s = stack();
    expect(() => resolveValue(s, { Ref: 'Secret' })).toThrow(/Secret has no default/);
  });

  it.each([
    [['fns/a/handler.ts', 'fns/b/dpop.ts'], /EntryPoints must all be in one folder/],
    [[], /EntryPoints must name the handler's file/],
  ])('refuses the EntryPoints %j (sam build writes each bundle beside the handler)', (entries, message) => {
    const template = parseTemplate(
      `Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata: { BuildMethod: esbuild, BuildProperties: { EntryPoints: ${JSON.stringify(entries)} } }\n    Properties: { Handler: handler.handler }\n`,
    );
    expect(() => templateFunctions(template)).toThrow(message);
  });

  it('refuses a file without Resources', () => {
    expect(() => parseTemplate('Parameters: {}')).toThrow(TemplateError);
  });
});

describe('the project template', () => {
  const template = loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'));

  it('builds every function with the esbuild options sam build derives from its BuildProperties', () => {
    const fn = findFunction(template, 'JwtAuthorizerFunction');
    expect(esbuildOptions(fn, PROJECT_ROOT, '/out')).toMatchObject({
      // The DPoP wiring is a bundle of its own beside the handler's (imported only when enabled).
      entryPoints: ['functions/jwt-authorizer/handler.ts', 'functions/jwt-authorizer/dpop.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'es2023',
      minify: true,
      sourcemap: false,
      outExtension: { '.js': '.mjs' },
      mainFields: ['module', 'main'],
    });
  });

  it('runs every function on nodejs22.x or newer, on arm64, with esbuild', () => {
    for (const fn of templateFunctions(template)) {
      expect(fn.runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(fn.architectures).toEqual(['arm64']);
      expect(fn.handler).toBe('handler.handler');
    }
  });

  it('has the generated route table in sync with openapi.yaml', async () => {
    expect(await generate({ root: PROJECT_ROOT, openapi: 'openapi.yaml', check: true })).toEqual([]);
  });
});
