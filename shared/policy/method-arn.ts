/**
 * The parts of an execute-api ARN, as API Gateway sends it in `methodArn` (REST, WebSocket, HTTP API
 * payload 1.0) or `routeArn` (HTTP API payload 2.0):
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{resource path}`.
 */
export interface MethodArn {
  /** `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}`: the prefix of every resource. */
  readonly stagePrefix: string;
  readonly apiId: string;
  readonly stage: string;
  /** HTTP method, or the WebSocket route key (`$connect`). */
  readonly method: string;
  /** Concrete resource path with a leading `/`, e.g. `/orders/123`. */
  readonly path: string;
}

const ARN =
  /^(arn:[a-z-]+:execute-api:[a-z0-9-]+:(?:\d{12}|\*|[A-Za-z0-9-]*)):([^/]+)\/([^/]+)\/([^/]+)(\/.*)?$/;

/** Parses an execute-api ARN; `undefined` when it is not one. */
export function parseMethodArn(arn: string): MethodArn | undefined {
  const m = ARN.exec(arn);
  if (m === null) return undefined;
  const [, head, apiId, stage, method, rest] = m;
  if (head === undefined || apiId === undefined || stage === undefined || method === undefined)
    return undefined;
  return {
    stagePrefix: `${head}:${apiId}/${stage}`,
    apiId,
    stage,
    method,
    path: rest === undefined || rest === '' ? '/' : rest,
  };
}
