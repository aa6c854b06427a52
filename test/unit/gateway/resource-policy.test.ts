import { describe, expect, it } from 'vitest';
import { evaluateResourcePolicy, readResourcePolicy } from '../../../tools/gateway/resource-policy.ts';

const PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:ordersapi';
const ARN = `${PREFIX}/v1/GET/orders`;
const allowAll = {
  Effect: 'Allow',
  Principal: '*',
  Action: 'execute-api:Invoke',
  Resource: 'execute-api:/*',
};
const denyOutside = (cidrs: string[]) => ({
  Effect: 'Deny',
  Principal: '*',
  Action: 'execute-api:Invoke',
  Resource: 'execute-api:/*',
  Condition: { NotIpAddress: { 'aws:SourceIp': cidrs } },
});

describe('evaluateResourcePolicy', () => {
  it.each([
    ['allows everyone with the template’s default policy', [allowAll], '203.0.113.9', 'allow'],
    [
      'denies a source outside AllowedSourceCidrs explicitly',
      [allowAll, denyOutside(['10.0.0.0/8'])],
      '127.0.0.1',
      'explicit_deny',
    ],
    [
      'allows a source inside AllowedSourceCidrs',
      [allowAll, denyOutside(['10.0.0.0/8', '127.0.0.1/32'])],
      '127.0.0.1',
      'allow',
    ],
    [
      'is silent when no statement covers the request',
      [{ ...allowAll, Resource: 'execute-api:/v1/POST/*' }],
      '127.0.0.1',
      'no_allow',
    ],
    [
      'applies a Deny whose condition it cannot evaluate (fail closed)',
      [
        allowAll,
        { ...allowAll, Effect: 'Deny', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } },
      ],
      '127.0.0.1',
      'explicit_deny',
    ],
  ])('%s', (_name, statements, sourceIp, expected) => {
    // Arrange
    const policy = readResourcePolicy({ CustomStatements: statements }) ?? [];

    // Act
    const outcome = evaluateResourcePolicy(policy, ARN, PREFIX, sourceIp);

    // Assert
    expect(outcome).toBe(expected);
  });

  it('reads SAM’s IpRangeBlacklist as a Deny for those ranges', () => {
    // Arrange
    const policy =
      readResourcePolicy({ CustomStatements: [allowAll], IpRangeBlacklist: ['127.0.0.0/8'] }) ?? [];

    // Act / Assert
    expect(evaluateResourcePolicy(policy, ARN, PREFIX, '127.0.0.1')).toBe('explicit_deny');
    expect(evaluateResourcePolicy(policy, ARN, PREFIX, '192.0.2.1')).toBe('allow');
  });
});
