// `npm start` with a template asking for something the local gateway does not emulate: it refuses
// to start, naming the resource and the property, with exit status 2 (never serves it differently).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

describe('npm start with a template it cannot emulate', () => {
  it('exits 2 naming the Cognito authorizer instead of serving the route open', async () => {
    // Arrange
    const child = spawn(
      TSX,
      [
        'tools/gateway/start.ts',
        '-t',
        'test/fixtures/gateway/refused-cognito.yaml',
        '-p',
        '0',
        '--issuer-port',
        '0',
        '--in-memory',
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });

    // Act
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));

    // Assert
    expect(code).toBe(2);
    expect(stderr).toContain('CognitoApi.Auth.Authorizers.Pool: Amazon Cognito authorizers are not emulated');
    expect(stderr).not.toContain('Ctrl-C stops');
  }, 60_000);
});
