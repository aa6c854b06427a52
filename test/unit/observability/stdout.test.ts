// The observer's lines reach stdout whole and in order, whether or not process.stdout (which makes
// the descriptor a stream) is also in use: checked in a child process whose stdout is a pipe.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function childLines(touchStream: boolean): string[] {
  const script = [
    "import { writeToStdout } from './shared/observability/observer.ts';",
    touchStream ? 'process.stdout.write(\'{"n":-1}\\n\');' : '',
    "const pad = 'x'.repeat(3000);",
    'for (let n = 0; n < 500; n++) writeToStdout(JSON.stringify({ n, pad, note: "é\\u2028" }) + "\\n");',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(child.stderr).toBe('');
  return child.stdout.split('\n').filter((l) => l !== '');
}

describe('writeToStdout', () => {
  it.each([
    ['on its own', false],
    ['beside process.stdout', true],
  ])('writes every line whole and in order %s', (_name, touchStream) => {
    const lines = childLines(touchStream).map((l) => JSON.parse(l) as { n: number; note?: string });
    const numbers = lines.map((l) => l.n).filter((n) => n >= 0);

    expect(numbers).toEqual(Array.from({ length: 500 }, (_, n) => n));
    expect(lines.filter((l) => l.n >= 0).every((l) => l.note === 'é\u2028')).toBe(true);
  });
});
