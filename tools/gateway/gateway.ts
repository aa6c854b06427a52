/**
 * The local gateway: serves every `AWS::Serverless::Api` of template.yaml on loopback the way API
 * Gateway (REST) would, with the real bundled authorizers and integrations running as warm local
 * Lambda environments. `startGateway` is the programmatic entry point (tests start it on port 0);
 * `start.ts` is the CLI.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { buildFunction, ensureBuilt, upToDate } from '../build.ts';
import { generate } from '../generate.ts';
import { DEFAULT_ISSUER_PORT } from '../issuer/local-issuer.ts';
import { type InitError, LambdaEnvironment, type LogSink } from '../lambda/runtime.ts';
import type { LocalApiKey } from '../local/api-keys.ts';
import { type DemoBackend, startDemoBackend } from '../local/demo-backend.ts';
import { type LocalServices, startLocalServices } from '../local/services.ts';
import { documentPath, readDocumentSettings } from '../openapi/settings.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { type FunctionDefinition, functionEnvironment, templateFunctions } from '../template/functions.ts';
import { isDynamicReference, LOCAL_ACCOUNT_ID, type LocalStack, localStack } from '../template/resolve.ts';
import { loadTemplate, TemplateError } from '../template/template.ts';
import {
  type AccessLogEntry,
  type AccessLogFormat,
  accessLogLine,
  accessLogText,
  loggedDecision,
} from './access-log.ts';
import { type AuthorizeOutcome, type AuthorizerCache, authorize } from './authorize.ts';
import {
  EXPLICIT_DENY_MESSAGE,
  type GatewayReply,
  type GatewayResponseType,
  gatewayResponse,
} from './gateway-responses.ts';
import { type ApiModel, methodThrottleFor, readApis } from './model.ts';
import {
  type HttpRequest,
  headerValue,
  matchRoute,
  methodArn,
  proxyEvent,
  proxyResult,
  type RequestFacts,
} from './proxy-event.ts';
import { evaluateResourcePolicy } from './resource-policy.ts';
import { cachedApiKeyLookup, findPlan, UsageMeter } from './usage-plans.ts';

/** Default largest request body, as API Gateway (REST): 10 MB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Options of {@link startGateway}; every field optional. */
export interface GatewayOptions {
  /** Port of the first API (the next APIs take the following ports); 0 picks free ports. Default 3000. */
  readonly port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Template file, relative to the project root. Default template.yaml. */
  readonly template?: string;
  /** The API document, when not the project's (package.json "gatehouse.openapi"). */
  readonly openapi?: string;
  /** `--env-vars` content (`{"Parameters":{...},"LogicalId":{...}}`). */
  readonly envVars?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** `--parameter-overrides` as a map. */
  readonly parameterOverrides?: Readonly<Record<string, string>>;
  /** Backend the integration forwards to (UPSTREAM_URL); default the in-process demo backend. */
  readonly upstream?: string;
  /** Port of the local token issuer; default 3999 (0 picks a free one). */
  readonly issuerPort?: number;
  /** Keep the embedded DynamoDB in memory only. */
  readonly inMemory?: boolean;
  /** Where the embedded DynamoDB persists its data; default `.gatehouse/dynamodb`. */
  readonly dataDir?: string;
  /** Largest accepted request body in bytes (413 above). Default 10 MB. */
  readonly maxBodyBytes?: number;
  /** Rebuild bundles and restart their Lambda environments when sources change. */
  readonly watch?: boolean;
  /** Where access-log lines go; default stdout. */
  readonly accessLog?: (line: string) => void;
  /** Access-log lines as JSON (default) or as text for a terminal. */
  readonly accessLogFormat?: AccessLogFormat;
  /** Where the functions' own logs go; default stderr. */
  readonly functionLog?: LogSink;
  /** Informational messages (rebuilds); default stderr. */
  readonly info?: (line: string) => void;
  /** Clock for authorizer caching and usage plans (tests). */
  readonly clock?: () => number;
  /** Region in ARNs and the functions' AWS_REGION. Default us-east-1. */
  readonly region?: string;
}

