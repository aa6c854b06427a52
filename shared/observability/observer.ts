/**
 * The functions' only way to log and count: per invocation, one JSON line that is both the decision
 * log and its CloudWatch embedded-metric-format (EMF) record.
 *
 * Hand-built rather than Powertools Logger + Metrics: those cost 55–65 µs per warm invocation (a new
 * `Metrics` and `Console` per decision for a per-reason metric), ~5 ms of cold start and ~31 KB per
 * bundle, for one line we can write in a few µs (docs/performance.md). The field names are the ones
 * Powertools Logger users query (`level`, `message`, `timestamp`, `service`, `cold_start`,
 * `function_request_id`, `xray_trace_id`, `sampling_rate`), and its variables are honoured
 * (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`,
 * `POWERTOOLS_LOGGER_SAMPLE_RATE`), as are Lambda's own (`AWS_LAMBDA_LOG_LEVEL`, JSON log format).
 */
import { writeSync } from 'node:fs';
import { type Env, EnvReader } from '../config/env.ts';

/** What a function decided for one invocation. Never holds a credential. */
export interface DecisionRecord {
  readonly requestId: string | undefined;
  /** `METHOD /template`, when known. */
  readonly route: string | undefined;
  /** allow / deny (403) / unauthorized (401) / invalid (validator 4xx) / forwarded / error (500). */
  readonly effect: 'allow' | 'deny' | 'unauthorized' | 'invalid' | 'forwarded' | 'error';
  /** Stable snake_case reason code. */
  readonly reason: string;
  readonly principal?: string | undefined;
  readonly status?: number;
  readonly latencyMs: number;
  /** Whether a cache answered (verified token, credential lookup). */
  readonly cacheHit: boolean;
}

