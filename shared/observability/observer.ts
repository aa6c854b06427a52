import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

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

/**
 * Powertools for AWS Lambda: a JSON decision log line per invocation (with `coldStart`), and EMF
 * metrics (`Decisions` by effect and reason, `ValidationFailures` by route, `DependencyFailures`,
 * `CacheHits` / `CacheMisses`, `ColdStarts`).
 * Namespace and service come from POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME.
 */
export function powertoolsObserver(service: string): Observer {
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({
    serviceName: service,
    defaultNamespace: 'Gatehouse',
  } as ConstructorParameters<typeof Metrics>[0]);
  // One observer per execution environment: the first decision it logs is the cold start's.
  let coldStart = true;
  return {
    decision(record) {
      logger.info('decision', { decision: record, coldStart });
      const single = metrics.singleMetric();
      single.addDimension('effect', record.effect);
      single.addDimension('reason', record.reason);
      single.addMetric('Decisions', MetricUnit.Count, 1);
      if (record.effect === 'invalid') {
        // Per route (a handful, from openapi.yaml), so a client sending bad bodies shows up at once.
        const failure = metrics.singleMetric();
        failure.addDimension('route', record.route ?? 'unmatched');
        failure.addMetric('ValidationFailures', MetricUnit.Count, 1);
      }
      if (record.effect === 'error') metrics.addMetric('DependencyFailures', MetricUnit.Count, 1);
      // CacheHits / (CacheHits + CacheMisses) is the cache hit ratio (CloudWatch metric math).
      metrics.addMetric(record.cacheHit ? 'CacheHits' : 'CacheMisses', MetricUnit.Count, 1);
      if (coldStart) metrics.addMetric('ColdStarts', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      coldStart = false;
    },
    warn(message, fields) {
      logger.warn(message, { ...fields });
    },
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
