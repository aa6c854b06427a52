/**
 * A small in-house timing harness: warm-up, then N samples of a batch of iterations each timed
 * with `process.hrtime.bigint()`, reported as the median and p99 of the per-iteration time.
 * Hand-written rather than tinybench/mitata because the sections need one thing those do not give
 * directly: a per-iteration argument (a fresh pre-minted token each time) with the batch timed as
 * a whole, so the timer's own cost is spread over the batch.
 */

/** One measured case. */
export interface Measurement {
  /** What was measured, as shown in the tables. */
  readonly name: string;
  /** Median time per iteration, in nanoseconds. */
  readonly medianNs: number;
  /** 99th percentile of the per-sample time per iteration, in nanoseconds. */
  readonly p99Ns: number;
  /** Iterations per second at the median. */
  readonly opsPerSecond: number;
  /** Samples taken. */
  readonly samples: number;
  /** Iterations per sample. */
  readonly batch: number;
}

/** How long to measure. */
export interface MeasureOptions {
  /** Wall time spent warming up (JIT, caches), in milliseconds. */
  readonly warmupMs?: number;
  /** Number of timed samples. */
  readonly samples?: number;
  /** Wall time one sample aims for; the batch size is derived from it. */
  readonly sampleMs?: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median of values (not necessarily sorted). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Measures `fn(i)` where `i` counts iterations from 0 (so a case can pick a fresh input each time).
 * `fn` may return a promise; it is awaited, so async and sync cases are timed alike.
 */
export async function measure(
  name: string,
  fn: (i: number) => unknown,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const warmupMs = options.warmupMs ?? 150;
  const samples = options.samples ?? 30;
  const sampleMs = options.sampleMs ?? 8;
  let i = 0;
  // Warm up and estimate the cost of one iteration at the same time.
  const warmStart = process.hrtime.bigint();
  const warmUntil = warmStart + BigInt(Math.round(warmupMs * 1e6));
  let warmIterations = 0;
  while (process.hrtime.bigint() < warmUntil) {
    for (let k = 0; k < 16; k++) {
      const r = fn(i++);
      if (r instanceof Promise) await r;
    }
    warmIterations += 16;
  }
  const perIteration = Number(process.hrtime.bigint() - warmStart) / warmIterations;
  const batch = Math.max(1, Math.round((sampleMs * 1e6) / perIteration));
  const perSample: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < batch; k++) {
      const r = fn(i++);
      if (r instanceof Promise) await r;
    }
    perSample.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  perSample.sort((a, b) => a - b);
  const medianNs = median(perSample);
  return {
    name,
    medianNs,
    p99Ns: quantile(perSample, 0.99),
    opsPerSecond: 1e9 / medianNs,
    samples,
    batch,
  };
}

/** A case of a group: a name and the function to time. */
export interface Case {
  readonly name: string;
  readonly fn: (i: number) => unknown;
}

async function runBatch(fn: (i: number) => unknown, start: number, batch: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < batch; k++) {
    const r = fn(start + k);
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - t0) / batch;
}

/**
 * Measures several cases round-robin: after each case's warm-up, every round times one batch of
 * each case in turn. Load from other processes then falls on all cases alike, so the ratios
 * between them hold even on a shared, noisy machine (absolute times do not).
 */
export async function measureGroup(
  cases: readonly Case[],
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  const warmupMs = options.warmupMs ?? 150;
  const samples = options.samples ?? 30;
  const sampleMs = options.sampleMs ?? 8;
  const counters = cases.map(() => 0);
  const batches: number[] = [];
  for (const [n, c] of cases.entries()) {
    const warmStart = process.hrtime.bigint();
    const warmUntil = warmStart + BigInt(Math.round(warmupMs * 1e6));
    let iterations = 0;
    while (process.hrtime.bigint() < warmUntil) {
      await runBatch(c.fn, counters[n] as number, 16);
      counters[n] = (counters[n] as number) + 16;
      iterations += 16;
    }
    const perIteration = Number(process.hrtime.bigint() - warmStart) / iterations;
    batches.push(Math.max(1, Math.round((sampleMs * 1e6) / perIteration)));
  }
  const perSample = cases.map(() => [] as number[]);
  for (let s = 0; s < samples; s++) {
    // Each round starts with the next case, so no case is always first after a pause.
    for (let k = 0; k < cases.length; k++) {
      const n = (s + k) % cases.length;
      const c = cases[n] as Case;
      const batch = batches[n] as number;
      perSample[n]?.push(await runBatch(c.fn, counters[n] as number, batch));
      counters[n] = (counters[n] as number) + batch;
    }
  }
  return cases.map((c, n) => {
    const sorted = [...(perSample[n] as number[])].sort((a, b) => a - b);
    const medianNs = median(sorted);
    return {
      name: c.name,
      medianNs,
      p99Ns: quantile(sorted, 0.99),
      opsPerSecond: 1e9 / medianNs,
      samples,
      batch: batches[n] as number,
    };
  });
}
