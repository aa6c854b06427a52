// `npm start` as a user runs it: a child process that prints where the APIs are, serves them, and
// stops cleanly on Ctrl-C (SIGINT) with exit status 0.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { tokenFor } from '../../tools/token.ts';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

describe('npm start (tools/gateway/start.ts)', () => {
  it('prints each API with its URL, trusts `npm run token` tokens, and exits 0 on SIGINT', async () => {
    // Arrange
    const child = spawn(TSX, ['tools/gateway/start.ts', '-p', '0', '--issuer-port', '0', '--in-memory'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner within 45 s:\n${stderr}`)), 45_000);
        const check = setInterval(() => {
          if (stderr.includes('Ctrl-C stops')) {
            clearTimeout(timer);
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      const ordersUrl = /OrdersApi\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] as string;

      const issuerPort = Number(/--issuer-port (\d+)/.exec(stderr)?.[1]);
      const token = tokenFor({ scope: 'orders:read', sub: undefined, ttl: 60, issuerPort });

      // Act
      const res = await fetch(`${ordersUrl}/health`);
      const orders = await fetch(`${ordersUrl}/orders`, { headers: { authorization: `Bearer ${token}` } });
      child.kill('SIGINT');
      const code = await exited;

      // Assert
      expect(res.status).toBe(200);
      expect(orders.status).toBe(200);
      expect(stderr).toMatch(/OrdersKeyApi\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(stderr).toContain('npm run -s token --');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
