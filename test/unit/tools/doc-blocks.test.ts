import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../tools/cli/program.ts';
import { BACKGROUND_COMMANDS, runnableCommands } from '../../../tools/doc-blocks.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';

const md = (...lines: string[]) => lines.join('\n');

describe('runnableCommands', () => {
  it('takes only sh/bash blocks marked runnable, one command per line, continuations joined', () => {
    // Arrange
    const text = readFileSync(join(PROJECT_ROOT, 'test/fixtures/doc-blocks/sample.md'), 'utf8');

    // Act
    const commands = runnableCommands(text, [
      { pattern: /^node \S*server\.mjs/, ready: 'x', readySeconds: 1 },
    ]);

    // Assert
    expect(commands.map((c) => [c.line, c.expectedStatus, c.background !== undefined])).toEqual([
      [17, 0, false],
      [18, 0, false],
      [19, 0, false],
      [21, 1, false],
      [22, 0, true],
      [28, 0, false],
      [29, 0, false],
    ]);
    expect(commands[2]?.text).toBe('echo "hello $NAME from $(basename "$PWD")" \\\n  | tr a-z A-Z');
  });

  it.each([
    ['npm start', true],
    ['npm start -- --in-memory   # the gateway', true],
    ['npm run start', true],
    ['npm run starter', false],
    ['npm test', false],
  ])('runs %j in the background: %s', (command, background) => {
    // Act
    const [c] = runnableCommands(md('```sh runnable', command, '```'), BACKGROUND_COMMANDS);

    // Assert
    expect(c?.background !== undefined).toBe(background);
  });

  it.each([
    ['false # exit 1', 1],
    ['npm run invoke -- X -e y.json      # exit 1, Unauthorized', 1],
    ["echo '# exit 3'", 0],
    ['echo done # exits 0', 0],
  ])('reads the documented status of %j', (command, status) => {
    expect(runnableCommands(md('```sh runnable', command, '```'))[0]?.expectedStatus).toBe(status);
  });

  it.each([
    [md('```sh runnable', 'echo a'), 'line 1: the block is never closed'],
    [md('```sh runnable', 'echo a \\', '```'), 'line 2: the command continues'],
  ])('refuses a malformed document (%#)', (text, message) => {
    expect(() => runnableCommands(text)).toThrow(UsageError);
    expect(() => runnableCommands(text)).toThrow(message);
  });

  it('ignores runnable-looking lines inside another block', () => {
    // Arrange: a block that shows a runnable block as an example.
    const text = md('````md', '```sh runnable', 'exit 3', '```', '````');

    // Act / Assert
    expect(runnableCommands(text)).toEqual([]);
  });
});
