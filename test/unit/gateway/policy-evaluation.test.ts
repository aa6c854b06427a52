import { describe, expect, it } from 'vitest';
import { evaluatePolicy, readAuthorizerAnswer } from '../../../tools/gateway/policy-evaluation.ts';

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:ordersapi/v1';
const stmt = (
  Effect: string,
  Resource: string | string[],
  Action: string | string[] = 'execute-api:Invoke',
) => ({
  Effect,
  Action,
  Resource,
});
const answer = (...Statement: unknown[]) =>
  readAuthorizerAnswer({ principalId: 'p', policyDocument: { Version: '2012-10-17', Statement } });

describe('evaluatePolicy', () => {
  it.each([
    ['allows a matching Allow', [stmt('Allow', `${ARN}/GET/orders`)], 'GET/orders', 'allow'],
    ['denies when nothing matches', [stmt('Allow', `${ARN}/GET/orders`)], 'DELETE/orders/1', 'no_allow'],
    [
      'lets an explicit Deny win over an Allow',
      [stmt('Allow', `${ARN}/*`), stmt('Deny', `${ARN}/DELETE/*`)],
      'DELETE/orders/1',
      'explicit_deny',
    ],
    ['matches * across slashes', [stmt('Allow', `${ARN}/GET/*`)], 'GET/orders/ord_1', 'allow'],
    [
      'matches ? as exactly one character',
      [stmt('Allow', `${ARN}/GET/orders/ord_?`)],
      'GET/orders/ord_1',
      'allow',
    ],
    [
      'does not stretch ? over two characters',
      [stmt('Allow', `${ARN}/GET/orders/ord_?`)],
      'GET/orders/ord_12',
      'no_allow',
    ],
    [
      'ignores statements for other actions',
      [stmt('Allow', `${ARN}/*`, 's3:GetObject')],
      'GET/orders',
      'no_allow',
    ],
    [
      'accepts execute-api:* and any case of the action',
      [stmt('Allow', `${ARN}/*`, 'Execute-Api:*')],
      'GET/orders',
      'allow',
    ],
    ['accepts a resource list', [stmt('Allow', ['arn:other', `${ARN}/GET/health`])], 'GET/health', 'allow'],
  ])('%s', (_name, statements, route, expected) => {
    // Arrange
    const parsed = answer(...statements);

    // Act
    const outcome = evaluatePolicy(parsed?.statements ?? [], `${ARN}/${route}`);

    // Assert
    expect(outcome).toBe(expected);
  });
});

describe('readAuthorizerAnswer', () => {
  it('turns context values into strings, as REST APIs deliver them', () => {
    // Act
    const parsed = readAuthorizerAnswer({
      principalId: 'alice',
      policyDocument: { Statement: [] },
      context: { n: 3, b: true, s: 'x' },
      usageIdentifierKey: 'tier-key',
    });

    // Assert
    expect(parsed?.context).toEqual({ n: '3', b: 'true', s: 'x' });
    expect(parsed?.usageIdentifierKey).toBe('tier-key');
  });

  it.each([
    ['not an object', 'Allow'],
    ['no principalId', { policyDocument: { Statement: [] } }],
    ['no policyDocument', { principalId: 'p' }],
    [
      'a lower-case statement key (IAM element names are case-sensitive)',
      { principalId: 'p', policyDocument: { Version: '2012-10-17', statement: [stmt('Allow', '*')] } },
    ],
    ['a misspelt Statement key', { principalId: 'p', policyDocument: { Statements: [stmt('Allow', '*')] } }],
    ['a policyDocument without statements', { principalId: 'p', policyDocument: { Version: '2012-10-17' } }],
    [
      'a statement without Effect',
      { principalId: 'p', policyDocument: { Statement: [{ Action: '*', Resource: '*' }] } },
    ],
    ['an unknown Effect', { principalId: 'p', policyDocument: { Statement: [stmt('Maybe', '*')] } }],
    [
      'a nested context value',
      { principalId: 'p', policyDocument: { Statement: [] }, context: { a: { b: 1 } } },
    ],
    [
      'a usageIdentifierKey that is not a string',
      { principalId: 'p', policyDocument: { Statement: [] }, usageIdentifierKey: 1 },
    ],
  ])('refuses %s (API Gateway answers 500)', (_name, value) => {
    // Act / Assert
    expect(readAuthorizerAnswer(value)).toBeUndefined();
  });
});
