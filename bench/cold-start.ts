/**
 * Section 3: cold start. A fresh Node process imports a bundle and serves one invocation; the same
 * runner with nothing to import is the empty process. Runs are interleaved (empty, then each
 * bundle, round after round) so that machine load drifts over all cases alike.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATE_DIR } from '../tools/paths.ts';
import { median, quantile } from './harness.ts';

/** What one cold-start case runs. */
export interface ColdStartCase {
  readonly name: string;
  readonly bundle: string;
  readonly exportName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly event: unknown;
  /** Checks the invocation's result; returns a problem, or undefined when it answered as expected. */
  readonly expect: (outcome: ChildOutcome) => string | undefined;
}

/** What the child reported. */
export interface ChildOutcome {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
  /** Time spent in `import()` of the bundle, as measured inside the child. */
  readonly importMs: number;
  /** Time spent in the one invocation. */
  readonly invokeMs: number;
}

/** A case's figures. */
export interface ColdStartResult {
  readonly name: string;
  /** Median wall time of the whole process, in milliseconds. */
  readonly medianMs: number;
  /** Median minus the empty process's median. */
  readonly overEmptyMs: number;
  readonly p90Ms: number;
  readonly importMs: number;
  readonly invokeMs: number;
  readonly runs: number;
  /** Set when the bundle did not answer as expected (its figures then mean little). */
  readonly problem: string | undefined;
}

const CHILD = fileURLToPath(new URL('./cold-start-child.mjs', import.meta.url));

function runChild(args: readonly string[], env: Readonly<Record<string, string>>) {
  return new Promise<{ ms: number; outcome: ChildOutcome | undefined; stderr: string }>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CHILD, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answeredAt: bigint | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (answeredAt === undefined && /@@bench [^\n]*\n/.test(stdout)) answeredAt = process.hrtime.bigint();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', () => {
      const ms = Number((answeredAt ?? process.hrtime.bigint()) - started) / 1e6;
      const line = stdout.split('\n').find((l) => l.startsWith('@@bench '));
      resolve({
        ms,
        outcome: line === undefined ? undefined : (JSON.parse(line.slice(8)) as ChildOutcome),
        stderr,
      });
    });
  });
}

/** The empty process and every case, `rounds` times each. */
export async function runColdStarts(
  cases: readonly ColdStartCase[],
  rounds: number,
  log: (line: string) => void = () => {},
): Promise<{ emptyMs: number; results: ColdStartResult[] }> {
  const dir = join(STATE_DIR, 'bench', 'events');
  mkdirSync(dir, { recursive: true });
  const eventFiles = cases.map((c, n) => {
    const file = join(dir, `cold-start-${n}.json`);
    writeFileSync(file, JSON.stringify(c.event));
    return file;
  });
  const empty: number[] = [];
  const times = cases.map(() => [] as number[]);
  const imports = cases.map(() => [] as number[]);
  const invokes = cases.map(() => [] as number[]);
  const problems: (string | undefined)[] = cases.map(() => undefined);
  for (let round = 0; round < rounds; round++) {
    empty.push((await runChild(['empty', '', '', ''], {})).ms);
    for (const [n, c] of cases.entries()) {
      const run = await runChild(['bundle', c.bundle, c.exportName, eventFiles[n] as string], c.env);
      const problem =
        run.outcome === undefined
          ? `the process ended without answering: ${run.stderr.split('\n').find((l) => /Error/.test(l)) ?? run.stderr.slice(0, 200)}`
          : c.expect(run.outcome);
      if (problem !== undefined) problems[n] ??= problem;
      times[n]?.push(run.ms);
      imports[n]?.push(run.outcome?.importMs ?? Number.NaN);
      invokes[n]?.push(run.outcome?.invokeMs ?? Number.NaN);
    }
    log(`  cold start round ${round + 1}/${rounds}`);
  }
  const emptyMs = median(empty);
  const results = cases.map((c, n) => {
    const sorted = [...(times[n] as number[])].sort((a, b) => a - b);
    const medianMs = median(sorted);
    return {
      name: c.name,
      medianMs,
      overEmptyMs: medianMs - emptyMs,
      p90Ms: quantile(sorted, 0.9),
      importMs: median(imports[n] as number[]),
      invokeMs: median(invokes[n] as number[]),
      runs: sorted.length,
      problem: problems[n],
    };
  });
  return { emptyMs, results };
}
