// The local tools as a developer runs them: `npm run dpop` prints a proof our verifier accepts for
// a token `npm run token --dpop-key` bound to the same key; `npm run certs` makes a CA and
// certificates that work in a real mutual-TLS handshake, and whose thumbprint is what the TLS server sees.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createDpopVerifier, DPOP_DEFAULTS } from '../../shared/dpop/proof.ts';
import { memoryReplayStore } from '../../shared/dpop/replay.ts';
import { certificateThumbprint } from '../../shared/mtls/certificate-binding.ts';
import { parseDpopArgs } from '../../tools/dpop.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('npm run dpop and npm run token', () => {
  it('prints a proof the verifier accepts for a token bound to the same key', async () => {
    // Arrange
    const keyFile = join(dir, 'dpop-key.json');
    const url = 'https://api.example.com/v1/orders/42';
    // A file that is not a DPoP key is refused (a missing one is created, as npm run dpop does).
    const notAKey = join(dir, 'not-a-key.json');
    writeFileSync(notAKey, '{"kty":"EC"}');
    const refused = run('tools/token.ts', ['--dpop-key', notAKey]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is not a DPoP key file');
    expect(refused.stdout).toBe('');
    const created = join(dir, 'created-by-token.json');
    const boundToNew = run('tools/token.ts', ['--dpop-key', created]);
    expect(boundToNew.status).toBe(0);
    expect(claimsOf(boundToNew.stdout.trim()).cnf).toEqual({
      jkt: run('tools/dpop.ts', ['--thumbprint', '--key', created]).stdout.trim(),
    });
    const jkt = run('tools/dpop.ts', ['--thumbprint', '--key', keyFile]).stdout.trim();
    const minted = run('tools/token.ts', ['--dpop-key', keyFile, '--scope', 'orders:read']);
    const accessToken = minted.stdout.trim();

    // Act
    const proof = run('tools/dpop.ts', [
      '--method',
      'GET',
      '--url',
      `${url}?expand=items`,
      '--token',
      accessToken,
      '--key',
      keyFile,
    ]);

    // Assert
    expect(proof.status).toBe(0);
    expect(claimsOf(accessToken).cnf).toEqual({ jkt });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const verifier = createDpopVerifier({
      ...DPOP_DEFAULTS,
      nonces: null,
      replay: memoryReplayStore({ capacity: 10, now: Date.now }),
    });
    const result = await verifier.check(
      { proofs: [proof.stdout.trim()], method: 'GET', publicUrl: url, accessToken, boundThumbprint: jkt },
      Date.now(),
    );
    expect(result.ok).toBe(true);
    expect(proof.stdout.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it.each([
    [['--url', 'https://a.example/'], 'method'],
    [['--method', 'GET'], 'url'],
    [['--method', 'get', '--url', 'https://a.example/'], 'method'],
    [['--method', 'GET', '--url', 'https://a.example/', '--alg', 'HS256'], '--alg must be one of'],
    [['--method', 'GET', '--url', 'ftp://a.example/'], '--url must be an http'],
    [['--method', 'GET', '--url', 'https://a.example/', '--bogus'], 'bogus'],
  ])('refuses %j as bad usage', (argv, word) => {
    expect(() => parseDpopArgs(argv)).toThrow(new RegExp(word));
  });
});

describe('npm run certs', () => {
  it('makes a CA, a server and a client certificate that complete a mutual-TLS handshake', async () => {
    // Arrange
    const certs = join(dir, 'certs');
    const client = run('tools/certs.ts', ['--dir', certs, 'client', 'alice']);
    const server = run('tools/certs.ts', [
      '--dir',
      certs,
      'server',
      '--host',
      'localhost',
      '--host',
      '127.0.0.1',
    ]);
    expect([client.status, server.status]).toEqual([0, 0]);
    const printed = /x5t#S256: (\S+)/.exec(client.stdout)?.[1];
    const read = (name: string) => readFileSync(join(certs, name), 'utf8');
    expect(statSync(join(certs, 'alice-key.pem')).mode & 0o777).toBe(0o600);

    const httpsServer = createHttpsServer(
      {
        key: read('server-key.pem'),
        cert: read('server.pem'),
        ca: read('ca.pem'),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(createHash('sha256').update(peer.raw).digest('base64url'));
      },
    );
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    const port = (httpsServer.address() as AddressInfo).port;
    try {
      // Act
      const seen = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            servername: 'localhost',
            port,
            path: '/',
            key: read('alice-key.pem'),
            cert: read('alice.pem'),
            ca: read('ca.pem'),
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString();
            });
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end();
      });

      // Assert: the server saw the certificate whose thumbprint the command printed.
      expect(seen).toBe(printed);
      expect(certificateThumbprint(read('alice.pem'))).toBe(printed);
      const thumb = run('tools/certs.ts', ['thumbprint', join(certs, 'alice.pem')]);
      expect(thumb.stdout.trim()).toBe(printed);
      const bound = claimsOf(run('tools/token.ts', ['--cert', join(certs, 'alice.pem')]).stdout.trim());
      expect(bound.cnf).toEqual({ 'x5t#S256': printed });
      // A tenant's token bound to a DPoP key and the certificate: every claim is there, none replaced.
      const keyFile = join(dir, 'tenant-dpop-key.json');
      const both = run('tools/token.ts', [
        '--tenant',
        'acme',
        '--dpop-key',
        keyFile,
        '--cert',
        join(certs, 'alice.pem'),
        '--scope',
        'orders:read',
      ]);
      expect(both.status).toBe(0);
      const claims = claimsOf(both.stdout.trim());
      expect([claims['custom:tenant_id'], claims.scope, claims.cnf]).toEqual([
        'acme',
        'orders:read',
        {
          jkt: run('tools/dpop.ts', ['--thumbprint', '--key', keyFile]).stdout.trim(),
          'x5t#S256': printed,
        },
      ]);
    } finally {
      httpsServer.close();
    }
  }, 60_000);

  it('refuses to replace a CA without --force, and a certificate file that is not one', () => {
    const certs = join(dir, 'certs2');
    expect(run('tools/certs.ts', ['--dir', certs, 'ca']).status).toBe(0);
    const again = run('tools/certs.ts', ['--dir', certs, 'ca']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(run('tools/certs.ts', ['--dir', certs, 'thumbprint', join(certs, 'ca-key.pem')]).status).toBe(2);
    expect(run('tools/certs.ts', ['--dir', certs, 'client', '../evil']).status).toBe(2);
  }, 60_000);
});
