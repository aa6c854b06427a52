import { describe, expect, it } from 'vitest';
import { parseStartArgs, UsageError } from '../../../tools/gateway/cli-args.ts';
import { parseTokenArgs } from '../../../tools/token.ts';

describe('parseStartArgs', () => {
  it('reads sam local start-api style flags', () => {
    // Act
    const args = parseStartArgs([
      '-p',
      '4000',
      '--host',
      '0.0.0.0',
      '-n',
      'env.json',
      '--parameter-overrides',
      'StageName=dev',
      'AuthorizerCacheTtlSeconds=0',
      '--in-memory',
      '--watch',
      '--upstream',
      'http://127.0.0.1:8000',
    ]);

    // Assert
    expect(args).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      envVars: 'env.json',
      parameterOverrides: { StageName: 'dev', AuthorizerCacheTtlSeconds: '0' },
      inMemory: true,
      watch: true,
      upstream: 'http://127.0.0.1:8000',
      issuerPort: 3999,
    });
  });

  it('defaults to 127.0.0.1:3000', () => {
    // Act / Assert
    expect(parseStartArgs([])).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      inMemory: false,
      watch: false,
    });
  });

  it.each([[['--port', 'x']], [['--nope']], [['--upstream', 'ftp://x']], [['-p']]])('refuses %j', (argv) => {
    // Act / Assert
    expect(() => parseStartArgs(argv)).toThrow(UsageError);
  });
});

describe('parseTokenArgs', () => {
  it('reads scope, sub, ttl and the issuer port', () => {
    // Act / Assert
    expect(parseTokenArgs(['--scope', 'orders:read orders:write', '--sub', 'bob', '--ttl', '60'])).toEqual({
      scope: 'orders:read orders:write',
      sub: 'bob',
      ttl: 60,
      issuerPort: 3999,
    });
  });

  it('sets the demo tenant claim with --tenant, and other string claims with --claim', () => {
    expect(
      parseTokenArgs(['--tenant', 'acme', '--claim', 'org=initech', '--claim', 'team=a=b']).claims,
    ).toEqual({
      'custom:tenant_id': 'acme',
      org: 'initech',
      team: 'a=b',
    });
  });

  it.each([
    [['--claim', 'scope=orders:admin'], '--claim cannot set scope'],
    [['--claim', 'noequals'], '--claim must look like name=value'],
    [['--claim', 'x=1', '--claim', 'x=2'], '--claim sets x twice'],
    [
      ['--tenant', 'acme', '--claim', 'custom:tenant_id=globex'],
      '--tenant and --claim both set custom:tenant_id',
    ],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(UsageError);
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
