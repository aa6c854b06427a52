// The CloudWatch metrics the alarms may watch, with the dimension sets each is published with. An
// alarm on a metric with any other dimension set watches a series that never gets a data point:
// it can never fire. Only what the cited page documents is listed; an alarm on anything else fails.

/** Per metric name, the dimension sets (names, sorted) it is published with. */
export type DocumentedNamespace = Readonly<Record<string, readonly (readonly string[])[]>>;

const set = (...names: string[]): readonly string[] => [...names].sort();

// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
// ("Lambda function dimensions": FunctionName, Resource, ExecutedVersion).
const LAMBDA_DIMENSIONS = [
  set('FunctionName'),
  set('FunctionName', 'Resource'),
  set('FunctionName', 'Resource', 'ExecutedVersion'),
];

// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
// (REST APIs: ApiName; ApiName, Method, Resource, Stage; ApiName, Stage).
const REST_DIMENSIONS = [
  set('ApiName'),
  set('ApiName', 'Stage'),
  set('ApiName', 'Method', 'Resource', 'Stage'),
];

// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
// (HTTP APIs: ApiId; ApiId, Stage; ApiId, Stage, Route). The metric names differ from REST's.
const HTTP_DIMENSIONS = [set('ApiId'), set('ApiId', 'Stage'), set('ApiId', 'Stage', 'Route')];

// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
// ThrottledRequests and SystemErrors are published per operation ("Dimensions: TableName,
// Operation"); the throttle events per table or index.
const DYNAMODB: DocumentedNamespace = {
  ThrottledRequests: [set('TableName', 'Operation')],
  SystemErrors: [set('TableName', 'Operation')],
  ReadThrottleEvents: [set('TableName'), set('TableName', 'GlobalSecondaryIndexName')],
  WriteThrottleEvents: [set('TableName'), set('TableName', 'GlobalSecondaryIndexName')],
};

// https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html
// Web ACL metrics of a regional web ACL: Region, Rule (a rule's metric name, or ALL), WebACL.
const WAF_DIMENSIONS = [set('Region', 'Rule', 'WebACL')];

/** Namespace → documented metrics. `Gatehouse` is the functions' own (docs/observability.md). */
export const DOCUMENTED_METRICS: Readonly<Record<string, DocumentedNamespace>> = {
  'AWS/Lambda': {
    Errors: LAMBDA_DIMENSIONS,
    Throttles: LAMBDA_DIMENSIONS,
    Duration: LAMBDA_DIMENSIONS,
    Invocations: LAMBDA_DIMENSIONS,
  },
  'AWS/ApiGateway': {
    // REST
    '4XXError': REST_DIMENSIONS,
    '5XXError': REST_DIMENSIONS,
    CacheHitCount: REST_DIMENSIONS,
    CacheMissCount: REST_DIMENSIONS,
    IntegrationLatency: [...REST_DIMENSIONS, ...HTTP_DIMENSIONS],
    Latency: [...REST_DIMENSIONS, ...HTTP_DIMENSIONS],
    Count: [...REST_DIMENSIONS, ...HTTP_DIMENSIONS],
    // HTTP
    '4xx': HTTP_DIMENSIONS,
    '5xx': HTTP_DIMENSIONS,
    DataProcessed: HTTP_DIMENSIONS,
  },
  'AWS/DynamoDB': DYNAMODB,
  'AWS/WAFV2': {
    AllowedRequests: WAF_DIMENSIONS,
    BlockedRequests: WAF_DIMENSIONS,
    CountedRequests: WAF_DIMENSIONS,
    PassedRequests: WAF_DIMENSIONS,
  },
  // EMF from shared/observability/observer.ts: dimension set [["service"]].
  Gatehouse: {
    DependencyFailures: [set('service')],
  },
};

/** The functions' service names (POWERTOOLS_SERVICE_NAME), the values of the `service` dimension. */
export const GATEHOUSE_SERVICES = ['jwt-authorizer', 'key-authorizer', 'request-validator'] as const;
