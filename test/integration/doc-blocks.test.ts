// The runner of documented shell blocks, on sample documents: commands run in one shell in order,
// statuses are checked, a serving command runs in the background until the file is done and is
// then stopped with SIGINT.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runnableCommands, shellScript } from '../../tools/doc-blocks.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';

const SAMPLES = join(PROJECT_ROOT, 'test/fixtures/doc-blocks');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('doc blocks', () => {
  it('runs the runnable blocks of a document as documented, then stops what serves', () => {
    // Arrange
    const state = join(mkdtempSync(join(tmpdir(), 'gatehouse-doc-blocks-')), 'server.json');
    const commands = runnableCommands(readFileSync(join(SAMPLES, 'sample.md'), 'utf8'), [
      { pattern: /^node \S*server\.mjs/, ready: 'sample server listening', readySeconds: 30 },
    ]);

    // Act
    const run = spawnSync('bash', ['-c', shellScript('sample.md', commands)], {
      encoding: 'utf8',
      env: { ...process.env, DOC_BLOCKS_STATE: state },
      timeout: 90_000,
    });

    // Assert
    expect(run.stderr).not.toContain('doc-blocks:');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('HELLO DOC-BLOCKS FROM TEST');
    expect(run.stdout).toContain('server says pong');
    expect(run.stdout).toContain('doc-blocks: sample.md: 7 commands did as documented');
    const { pid } = JSON.parse(readFileSync(state, 'utf8')) as { pid: number };
    expect(alive(pid)).toBe(false);
  });

  it('npm run check:docs fails on the first command that does not do as documented, naming its line', () => {
    // Act
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/doc-blocks.ts', 'test/fixtures/doc-blocks/failing.md'],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Assert
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('first');
    expect(run.stdout).not.toContain('never');
    expect(run.stderr).toContain(
      'doc-blocks: test/fixtures/doc-blocks/failing.md:5 exited 1, the documentation says 0',
    );
  });

  it('npm run check:docs passes a document whose runnable commands all do as documented', () => {
    // Act
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/doc-blocks.ts', 'test/fixtures/doc-blocks/passing.md'],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Assert
    expect(run.stderr).not.toContain('doc-blocks:');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      'doc-blocks: test/fixtures/doc-blocks/passing.md: 4 commands did as documented',
    );
  });

  it('npm run check:docs --print shows the script instead of running it', () => {
    // Act
    const printed = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/doc-blocks.ts', '--print', 'test/fixtures/doc-blocks/failing.md'],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Assert
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain("__doc_expect $? 0 'test/fixtures/doc-blocks/failing.md:5'");
    expect(printed.stdout.split('\n')).not.toContain('first');
  });
});
