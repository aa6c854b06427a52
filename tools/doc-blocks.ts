/**
 * Runs the shell blocks of a Markdown file that are marked runnable, as a reader would type them
 * into one terminal, so that documented commands keep working (CI runs README.md's):
 *
 *   npm run check:docs -- README.md [more.md ...] [--print]
 *
 * Marking: a fenced block whose info string is `sh runnable` (or `bash runnable`). In it, one command
 * per line (a trailing `\` continues it); blank and comment lines are skipped. A command must exit
 * 0, or the status its trailing comment names (`... # exit 1`). A command that serves until
 * stopped (`npm start`) runs in the background: the next command waits until it is ready, and it is
 * stopped with Ctrl-C's signal when the file is done (it must then exit by itself). Every block of a
 * file runs in one shell, in order, so `cd` and variables carry over as in a terminal.
 * Exit status: 0 every command did as documented, 1 one did not, 2 bad usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { type CliName, cliProgram, parseCommandLine, runCli, UsageError } from './cli/program.ts';
import { PROJECT_ROOT } from './paths.ts';

/** A command that serves until stopped, and the text it prints once it serves. */
export interface BackgroundCommand {
  readonly pattern: RegExp;
  /** Printed (stdout or stderr) once the command is ready. */
  readonly ready: string;
  /** Seconds to wait for `ready` (a first start builds bundles). */
  readonly readySeconds: number;
}

/** The project's commands that serve until stopped. */
export const BACKGROUND_COMMANDS: readonly BackgroundCommand[] = [
  // tools/gateway/start.ts prints its banner, ending in this, once every API serves.
  { pattern: /^npm (?:run )?start\b/, ready: 'Ctrl-C stops', readySeconds: 300 },
];

/** One command of a runnable block. */
export interface DocCommand {
  /** 1-based line of the command's first line in the file. */
  readonly line: number;
  /** The command as written (continuation lines included). */
  readonly text: string;
  /** The exit status the documentation states (`# exit 1`), else 0. */
  readonly expectedStatus: number;
  /** Set when the command serves until stopped. */
  readonly background: BackgroundCommand | undefined;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/;

/** The commands of every runnable block, in order. Throws UsageError for a malformed block. */
export function runnableCommands(
  markdown: string,
  background: readonly BackgroundCommand[] = BACKGROUND_COMMANDS,
): DocCommand[] {
  const lines = markdown.split(/\r?\n/);
  const commands: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (open === null) continue;
    const [, , fence = '```', lang = '', rest = ''] = open;
    const close = lines.findIndex(
      (l, j) => j > i && l.trim().startsWith(fence) && l.trim().slice(fence.length).trim() === '',
    );
    if (close < 0) throw new UsageError(`line ${i + 1}: the block is never closed`);
    const runnable = ['sh', 'bash', 'shell'].includes(lang) && rest.split(/\s+/).includes('runnable');
    if (runnable) {
      let pending: { line: number; parts: string[] } | undefined;
      for (let j = i + 1; j < close; j++) {
        const text = lines[j] as string;
        if (pending === undefined && (text.trim() === '' || text.trim().startsWith('#'))) continue;
        pending ??= { line: j + 1, parts: [] };
        pending.parts.push(text);
        if (/\\$/.test(text)) continue;
        commands.push(docCommand(pending.line, pending.parts.join('\n'), background));
        pending = undefined;
      }
      if (pending !== undefined)
        throw new UsageError(`line ${pending.line}: the command continues (\\) past the end of its block`);
    }
    i = close;
  }
  return commands;
}

function docCommand(line: number, text: string, background: readonly BackgroundCommand[]): DocCommand {
  const last = text.split('\n').at(-1) as string;
  const status = /\s#\s*exit (\d+)\b[^'"]*$/.exec(last)?.[1];
  return {
    line,
    text,
    expectedStatus: status === undefined ? 0 : Number(status),
    background: background.find((b) => b.pattern.test(text.trimStart())),
  };
}

/** `'...'` for bash. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const PRELUDE = join(PROJECT_ROOT, 'tools', 'doc-blocks-prelude.sh');

/**
 * The bash script that runs the commands in one shell (tools/doc-blocks-prelude.sh, then each
 * command followed by a check of its status).
 */
export function shellScript(file: string, commands: readonly DocCommand[], root = PROJECT_ROOT): string {
  const out = [readFileSync(PRELUDE, 'utf8'), `cd ${quote(root)}`];
  for (const c of commands) {
    const where = `${file}:${c.line}`;
    out.push('', `printf '\\n$ %s   (%s)\\n' ${quote(c.text.replace(/\\\n\s*/g, ''))} ${quote(where)}`);
    if (c.background !== undefined) {
      const { ready, readySeconds } = c.background;
      out.push(`__doc_background ${quote(where)} ${quote(ready)} ${readySeconds} ${quote(c.text)}`);
    } else out.push(c.text, `__doc_expect $? ${c.expectedStatus} ${quote(where)}`);
  }
  out.push(
    '',
    '__doc_stop || exit 1',
    `echo ${quote(`doc-blocks: ${file}: ${commands.length} commands did as documented`)}`,
  );
  return `${out.join('\n')}\n`;
}

const NAME: CliName = { tool: 'doc-blocks', invocation: 'npm run check:docs --' };

/** The `npm run check:docs` command line. */
export function docBlocksProgram(): Command {
  return cliProgram(
    NAME,
    "Run a Markdown file's shell blocks marked `sh runnable`, checking each command's status.",
  )
    .argument('<file...>', 'Markdown files (README.md)')
    .option('--print', 'print the script instead of running it');
}

async function main(argv: readonly string[]): Promise<number> {
  const { options, operands } = parseCommandLine<{ print?: true }>(docBlocksProgram(), argv);
  for (const operand of operands) {
    const path = resolve(operand);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${operand}`);
    }
    const file = relative(PROJECT_ROOT, path);
    let commands: DocCommand[];
    try {
      commands = runnableCommands(text);
    } catch (err) {
      throw new UsageError(`${file}: ${(err as Error).message}`);
    }
    const script = shellScript(file, commands);
    if (options.print === true) {
      process.stdout.write(script);
      continue;
    }
    if (commands.length === 0) {
      process.stderr.write(`doc-blocks: ${file} has no runnable block\n`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-doc-blocks-'));
    try {
      writeFileSync(join(dir, 'run.sh'), script);
      const run = spawnSync('bash', [join(dir, 'run.sh')], { stdio: 'inherit' });
      if (run.status !== 0) return 1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(NAME, main);
