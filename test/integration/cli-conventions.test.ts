// Every command a user runs behaves the same at the command line, as a real process: `--help` and
// `-h` print the usage on stdout and exit 0; an unknown option prints one line on stderr pointing to
// --help and exits 2 before doing anything; a negative number is read as an option's value.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';

/** The CLIs as package.json runs them: [how a user runs it, script]. */
const CLIS = [
  ['npm start --', 'tools/gateway/start.ts'],
  ['npm run build --', 'tools/build.ts'],
  ['npm run generate --', 'tools/generate.ts'],
  ['npm run invoke --', 'tools/invoke.ts'],
  ['npm run -s event --', 'tools/event.ts'],
  ['npm run token --', 'tools/token.ts'],
  ['npm run keys --', 'tools/keys.ts'],
  ['npm run users --', 'tools/users.ts'],
  ['npm run dpop --', 'tools/dpop.ts'],
  ['npm run certs --', 'tools/certs.ts'],
  ['npm run check:docs --', 'tools/doc-blocks.ts'],
  ['npm run bench --', 'bench/run.ts'],
  ['npm run bench:gateway --', 'bench/gateway.ts'],
  ['npx tsx bench/openapi.ts', 'bench/openapi.ts'],
] as const;

function run(
  script: string,
  args: readonly string[],
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

// Each case starts Node.js processes (about 1 s each, more on a loaded machine).
describe.concurrent('every CLI, as a process', { timeout: 120_000 }, () => {
  it.each(CLIS)('%s --help prints the usage on stdout and exits 0', async (invocation, script) => {
    // Act
    const [long, short] = await Promise.all([run(script, ['--help']), run(script, ['-h'])]);

    // Assert
    expect(long.code).toBe(0);
    expect(long.out.startsWith(`Usage: ${invocation} `)).toBe(true);
    expect(long.err).toBe('');
    expect(short.code).toBe(0);
    expect(short.out).toBe(long.out);
  });

  it.each(CLIS)('%s --no-such-flag prints one line and exits 2', async (invocation, script) => {
    // Act
    const result = await run(script, ['--no-such-flag']);

    // Assert
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err.trimEnd().split('\n')).toHaveLength(1);
    expect(result.err).toContain("unknown option '--no-such-flag'");
    expect(result.err).toContain(`see ${invocation} --help`);
  });

  it.each([
    // The value reaches the option's own check (not "unknown option '-1'").
    ['tools/gateway/start.ts', ['--port', '-1'], 2, '--port must be a port number, not "-1"'],
    ['tools/keys.ts', ['rotate', 'AAAAAAAAAAAA', '--grace', '-1h'], 2, '--grace must look like'],
  ] as const)('%s %j reads the negative number as the value', async (script, args, code, message) => {
    const result = await run(script, args);
    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
  });

  it('npm run token -- --ttl -60 prints an expired token', async () => {
    // Act
    const result = await run('tools/token.ts', ['--ttl', '-60']);

    // Assert
    expect(result.code).toBe(0);
    const payload = JSON.parse(
      Buffer.from(result.out.trim().split('.')[1] as string, 'base64url').toString('utf8'),
    ) as { exp: number };
    expect(payload.exp).toBeLessThan(Date.now() / 1000 - 50);
  });
});