/** One served API. */
export interface ServedApi {
  readonly logicalId: string;
  readonly url: string;
  readonly stageName: string;
  /** Logical IDs of the functions that authorize its routes. */
  readonly authorizerFunctions: readonly string[];
}

/** A running gateway. */
export interface RunningGateway {
  /** Base URL of each API, by logical ID, in template order. */
  readonly urls: Readonly<Record<string, string>>;
  readonly apis: readonly ServedApi[];
  /** The local token issuer (undefined when no function reads JWT_ISSUERS). */
  readonly issuerUrl: string | undefined;
  /** The upstream the integrations call. */
  readonly upstreamUrl: string;
  /** The in-process demo backend (undefined with `upstream`). */
  readonly demoBackend: DemoBackend | undefined;
  /** The local services (issuer, embedded DynamoDB) the functions use. */
  readonly services: LocalServices;
  /** A function's environment as resolved from the template and --env-vars (before local services). */
  environmentOf(logicalId: string): Readonly<Record<string, string>> | undefined;
  /** Lambda invocations so far, by function logical ID (tests assert authorizer invocations). */
  invocations(logicalId: string): number;
  /**
   * Cold-starts every function now; resolves to those whose init failed (e.g. a bad variable from
   * `--env-vars`), which would otherwise only show as 5xx answers. `npm start` refuses to serve then.
   */
  startFunctions(): Promise<readonly { readonly logicalId: string; readonly error: InitError }[]>;
  close(): Promise<void>;
}

const ACCOUNT_ID = LOCAL_ACCOUNT_ID;

/** A warm Lambda environment per function, replaced when its bundle is rebuilt. */
class FunctionPool {
  readonly #envs = new Map<string, LambdaEnvironment>();
  readonly #counts = new Map<string, number>();
  readonly #factory: (logicalId: string) => Promise<LambdaEnvironment>;
  readonly #starting = new Map<string, Promise<LambdaEnvironment>>();

  constructor(factory: (logicalId: string) => Promise<LambdaEnvironment>) {
    this.#factory = factory;
  }

  async invoke(logicalId: string, event: unknown) {
    this.#counts.set(logicalId, (this.#counts.get(logicalId) ?? 0) + 1);
    return (await this.#get(logicalId)).invoke(event);
  }

  #get(logicalId: string): Promise<LambdaEnvironment> {
    const env = this.#envs.get(logicalId);
    if (env !== undefined) return Promise.resolve(env);
    let starting = this.#starting.get(logicalId);
    if (starting === undefined) {
      starting = this.#factory(logicalId).then((e) => {
        this.#envs.set(logicalId, e);
        this.#starting.delete(logicalId);
        return e;
      });
      this.#starting.set(logicalId, starting);
    }
    return starting;
  }

  async warm(logicalId: string): Promise<InitError | undefined> {
    return (await this.#get(logicalId)).warm();
  }

  count(logicalId: string): number {
    return this.#counts.get(logicalId) ?? 0;
  }

  /** Drops the environment so the next invocation cold-starts the new bundle. */
  async restart(logicalId: string): Promise<void> {
    const env = this.#envs.get(logicalId);
    this.#envs.delete(logicalId);
    await env?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#envs.values()].map((e) => e.close()));
    this.#envs.clear();
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(over ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeReply(res: ServerResponse, reply: GatewayReply, requestId: string): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-length': Buffer.byteLength(reply.body),
    'x-amzn-requestid': requestId,
  });
  res.end(reply.body);
}

