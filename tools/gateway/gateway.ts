/**
 * The local gateway: serves every `AWS::Serverless::Api` of template.yaml on loopback the way API
 * Gateway (REST) would, with the real bundled authorizers and integrations running as warm local
 * Lambda environments. `startGateway` is the programmatic entry point (tests start it on port 0);
 * `start.ts` is the CLI.
 */
import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { buildFunction, ensureBuilt, upToDate } from '../build.ts';
import { generate } from '../generate.ts';
import { DEFAULT_ISSUER_PORT } from '../issuer/local-issuer.ts';
import { type InitError, LambdaEnvironment, type LogSink } from '../lambda/runtime.ts';
import { type DemoBackend, startDemoBackend } from '../local/demo-backend.ts';
import { type LocalServices, startLocalServices } from '../local/services.ts';
import { documentPath, readDocumentSettings } from '../openapi/settings.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { type FunctionDefinition, functionEnvironment, templateFunctions } from '../template/functions.ts';
import { isDynamicReference, LOCAL_ACCOUNT_ID, type LocalStack, localStack } from '../template/resolve.ts';
import { loadTemplate, TemplateError } from '../template/template.ts';
import type { AccessLogFormat } from './access-log.ts';
import { httpApiHandler } from './http-api-handler.ts';
import { type HttpApiModel, readHttpApis } from './http-api-model.ts';
import {
  DEFAULT_IAM_CREDENTIALS_FILE,
  type IamCredentialConfig,
  loadOrCreateCredentialsFile,
  localCredentials,
} from './iam-credentials.ts';
import { type ApiModel, localApiId, readApis } from './model.ts';
import type { HandlerDeps } from './request-io.ts';
import { restApiHandler } from './rest-handler.ts';
import type { LocalIamCredential } from './sigv4.ts';
import { cachedApiKeyLookup } from './usage-plans.ts';

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
  /**
   * Local IAM credentials `AWS_IAM` routes are verified against; default: the entries of
   * `iamCredentialsFile`.
   */
  readonly iamCredentials?: readonly IamCredentialConfig[];
  /** Where the local IAM credentials are kept (created on first use); default `.gatehouse/iam/credentials.json`. */
  readonly iamCredentialsFile?: string;
}

