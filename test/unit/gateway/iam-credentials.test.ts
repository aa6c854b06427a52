import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateCredentialsFile, localCredentials } from '../../../tools/gateway/iam-credentials.ts';
import { localStack } from '../../../tools/template/resolve.ts';
import { parseTemplate, TemplateError } from '../../../tools/template/template.ts';

const template = parseTemplate(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: { StageName: v1 }
  Caller:
    Type: AWS::IAM::Role
    Properties:
      RoleName: fulfilment-caller
      Policies:
        - PolicyName: invoke
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: execute-api:Invoke
                Resource: !Sub 'arn:aws:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${Api}/v1/POST/callback'
              - Effect: Allow
                Action: s3:GetObject
                Resource: '*'
  Conditional:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - { Effect: Allow, Action: 'execute-api:*', Resource: '*', Condition: { IpAddress: { aws:SourceIp: 10.0.0.0/8 } } }
  Managed:
    Type: AWS::IAM::Role
    Properties: { ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess] }
`);
const stack = localStack(template, {}, { resourceRef: (id) => (id === 'Api' ? 'api' : id) });
const key = (n: number) => ({
  accessKeyId: `AKIATESTKEY0000000${n}`,
  secretAccessKey: 'a-secret-of-16-chars-or-more',
});

describe('localCredentials', () => {
  it('gives a role entry the execute-api statements of the template role, resolved locally', () => {
    // Act
    const [cred] = localCredentials([{ ...key(1), role: 'Caller', session: 'svc' }], stack);

    // Assert
    expect(cred?.principal.arn).toBe('arn:aws:sts::123456789012:assumed-role/fulfilment-caller/svc');
    expect(cred?.principal.userId).toMatch(/^AROA[A-Z2-7]{17}:svc$/);
    expect(cred?.statements).toEqual([
      {
        effect: 'Allow',
        actions: ['execute-api:Invoke'],
        resources: ['arn:aws:execute-api:us-east-1:123456789012:api/v1/POST/callback'],
      },
    ]);
  });

  it('gives a user entry without a policy execute-api:Invoke on everything', () => {
    // Act
    const [cred] = localCredentials([{ ...key(2), user: 'dev' }], stack);

    // Assert
    expect(cred?.principal.arn).toBe('arn:aws:iam::123456789012:user/dev');
    expect(cred?.statements).toEqual([
      { effect: 'Allow', actions: ['execute-api:Invoke'], resources: ['*'] },
    ]);
  });

  it.each([
    [
      'a statement with a condition',
      [{ ...key(3), role: 'Conditional' }],
      /Condition in an execute-api statement/,
    ],
    ['a role with managed policies', [{ ...key(4), role: 'Managed' }], /ManagedPolicyArns/],
    ['an entry naming no principal', [{ ...key(5) }], /exactly one of "user" and "role"/],
    ['a short secret', [{ ...key(6), secretAccessKey: 'short', user: 'x' }], /secretAccessKey/],
    [
      'a key listed twice',
      [
        { ...key(7), user: 'a' },
        { ...key(7), user: 'b' },
      ],
      /listed twice/,
    ],
  ])('refuses %s', (_name, entries, message) => {
    // Act / Assert
    expect(() => localCredentials(entries, stack)).toThrow(TemplateError);
    expect(() => localCredentials(entries, stack)).toThrow(message);
  });
});

describe('loadOrCreateCredentialsFile', () => {
  it('creates one developer key pair on first use, readable only by its owner, and reads it back', () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-iam-'));
    const file = join(dir, 'iam', 'credentials.json');
    try {
      // Act
      const created = loadOrCreateCredentialsFile(file);
      const again = loadOrCreateCredentialsFile(file);

      // Assert
      expect(created.credentials).toHaveLength(1);
      expect(created.credentials[0]?.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(again).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      expect(again).toEqual(created);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