/** Starts the gateway: builds bundles if needed, starts local services, listens. */
export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const region = options.region ?? 'us-east-1';
  const templateFile = resolve(PROJECT_ROOT, options.template ?? 'template.yaml');
  const template = loadTemplate(templateFile);
  const stack: LocalStack = localStack(template, options.parameterOverrides ?? {}, {
    region,
    // Locally a resource is named by its logical ID (the embedded DynamoDB's tables, the APIs).
    resourceRef: (logicalId) => logicalId,
  });
  const apis = readApis(template, stack);
  if (apis.length === 0) throw new TemplateError('template.yaml declares no AWS::Serverless::Api');
  const functions = new Map(templateFunctions(template).map((f) => [f.logicalId, f]));
  const integrationIds = new Set(apis.flatMap((a) => a.routes.map((r) => r.functionLogicalId)));
  const authorizerIds = new Set(
    apis.flatMap((a) => Object.values(a.authorizers).map((z) => z.functionLogicalId)),
  );
  const used = [...new Set([...authorizerIds, ...integrationIds])];
  for (const id of used)
    if (!functions.has(id)) throw new TemplateError(`${id} is referenced by an API but is not a function`);

  const info = options.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const accessLog = options.accessLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? Date.now;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };

  try {
    await generate({ root: PROJECT_ROOT, openapi: options.openapi, check: false });
    const environments = new Map<string, Record<string, string>>();
    const ignoredEverywhere = new Map<string, number>();
    for (const id of used) {
      const { env, ignored } = functionEnvironment(
        stack,
        functions.get(id) as FunctionDefinition,
        options.envVars ?? {},
      );
      environments.set(id, env);
      for (const name of new Set(ignored))
        ignoredEverywhere.set(name, (ignoredEverywhere.get(name) ?? 0) + 1);
    }
    // As with sam local, only variables the template declares are set; say which ones went nowhere.
    for (const [name, count] of ignoredEverywhere)
      if (count === used.length || !Object.hasOwn(options.envVars?.Parameters ?? {}, name))
        info(
          `gateway: ${name} from --env-vars is not declared by the function(s) it names in the template; ignored`,
        );
    const services = await startLocalServices([...environments.values()], {
      issuerPort: options.issuerPort ?? DEFAULT_ISSUER_PORT,
      template,
      // The gateway runs its own demo backend (it needs to know the backend to report it).
      demoBackend: false,
      ...(options.inMemory !== undefined ? { inMemory: options.inMemory } : {}),
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    });
    closers.push(() => services.close());

    // The validator signs what it forwards; locally the secret is made up per run unless the
    // template or --env-vars set one (a real upstream must then be given the same secret).
    const firstIntegration = [...integrationIds][0] as string;
    const integrationEnv = services.environmentFor(environments.get(firstIntegration) ?? {});
    const declaredSecret = integrationEnv.UPSTREAM_SIGNING_SECRET;
    const usable = (v: string | undefined): v is string =>
      v !== undefined && v.length >= 32 && !isDynamicReference(v);
    const signingSecret = usable(declaredSecret) ? declaredSecret : randomBytes(32).toString('hex');
    // `--upstream`, else an UpstreamUrl given through the template's parameters, else the demo.
    let upstreamUrl = options.upstream ?? (integrationEnv.UPSTREAM_URL || undefined);
    let demoBackend: DemoBackend | undefined;
    if (upstreamUrl === undefined) {
      const backend = await startDemoBackend({ signingSecret });
      closers.push(() => backend.close());
      upstreamUrl = backend.url;
      demoBackend = backend;
    }

    const built = new Map(
      await Promise.all(
        used.map(async (id) => [id, await ensureBuilt(functions.get(id) as FunctionDefinition)] as const),
      ),
    );
    const pool = new FunctionPool(async (id) => {
      const fn = functions.get(id) as FunctionDefinition;
      const bundle = built.get(id) ?? (await ensureBuilt(fn));
      const env = services.environmentFor(environments.get(id) ?? {});
      // The integration forwards to the demo backend or `--upstream` in local runs.
      if (integrationIds.has(id)) {
        env.UPSTREAM_URL = upstreamUrl as string;
        if (!usable(env.UPSTREAM_SIGNING_SECRET)) env.UPSTREAM_SIGNING_SECRET = signingSecret;
      }
      return new LambdaEnvironment(
        {
          logicalId: id,
          bundle: bundle.bundle,
          exportName: bundle.exportName,
          env,
          timeoutSeconds: fn.timeoutSeconds,
          memoryMb: fn.memoryMb,
          region,
          accountId: ACCOUNT_ID,
        },
        options.functionLog,
      );
    });
    closers.push(() => pool.close());

    const caches: AuthorizerCache[] = [];
    const served: ServedApi[] = [];
    const basePort = options.port ?? 3000;
    const host = options.host ?? '127.0.0.1';
    for (const [index, api] of apis.entries()) {
      const handler = apiHandler(api, {
        pool,
        clock,
        region,
        accessLog,
        accessLogFormat: options.accessLogFormat ?? 'json',
        info,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        caches,
        apiKeys: services.apiKeys === undefined ? undefined : cachedApiKeyLookup(services.apiKeys, Date.now),
      });
      const server: Server = createServer((req, res) => {
        handler(req, res).catch((err: unknown) => {
          info(`gateway: ${api.logicalId}: ${(err as Error).message}`);
          if (!res.headersSent)
            res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":null}');
        });
      });
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(basePort === 0 ? 0 : basePort + index, host, () => ok());
      });
      closers.push(
        () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      );
      const { port } = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      served.push({
        logicalId: api.logicalId,
        url: `http://${shownHost}:${port}`,
        stageName: api.stageName,
        authorizerFunctions: [...new Set(Object.values(api.authorizers).map((z) => z.functionLogicalId))],
      });
    }

    if (options.watch === true) {
      const watcher = watchSources(
        [...functions.values()].filter((f) => used.includes(f.logicalId)),
        pool,
        info,
        // A rebuilt function is a redeployment: API Gateway starts with empty authorizer caches.
        () => {
          for (const c of caches) c.clear();
        },
        options.openapi,
      );
      closers.push(async () => watcher.close());
    }

    return {
      urls: Object.fromEntries(served.map((s) => [s.logicalId, s.url])),
      apis: served,
      issuerUrl: services.issuer?.url,
      upstreamUrl,
      demoBackend,
      services,
      environmentOf: (id) => environments.get(id),
      invocations: (id) => pool.count(id),
      startFunctions: async () => {
        const outcomes = await Promise.all(
          used.map(async (id) => ({ logicalId: id, error: await pool.warm(id) })),
        );
        return outcomes.filter((o): o is { logicalId: string; error: InitError } => o.error !== undefined);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Rebuilds changed bundles (debounced) and restarts their environments. */
function watchSources(
  fns: readonly FunctionDefinition[],
  pool: FunctionPool,
  info: (line: string) => void,
  onRebuilt: () => void,
  openapi: string | undefined,
): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const rebuild = async () => {
    await generate({ root: PROJECT_ROOT, openapi, check: false });
    for (const fn of fns) {
      if (upToDate(fn) !== undefined) continue;
      try {
        await buildFunction(fn);
        await pool.restart(fn.logicalId);
        onRebuilt();
        info(`gateway: rebuilt ${fn.logicalId}; its next invocation is a cold start`);
      } catch (err) {
        info(
          `gateway: rebuilding ${fn.logicalId} failed, keeping the previous bundle: ${(err as Error).message}`,
        );
      }
    }
  };
  const watchers: FSWatcher[] = [];
  for (const dir of ['functions', 'shared']) {
    watchers.push(
      watch(join(PROJECT_ROOT, dir), { recursive: true }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          running = running.then(rebuild);
        }, 300);
      }),
    );
  }
  watchers.push(
    watch(documentPath(PROJECT_ROOT, readDocumentSettings(PROJECT_ROOT, { openapi })), () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        running = running.then(rebuild);
      }, 300);
    }),
  );
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