/** One served API. */
export interface ServedApi {
  readonly logicalId: string;
  /** `rest` (AWS::Serverless::Api) or `http` (AWS::Serverless::HttpApi). */
  readonly kind: 'rest' | 'http';
  readonly url: string;
  readonly stageName: string;
  /** Logical IDs of the functions that authorize its routes. */
  readonly authorizerFunctions: readonly string[];
  /** Whether some route is `AWS_IAM` (SigV4-signed requests only). */
  readonly iamRoutes: boolean;
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
  /** Region of the ARNs and of SigV4 credential scopes. */
  readonly region: string;
  /** The local IAM credentials (empty when no route is `AWS_IAM`); the banner prints them. */
  readonly iamCredentials: readonly {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly principalArn: string;
  }[];
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

/** Starts the gateway: builds bundles if needed, starts local services, listens. */
export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const region = options.region ?? 'us-east-1';
  // First: the generation also writes template.yaml's routes from the document (docs/deploy.md#routes-follow-the-document).
  await generate({ root: PROJECT_ROOT, openapi: options.openapi, check: false });
  const templateFile = resolve(PROJECT_ROOT, options.template ?? 'template.yaml');
  const template = loadTemplate(templateFile);
  const stack: LocalStack = localStack(template, options.parameterOverrides ?? {}, {
    region,
    // Locally a resource is named by its logical ID (the embedded DynamoDB's tables); an API by its
    // local id, so that ARNs written in the template (IAM policies) match the gateway's.
    resourceRef: (logicalId, attribute) =>
      attribute === undefined &&
      /^AWS::Serverless::(Http)?Api$/.test(template.Resources[logicalId]?.Type ?? '')
        ? localApiId(logicalId)
        : logicalId,
  });
  const restApis = readApis(template, stack);
  const httpApis = readHttpApis(template, stack);
  // Served in template order (implicit APIs first): the first on --port, the next on port+1, ...
  const order = Object.keys(template.Resources);
  const position = (id: string) => (order.includes(id) ? order.indexOf(id) : -1);
  const apis: (ApiModel | HttpApiModel)[] = [...restApis, ...httpApis].sort(
    (a, b) => position(a.logicalId) - position(b.logicalId),
  );
  if (apis.length === 0)
    throw new TemplateError('the template declares no AWS::Serverless::Api or AWS::Serverless::HttpApi');
  const functions = new Map(templateFunctions(template).map((f) => [f.logicalId, f]));
  const routesOf = (a: ApiModel | HttpApiModel) =>
    a.routes as readonly { functionLogicalId: string; iam?: boolean }[];
  const integrationIds = new Set(
    apis.flatMap((a) => routesOf(a).map((r) => r.functionLogicalId)).filter((id) => id !== ''),
  );
  const authorizerIds = new Set(
    apis.flatMap((a) =>
      Object.values(a.authorizers).map((z: { functionLogicalId: string }) => z.functionLogicalId),
    ),
  );
  const used = [...new Set([...authorizerIds, ...integrationIds])];
  for (const id of used)
    if (!functions.has(id)) throw new TemplateError(`${id} is referenced by an API but is not a function`);
  const needsIam = apis.some((a) => routesOf(a).some((r) => r.iam === true));
  const credentials: LocalIamCredential[] = needsIam
    ? localCredentials(
        options.iamCredentials ??
          loadOrCreateCredentialsFile(options.iamCredentialsFile ?? DEFAULT_IAM_CREDENTIALS_FILE).credentials,
        stack,
        options.iamCredentials === undefined
          ? (options.iamCredentialsFile ?? DEFAULT_IAM_CREDENTIALS_FILE)
          : 'iamCredentials',
      )
    : [];
  const credentialByKey = new Map(credentials.map((c) => [c.accessKeyId, c]));
  const wafNotes = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::WAFv2::WebACLAssociation')
    .map(
      ([id]) => `${id}: AWS WAF rules are not run by the local gateway (docs/local-gateway.md#not-emulated)`,
    );

  const info = options.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const accessLog = options.accessLog ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? Date.now;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };

  try {
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

    for (const note of [...apis.flatMap((a) => a.notes ?? []), ...wafNotes]) info(`gateway: ${note}`);
    const caches: { clear(): void }[] = [];
    // The usage keys `npm run keys` / `users` made locally, one per credential.
    const apiKeys =
      services.apiKeys === undefined ? undefined : cachedApiKeyLookup(services.apiKeys, Date.now);
    const served: ServedApi[] = [];
    const basePort = options.port ?? 3000;
    const host = options.host ?? '127.0.0.1';
    for (const [index, api] of apis.entries()) {
      let port = 0;
      const deps: HandlerDeps = {
        invoke: (id, event) => pool.invoke(id, event),
        clock,
        region,
        accountId: ACCOUNT_ID,
        accessLog,
        accessLogFormat: options.accessLogFormat ?? 'json',
        info,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        caches,
        iamCredential: (key) => credentialByKey.get(key),
        port: () => port,
        apiKeys,
      };
      const handler = 'kind' in api ? httpApiHandler(api, deps) : restApiHandler(api, deps);
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
      port = (server.address() as AddressInfo).port;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      served.push({
        logicalId: api.logicalId,
        kind: 'kind' in api ? 'http' : 'rest',
        url: `http://${shownHost}:${port}`,
        stageName: api.stageName,
        authorizerFunctions: [
          ...new Set(
            Object.values(api.authorizers).map((z: { functionLogicalId: string }) => z.functionLogicalId),
          ),
        ],
        iamRoutes: routesOf(api).some((r) => r.iam === true),
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
      region,
      iamCredentials: credentials.map((c) => ({
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        principalArn: c.principal.arn,
      })),
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