/** The functions' only way to log and count: one decision log line and its metrics per invocation. */
export interface Observer {
  decision(record: DecisionRecord): void;
  /** Operational messages (keys dropped from a JWKS, a dependency failing). No secrets. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** An observer that also knows which Lambda invocation it is in. */
export interface LambdaObserver extends Observer {
  /** Called as each invocation starts, with Lambda's `context.awsRequestId`. */
  begin(functionRequestId: string | undefined): void;
}

/** Log levels, Powertools' names plus Lambda's `FATAL`. */
const LEVELS = {
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  FATAL: 24,
  SILENT: 28,
} as const;
type Level = keyof typeof LEVELS;

/** The observer's settings, read once at init. */
export interface ObserverConfig {
  /** POWERTOOLS_SERVICE_NAME: the `service` field and the metrics' only dimension. */
  readonly service: string;
  /** POWERTOOLS_METRICS_NAMESPACE (`Gatehouse`). */
  readonly namespace: string;
  /** Lines below this level are not written (metrics still are). */
  readonly level: Level;
  /** AWS_LAMBDA_LOG_LEVEL, when Lambda filters the function's JSON logs itself. */
  readonly lambdaLevel: Level | undefined;
  /** POWERTOOLS_LOGGER_SAMPLE_RATE: the fraction of invocations logged at DEBUG whatever the level. */
  readonly sampleRate: number;
}

function readLevel(r: EnvReader, name: string, allowed: readonly Level[]): Level | undefined {
  const raw = r.string(name);
  if (raw === undefined) return undefined;
  const level = raw.trim().toUpperCase() as Level;
  if (allowed.includes(level)) return level;
  r.problem(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return undefined;
}

/** Reads the observer's variables; a bad one fails the cold start with its name. */
export function readObserverConfig(env: Env, defaultService: string): ObserverConfig {
  const r = new EnvReader(env);
  const powertools: Level[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
  const level = readLevel(r, 'POWERTOOLS_LOG_LEVEL', powertools) ?? readLevel(r, 'LOG_LEVEL', powertools);
  const lambdaLevel = readLevel(r, 'AWS_LAMBDA_LOG_LEVEL', [
    'TRACE',
    'DEBUG',
    'INFO',
    'WARN',
    'ERROR',
    'FATAL',
  ]);
  let sampleRate = 0;
  const rate = r.string('POWERTOOLS_LOGGER_SAMPLE_RATE');
  if (rate !== undefined) {
    sampleRate = Number(rate);
    if (!/^\s*(?:0|1|0?\.\d+|1\.0*)\s*$/.test(rate)) {
      r.problem('POWERTOOLS_LOGGER_SAMPLE_RATE', `must be a number from 0 to 1, got ${JSON.stringify(rate)}`);
      sampleRate = 0;
    }
  }
  const config: ObserverConfig = {
    service: r.string('POWERTOOLS_SERVICE_NAME', defaultService) as string,
    namespace: r.string('POWERTOOLS_METRICS_NAMESPACE', 'Gatehouse') as string,
    // Lambda's level wins, as in Powertools: a more verbose level of ours would be filtered anyway.
    level: lambdaLevel ?? level ?? 'INFO',
    lambdaLevel,
    sampleRate,
  };
  r.done();
  return Object.freeze(config);
}

/** Where lines go, and the clock and trace id: the edges, injected so tests can hold them. */
export interface ObserverIo {
  /** Writes one line (with its newline). */
  readonly write: (line: string) => void;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The current X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), if any. */
  readonly traceHeader: () => string | undefined;
  /** A number in [0, 1) for sampling. */
  readonly random: () => number;
}

/** The metrics each line carries: names, and which effect each counts. */
export type MetricSet = readonly (readonly [
  string,
  DecisionRecord['effect'] | 'all' | 'hit' | 'miss' | 'cold',
])[];

// One constant per kind of function, so that each bundle holds only its own set.
/** The authorizers' metrics. */
export const AUTHORIZER_METRICS: MetricSet = [
  ['Decisions', 'all'],
  ['Allowed', 'allow'],
  ['Denied', 'deny'],
  ['Unauthorized', 'unauthorized'],
  ['DependencyFailures', 'error'],
  ['CacheHits', 'hit'],
  ['CacheMisses', 'miss'],
  ['ColdStarts', 'cold'],
];

/** The request validator's metrics. */
export const VALIDATOR_METRICS: MetricSet = [
  ['Decisions', 'all'],
  ['Forwarded', 'forwarded'],
  ['Invalid', 'invalid'],
  ['DependencyFailures', 'error'],
  ['ColdStarts', 'cold'],
];

/** `Root=1-…;…` → `1-…`, as Powertools reports it. */
function traceIdOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const start = header.indexOf('Root=');
  if (start === -1) return undefined;
  const end = header.indexOf(';', start);
  return header.slice(start + 5, end === -1 ? undefined : end);
}

/**
 * The observer: one line per decision, the EMF block embedded, one metric set whose dimensions
 * ([["service"]]) and metric names are fixed at init. When the level hides the decision line (e.g.
 * `AWS_LAMBDA_LOG_LEVEL=WARN`), the metrics still go out on a line of their own, labelled with the
 * lowest level Lambda keeps, so that its log-level filter does not drop them.
 */
export function createObserver(config: ObserverConfig, metrics: MetricSet, io: ObserverIo): LambdaObserver {
  const service = JSON.stringify(config.service);
  // Everything that never changes is serialized once.
  const directive = JSON.stringify([
    {
      Namespace: config.namespace,
      Dimensions: [['service']],
      Metrics: metrics.map(([name]) => ({ Name: name, Unit: 'Count' })),
    },
  ]);
  const threshold = LEVELS[config.level];
  const metricsOnlyLevel = config.lambdaLevel ?? 'INFO';
  const sampling = `,"sampling_rate":${config.sampleRate}`;
  // Invocations so far (the current one included): `begin` counts them, or each decision does when
  // no one calls `begin` (tests, benchmarks).
  let invocations = 0;
  let began = false;
  let requestId = 'null';
  let traceId = 'null';
  let sampled = false;

  /** The fields every line starts with, up to and including `sampling_rate`. */
  function head(level: string, message: string, nowMs: number): string {
    return (
      `{"level":"${level}","message":${message},"timestamp":"${new Date(nowMs).toISOString()}","service":${service}` +
      `,"cold_start":${invocations <= 1},"function_request_id":${requestId},"xray_trace_id":${traceId}${sampling}`
    );
  }

  function visible(level: Level): boolean {
    return LEVELS[level] >= threshold || (sampled && LEVELS[level] >= LEVELS.DEBUG);
  }

  return {
    begin(functionRequestId) {
      began = true;
      invocations++;
      requestId = functionRequestId === undefined ? 'null' : JSON.stringify(functionRequestId);
      const trace = traceIdOf(io.traceHeader());
      traceId = trace === undefined ? 'null' : JSON.stringify(trace);
      sampled = config.sampleRate > 0 && io.random() < config.sampleRate;
    },

    decision(record) {
      if (!began) invocations++;
      const nowMs = io.now();
      let values = '';
      for (const [name, counts] of metrics) {
        const on =
          counts === 'all' ||
          counts === record.effect ||
          (counts === 'hit' && record.cacheHit) ||
          (counts === 'miss' && !record.cacheHit) ||
          (counts === 'cold' && invocations === 1);
        values += `,"${name}":${on ? 1 : 0}`;
      }
      const emf = `,"_aws":{"Timestamp":${nowMs},"CloudWatchMetrics":${directive}}${values}}\n`;
      const level: Level = record.effect === 'error' ? 'ERROR' : 'INFO';
      if (visible(level)) {
        const decision = JSON.stringify({
          requestId: record.requestId,
          route: record.route,
          effect: record.effect,
          reason: record.reason,
          principal: record.principal,
          status: record.status,
          latencyMs: record.latencyMs,
          cacheHit: record.cacheHit,
        });
        io.write(`${head(level, '"decision"', nowMs)},"decision":${decision}${emf}`);
      } else {
        io.write(`${head(metricsOnlyLevel, '"metrics"', nowMs)}${emf}`);
      }
      began = false;
    },

    warn(message, fields) {
      if (!visible('WARN')) return;
      const extra = fields === undefined ? '' : JSON.stringify(fields).slice(1, -1);
      io.write(`${head('WARN', JSON.stringify(message), io.now())}${extra === '' ? '' : `,${extra}`}}\n`);
    },
  };
}

// Set once a write could not complete at once: from then on every line goes through the stream,
// behind what it still buffers, so lines never overtake one another.
let throughStream = false;

/**
 * Writes a line to stdout (fd 1) with one system call. Not `console`: under Lambda's JSON log format
 * the runtime wraps console output in its own JSON (the EMF block would become a string that
 * CloudWatch does not read), while a JSON line on stdout is kept as it is, its `level` and
 * `timestamp` used for filtering. Not `process.stdout` either, on the usual path: creating that
 * stream costs a cold start several milliseconds (docs/performance.md). If the descriptor cannot
 * take a whole line (a non-blocking pipe that is full), that line and all later ones go through
 * `process.stdout`, which buffers them in order.
 */
export function writeToStdout(line: string): void {
  if (throughStream) {
    process.stdout.write(line);
    return;
  }
  let written = 0;
  try {
    written = writeSync(1, line);
  } catch {
    // EAGAIN on a full non-blocking pipe: nothing was written.
  }
  if (written === 0 || written < Buffer.byteLength(line)) {
    throughStream = true;
    process.stdout.write(written === 0 ? line : Buffer.from(line).subarray(written));
  }
}

/** The observer as the functions wire it: variables from `env`, lines to stdout. */
export function lambdaObserver(
  defaultService: string,
  metrics: MetricSet,
  env: Env = process.env,
): LambdaObserver {
  return createObserver(readObserverConfig(env, defaultService), metrics, {
    write: writeToStdout,
    now: Date.now,
    traceHeader: () => process.env._X_AMZN_TRACE_ID,
    random: Math.random,
  });
}

/**
 * Wraps a handler so the observer learns each invocation's Lambda request id before it runs. The
 * context goes on to the handler: the credentials authorizer bounds its store calls by
 * `getRemainingTimeInMillis()`.
 */
export function observedHandler<E, R, C extends object = object>(
  observer: LambdaObserver,
  handler: (event: E, context?: C) => Promise<R>,
): (event: E, context?: C & { readonly awsRequestId?: string }) => Promise<R> {
  return (event, context) => {
    observer.begin(context?.awsRequestId);
    return handler(event, context);
  };
}

/** An observer that keeps records in memory (tests, benchmarks). */
export function memoryObserver(): Observer & {
  readonly decisions: DecisionRecord[];
  readonly warnings: string[];
} {
  const decisions: DecisionRecord[] = [];
  const warnings: string[] = [];
  return {
    decisions,
    warnings,
    decision: (r) => decisions.push(r),
    warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
}