interface HandlerDeps {
  readonly pool: FunctionPool;
  readonly clock: () => number;
  readonly region: string;
  readonly accessLog: (line: string) => void;
  readonly accessLogFormat: AccessLogFormat;
  readonly info: (line: string) => void;
  readonly maxBodyBytes: number;
  /** Every API's authorizer cache is registered here (flushed on rebuilds). */
  readonly caches: AuthorizerCache[];
  /** API keys made by `npm run keys` / `users` (each credential's usage key), looked up by value. */
  readonly apiKeys: ((value: string) => Promise<LocalApiKey | undefined>) | undefined;
}

/** The request handler of one API: API Gateway's pipeline, step by step. */
function apiHandler(
  api: ApiModel,
  deps: HandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const cache: AuthorizerCache = new Map();
  deps.caches.push(cache);
  const usage = new UsageMeter(deps.clock);
  const apiId = api.logicalId.toLowerCase();

  return async (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    // Split by hand: `new URL('//x/y', base)` would read `x` as a host and lose the path.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const url = {
      pathname: q < 0 ? target : target.slice(0, q),
      search: q < 0 ? '' : target.slice(q),
    };
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: AccessLogEntry = {
      requestId,
      api: api.logicalId,
      method,
      path: url.pathname,
      route: undefined,
      status: 0,
      latencyMs: 0,
      principal: undefined,
      authorizer: 'none',
      authorizerReason: undefined,
      cacheHit: undefined,
      resourcePolicy: undefined,
      usage: undefined,
      integration: undefined,
      errorType: undefined,
    };
    const facts: RequestFacts = {
      requestId,
      api,
      apiId,
      accountId: ACCOUNT_ID,
      region: deps.region,
      nowMs: Date.now(),
      domainName: req.headers.host ?? 'localhost',
    };
    const finish = (reply: GatewayReply | undefined, errorType: GatewayResponseType | undefined) => {
      entry.errorType = errorType;
      if (reply !== undefined) writeReply(res, reply, requestId);
      entry.status = res.statusCode;
      entry.latencyMs = Math.round((performance.now() - started) * 100) / 100;
      deps.accessLog(deps.accessLogFormat === 'text' ? accessLogText(entry) : accessLogLine(entry));
    };
    const fail = (type: GatewayResponseType, resourcePath: string, message?: string) =>
      finish(
        gatewayResponse(
          type,
          api.gatewayResponses,
          { requestId, path: url.pathname, resourcePath, httpMethod: method, stage: api.stageName, apiId },
          message,
        ),
        type,
      );

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > deps.maxBodyBytes) {
      fail('REQUEST_TOO_LARGE', '');
      req.resume();
      return;
    }
    const body = await readBody(req, deps.maxBodyBytes);
    if (body === 'too_large') return fail('REQUEST_TOO_LARGE', '');

    const match = matchRoute(api.routes, method, url.pathname);
    if (match === undefined) return fail('MISSING_AUTHENTICATION_TOKEN', '');
    const route = match.route;
    entry.route = `${route.method} ${route.path}`;
    // Stage throttling (MethodSettings) holds for every caller, before any authorizer runs.
    const stageThrottle = methodThrottleFor(api, route);
    if (stageThrottle !== undefined) {
      const id = `stage ${stageThrottle.httpMethod} ${stageThrottle.resourcePath}`;
      const plan = { id, throttle: stageThrottle.throttle, quota: undefined, keyValues: [] };
      if (usage.take(plan, '') === 'throttled') return fail('THROTTLED', route.path);
    }
    const httpRequest: HttpRequest = {
      method,
      path: url.pathname,
      query: url.search.slice(1),
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    };

    // The resource policy is evaluated first: its explicit Deny stops the request before any
    // authorizer; without an authorizer, the policy must also allow.
    const arn = methodArn(facts, method, url.pathname);
    if (api.resourcePolicy !== undefined) {
      const prefix = `arn:aws:execute-api:${deps.region}:${ACCOUNT_ID}:${apiId}`;
      const verdict = evaluateResourcePolicy(api.resourcePolicy, arn, prefix, httpRequest.sourceIp);
      entry.resourcePolicy = verdict;
      if (verdict === 'explicit_deny' || (verdict === 'no_allow' && route.authorizer === undefined)) {
        const suffix = verdict === 'explicit_deny' ? ' with an explicit deny' : '';
        return fail(
          'ACCESS_DENIED',
          route.path,
          `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arn}${suffix}`,
        );
      }
    }

    let authorizerContext: Record<string, string> | undefined;
    let usageKey: string | undefined;
    const authorizer = route.authorizer === undefined ? undefined : api.authorizers[route.authorizer];
    if (authorizer !== undefined) {
      const outcome: AuthorizeOutcome = await authorize({
        authorizer,
        request: httpRequest,
        match,
        facts,
        methodArn: arn,
        cache,
        now: deps.clock(),
        invoke: async (event) => {
          const result = await deps.pool.invoke(authorizer.functionLogicalId, event);
          entry.authorizerReason = loggedDecision(result.logTail)?.reason;
          return result;
        },
      });
      entry.authorizer = outcome.result;
      entry.cacheHit = outcome.cacheHit;
      if (outcome.result !== 'allow') {
        const type: GatewayResponseType =
          outcome.result === 'explicit_deny' || outcome.result === 'no_allow'
            ? 'ACCESS_DENIED'
            : outcome.result === 'error'
              ? 'AUTHORIZER_CONFIGURATION_ERROR'
              : 'UNAUTHORIZED';
        entry.principal = outcome.answer?.principalId;
        return fail(type, route.path, outcome.result === 'explicit_deny' ? EXPLICIT_DENY_MESSAGE : undefined);
      }
      entry.principal = outcome.answer.principalId;
      authorizerContext = { ...outcome.answer.context, principalId: outcome.answer.principalId };
      usageKey = outcome.answer.usageIdentifierKey;
    }

    let apiKey: { id: string; value: string } | undefined;
    if (route.apiKeyRequired) {
      const key = api.apiKeySource === 'AUTHORIZER' ? usageKey : headerValue(req.rawHeaders, 'x-api-key');
      const plan = await findPlan(api, key, deps.apiKeys);
      if (plan === undefined || key === undefined) return fail('INVALID_API_KEY', route.path);
      const outcome = usage.take(plan, key);
      entry.usage = outcome;
      if (outcome === 'throttled') return fail('THROTTLED', route.path);
      if (outcome === 'quota_exceeded') return fail('QUOTA_EXCEEDED', route.path);
      apiKey = { id: plan.id, value: key };
    }

    const event = proxyEvent(httpRequest, match, facts, authorizerContext, apiKey);
    const result = await deps.pool.invoke(route.functionLogicalId, event);
    entry.integration = loggedDecision(result.logTail);
    if (!result.ok) {
      deps.info(
        `gateway: ${route.functionLogicalId} failed: ${result.error.errorType}: ${result.error.errorMessage}`,
      );
      return fail(
        result.error.errorType === 'Sandbox.Timedout' ? 'INTEGRATION_TIMEOUT' : 'DEFAULT_5XX',
        route.path,
      );
    }
    const reply = proxyResult(result.result);
    if (reply === undefined) return fail('DEFAULT_5XX', route.path);
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of reply.headers)
      headers[name] = values.length === 1 ? (values[0] as string) : [...values];
    res.writeHead(reply.status, {
      ...headers,
      'content-length': reply.body.length,
      'x-amzn-requestid': requestId,
    });
    res.end(reply.body);
    finish(undefined, undefined);
  };
}
