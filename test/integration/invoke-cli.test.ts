import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';

function invoke(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'tools/invoke.ts', ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

describe('npm run invoke', () => {
  it('prints the result on stdout and exits 0', () => {
    const run = invoke('JwtAuthorizerFunction', '-e', 'events/jwt-authorizer/allow.json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      principalId: 'demo-user',
      context: { scopes: 'orders:read' },
    });
    expect(run.stderr).toContain('"effect":"allow"');
  });

  it('prints errorType and errorMessage and exits 1 when the function throws', () => {
    const run = invoke('JwtAuthorizerFunction', '-e', 'events/jwt-authorizer/rest-expired-unauthorized.json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({ errorType: 'Error', errorMessage: 'Unauthorized' });
    expect(run.stderr).toContain('"reason":"token_expired"');
  });

  it('applies --parameter-overrides and -n env vars to the function environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-invoke-'));
    const envFile = join(dir, 'env.json');
    writeFileSync(envFile, JSON.stringify({ JwtAuthorizerFunction: { JWT_MAX_LIFETIME_SECONDS: '120' } }));
    const tooLong = invoke('JwtAuthorizerFunction', '-e', 'events/jwt-authorizer/allow.json', '-n', envFile);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('"reason":"lifetime_too_long"');
    const typ = invoke(
      'JwtAuthorizerFunction',
      '-e',
      'events/jwt-authorizer/allow.json',
      '--parameter-overrides',
      'JwtRequiredTyp=dpop+jwt',
    );
    expect(typ.code).toBe(1);
    expect(typ.stderr).toContain('"reason":"typ_invalid"');
  });

  it.each([
    [['NoSuchFunction', '-e', 'events/jwt-authorizer/allow.json'], /no function NoSuchFunction/],
    [['JwtAuthorizerFunction'], /-e <event.json> is required/],
    [['JwtAuthorizerFunction', '-e', 'missing.json'], /does not exist/],
    [
      ['JwtAuthorizerFunction', '-e', 'events/jwt-authorizer/allow.json', '--parameter-overrides', 'Nope=1'],
      /Nope is not a parameter/,
    ],
    [
      [
        'JwtAuthorizerFunction',
        '-e',
        'events/jwt-authorizer/allow.json',
        '--parameter-overrides',
        'JwtIssuers=[{"issuer":"x"}]',
      ],
      /JWT_ISSUERS \[0\]\.audience is required/,
    ],
  ])('exits 2 with a clear message for bad usage or config %j', (args, message) => {
    const run = invoke(...args);
    expect(run.code).toBe(2);
    expect(`${run.stderr}${run.stdout}`).toMatch(message);
  });
});
