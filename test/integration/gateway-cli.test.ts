// `npm start` as a user runs it: a child process that checks its functions start, prints where the
// APIs and the database are, serves them with one readable line per request, lets the credentials
// CLIs act on its database, and stops cleanly on Ctrl-C (SIGINT) with exit status 0.
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GATEWAY_STATE_FILE } from '../../tools/local/gateway-state.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { tokenFor } from '../../tools/token.ts';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

/** `npm start -- <args>` as a child process, with its output collected. */
function start(args: readonly string[]) {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    TSX,
    ['tools/gateway/start.ts', '-p', '0', '--issuer-port', '0', '--in-memory', ...args],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (text: string, where: 'stdout' | 'stderr' = 'stderr', ms = 45_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(check);
        reject(new Error(`no "${text}" within ${ms} ms:\n${output.stderr}`));
      }, ms);
      const check = setInterval(() => {
        if (output[where].includes(text) || child.exitCode !== null) {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        }
      }, 100);
    });
  return { child, output, exited, waitFor };
}

describe('npm start (tools/gateway/start.ts)', () => {
  it('serves with one readable line per request, shares its in-memory database, and exits 0 on SIGINT', async () => {
    // Arrange
    const gateway = start([]);
    try {
      await gateway.waitFor('Ctrl-C stops');
      const { stderr } = gateway.output;
      const ordersUrl = /OrdersApi\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] as string;
      const keyApiUrl = /OrdersKeyApi\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] as string;
      const issuerPort = Number(/--issuer-port (\d+)/.exec(stderr)?.[1]);
      const token = (ttl: number) => tokenFor({ scope: 'orders:read', sub: undefined, ttl, issuerPort });

      // Act
      const health = await fetch(`${ordersUrl}/health`);
      const orders = await fetch(`${ordersUrl}/orders?limit=5`, {
        headers: { authorization: `Bearer ${token(60)}` },
      });
      const expired = await fetch(`${ordersUrl}/orders`, {
        headers: { authorization: `Bearer ${token(-60)}` },
      });
      // The keys CLI, run while the gateway runs in memory, must write to the gateway's database.
      const created = await promisify(execFile)(
        TSX,
        ['tools/keys.ts', 'create', '--client', 'cli-test', '--scopes', 'orders:read', '--json'],
        { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      const key = (JSON.parse(created.stdout) as { key: string }).key;
      const withKey = await fetch(`${keyApiUrl}/orders`, { headers: { 'x-api-key': key } });
      await gateway.waitFor('OrdersKeyApi GET /orders', 'stdout', 10_000);
      const stateWhileRunning = existsSync(GATEWAY_STATE_FILE);
      gateway.child.kill('SIGINT');
      const code = await gateway.exited;

      // Assert
      expect([health.status, orders.status, expired.status, withKey.status]).toEqual([200, 200, 401, 200]);
      expect(stderr).toMatch(/database\s+http:\/\/127\.0\.0\.1:\d+\s+\(in memory/);
      expect(created.stderr).toMatch(/database: the running gateway's database \(process \d+, in memory/);
      const lines = gateway.output.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d OrdersApi GET \/health -> 200 in [\d.]+ ms/);
      // The resource policy allows the public routes only: the authorizer's Allow lets GET /orders in.
      expect(lines[1]).toMatch(
        /^\d\d:\d\d:\d\d OrdersApi GET \/orders -> 200 in [\d.]+ ms; resource policy: no_allow; authorizer: allow;/,
      );
      expect(lines[2]).toMatch(
        / GET \/orders -> 401 in [\d.]+ ms; resource policy: no_allow; authorizer: unauthorized \(token_expired\);/,
      );
      expect(lines[3]).toMatch(/^\d\d:\d\d:\d\d OrdersKeyApi GET \/orders -> 200 /);
      // The query string stays out of the line; the functions' own logs stay out of the terminal.
      expect(gateway.output.stdout).not.toContain('limit=5');
      expect(gateway.output.stderr).not.toContain('"message":"decision"');
      expect(gateway.output.stderr).not.toContain('NodeVersionSupportWarning');
      expect(stateWhileRunning).toBe(true);
      expect(existsSync(GATEWAY_STATE_FILE)).toBe(false);
      expect(code).toBe(0);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  }, 120_000);

  it.each([
    [['--log-format', 'json'], 'json'],
    [['--verbose'], 'text'],
  ])(
    "with %j, adds the functions' own logs (access log as %s)",
    async (args, format) => {
      // Arrange
      const gateway = start(args);
      try {
        await gateway.waitFor('Ctrl-C stops');
        const ordersUrl = /OrdersApi\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(
          gateway.output.stderr,
        )?.[1] as string;

        // Act
        const res = await fetch(`${ordersUrl}/health`);
        await gateway.waitFor('GET', 'stdout', 10_000);
        await gateway.waitFor('"message":"decision"', 'stderr', 10_000);
        gateway.child.kill('SIGINT');
        await gateway.exited;

        // Assert
        expect(res.status).toBe(200);
        const line = gateway.output.stdout.trim();
        if (format === 'json')
          expect(JSON.parse(line)).toMatchObject({
            type: 'access',
            method: 'GET',
            path: '/health',
            status: 200,
          });
        else expect(line).toMatch(/ GET \/health -> 200 in [\d.]+ ms; integration: forwarded$/);
        expect(gateway.output.stderr).toContain('"message":"decision"');
      } finally {
        if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
      }
    },
    120_000,
  );

  it('prints the configuration error of a function that cannot start, and exits 2 without serving', async () => {
    // Arrange: JWT_ISSUERS that is not JSON, given as `-n` (sam local --env-vars format).
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-start-'));
    const envFile = join(dir, 'env.json');
    writeFileSync(envFile, JSON.stringify({ JwtAuthorizerFunction: { JWT_ISSUERS: 'not json' } }));

    // Act
    const gateway = start(['-n', envFile]);
    const code = await gateway.exited;

    // Assert
    expect(code).toBe(2);
    expect(gateway.output.stderr).toMatch(
      /start: JwtAuthorizerFunction cannot start: ConfigError: .*JWT_ISSUERS is not valid JSON/,
    );
    expect(gateway.output.stderr).not.toContain('Ctrl-C stops');
    expect(gateway.output.stdout).toBe('');
  }, 120_000);
});
