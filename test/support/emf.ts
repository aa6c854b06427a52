/**
 * The structure CloudWatch's embedded metric format specification requires of a log line
 * (AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification): checked
 * field by field, so a line CloudWatch would silently not turn into metrics fails a test instead.
 */

const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every way a parsed log line breaks the EMF structure (empty when it is a valid EMF document). */
export function emfProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const aws = line._aws;
  if (!isObject(aws)) return ['_aws is missing or not an object'];
  for (const key of Object.keys(aws))
    if (key !== 'Timestamp' && key !== 'CloudWatchMetrics') problems.push(`_aws has an extra member ${key}`);
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp < 0)
    problems.push('_aws.Timestamp must be a non-negative integer (ms since the epoch)');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics must be an array'];
  for (const [d, directive] of directives.entries()) {
    const at = `CloudWatchMetrics[${d}]`;
    if (!isObject(directive)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const { Namespace, Dimensions, Metrics } = directive;
    if (typeof Namespace !== 'string' || Namespace.length < 1 || Namespace.length > 255)
      problems.push(`${at}.Namespace must be a string of 1 to 255 characters`);
    if (!Array.isArray(Dimensions)) problems.push(`${at}.Dimensions must be an array of dimension sets`);
    else
      for (const set of Dimensions) {
        if (!Array.isArray(set) || set.length > 30)
          problems.push(`${at}: a dimension set must list at most 30 names`);
        else
          for (const name of set)
            if (
              typeof name !== 'string' ||
              typeof line[name] !== 'string' ||
              (line[name] as string).length > 1024
            )
              problems.push(`${at}: dimension ${String(name)} needs a string member at the root`);
      }
    if (!Array.isArray(Metrics) || Metrics.length > 100) {
      problems.push(`${at}.Metrics must be an array of at most 100 metric definitions`);
      continue;
    }
    for (const metric of Metrics) {
      if (
        !isObject(metric) ||
        typeof metric.Name !== 'string' ||
        metric.Name.length < 1 ||
        metric.Name.length > 255
      ) {
        problems.push(`${at}: a metric definition needs a Name of 1 to 255 characters`);
        continue;
      }
      if (metric.Unit !== undefined && !UNITS.has(metric.Unit as string))
        problems.push(`${at}: ${metric.Name} has an unknown Unit`);
      if (
        metric.StorageResolution !== undefined &&
        metric.StorageResolution !== 1 &&
        metric.StorageResolution !== 60
      )
        problems.push(`${at}: ${metric.Name} has a StorageResolution other than 1 or 60`);
      const value = line[metric.Name];
      const values = Array.isArray(value) ? value : [value];
      if (
        values.length === 0 ||
        values.length > 100 ||
        !values.every((v) => typeof v === 'number' && Number.isFinite(v))
      )
        problems.push(`${at}: ${metric.Name} needs a numeric value (or up to 100) at the root`);
    }
  }
  return problems;
}
