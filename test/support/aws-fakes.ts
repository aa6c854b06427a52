/**
 * Loopback fakes of the two AWS control-plane APIs the credentials CLIs call, speaking their wire
 * protocols as the SDK does (not mocks of the SDK):
 * - API Gateway (REST-JSON): CreateApiKey, CreateUsagePlanKey, UpdateApiKey, DeleteApiKey,
 *   GetUsagePlans, with API Gateway's rules (a key value is unique, a key joins at most one plan per
 *   stage, deleting a key takes it out of its plans) and its error shape (`x-amzn-ErrorType`);
 * - CloudFormation (awsQuery, XML): DescribeStacks.
 * Every request must be SigV4-signed for the right service, or it is refused.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A usage plan of the fake, on some API stages (`apiId/stage`). */
export interface FakePlan {
  readonly id: string;
  readonly name: string;
  readonly stages: readonly string[];
}

/** An API key as the fake keeps it. */
export interface FakeApiKey {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly value: string;
  enabled: boolean;
}

/** API Gateway operations, as the fake names them in {@link ApiGatewayFake.calls} and faults. */
export type ApiGatewayOperation =
  | 'CreateApiKey'
  | 'CreateUsagePlanKey'
  | 'UpdateApiKey'
  | 'DeleteApiKey'
  | 'GetUsagePlans';

/** A running API Gateway fake. */
export interface ApiGatewayFake {
  readonly endpoint: string;
  /** Keys by id. */
  readonly keys: Map<string, FakeApiKey>;
  /** Plan id → key ids. */
  readonly planKeys: Map<string, Set<string>>;
  /** Operations received, in order. */
  readonly calls: ApiGatewayOperation[];
  /** The next call of `operation` answers this error instead (once). */
  failNext(operation: ApiGatewayOperation, status: number, type: string): void;
  /** Plan ids a key belongs to. */
  plansOf(keyId: string): string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** True when the request carries a SigV4 signature for `service`. */
function signedFor(req: IncomingMessage, service: string): boolean {
  const auth = req.headers.authorization ?? '';
  return new RegExp(`^AWS4-HMAC-SHA256 Credential=[^/]+/\\d{8}/[a-z0-9-]+/${service}/aws4_request,`).test(
    auth,
  );
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Starts the API Gateway fake with these usage plans; GetUsagePlans pages by `pageSize` at most. */
export async function startApiGatewayFake(
  plans: readonly FakePlan[],
  options: { pageSize?: number } = {},
): Promise<ApiGatewayFake> {
  const keys = new Map<string, FakeApiKey>();
  const planKeys = new Map(plans.map((p) => [p.id, new Set<string>()]));
  const calls: ApiGatewayOperation[] = [];
  const faults = new Map<ApiGatewayOperation, { status: number; type: string }>();

  const send = (res: ServerResponse, status: number, json?: unknown) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomBytes(8).toString('hex'),
    });
    res.end(json === undefined ? '' : JSON.stringify(json));
  };
  const error = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    res.end(JSON.stringify({ message }));
  };
  const apiKeyJson = (k: FakeApiKey) => ({
    id: k.id,
    name: k.name,
    description: k.description,
    value: k.value,
    enabled: k.enabled,
    createdDate: Math.floor(Date.now() / 1000),
    stageKeys: [],
  });

  const server = createServer(async (req, res) => {
    const text = await body(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const operation: ApiGatewayOperation | undefined =
      method === 'POST' && path === '/apikeys'
        ? 'CreateApiKey'
        : method === 'POST' && /^\/usageplans\/[^/]+\/keys$/.test(path)
          ? 'CreateUsagePlanKey'
          : method === 'PATCH' && /^\/apikeys\/[^/]+$/.test(path)
            ? 'UpdateApiKey'
            : method === 'DELETE' && /^\/apikeys\/[^/]+$/.test(path)
              ? 'DeleteApiKey'
              : method === 'GET' && path === '/usageplans'
                ? 'GetUsagePlans'
                : undefined;
    if (operation === undefined) return error(res, 404, 'NotFoundException', `no route ${method} ${path}`);
    if (!signedFor(req, 'apigateway'))
      return error(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    calls.push(operation);
    const fault = faults.get(operation);
    if (fault !== undefined) {
      faults.delete(operation);
      return error(res, fault.status, fault.type, `injected ${fault.type}`);
    }
    const input = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    switch (operation) {
      case 'CreateApiKey': {
        const value = typeof input.value === 'string' ? input.value : randomBytes(20).toString('hex');
        if (value.length < 20)
          return error(res, 400, 'BadRequestException', 'API Key value should be at least 20 characters');
        if ([...keys.values()].some((k) => k.value === value))
          return error(res, 409, 'ConflictException', 'API Key already exists');
        const key: FakeApiKey = {
          id: randomBytes(5).toString('hex'),
          name: String(input.name ?? ''),
          description: String(input.description ?? ''),
          value,
          enabled: input.enabled === true,
        };
        keys.set(key.id, key);
        return send(res, 201, apiKeyJson(key));
      }
      case 'CreateUsagePlanKey': {
        const planId = decodeURIComponent(path.split('/')[2] as string);
        const plan = plans.find((p) => p.id === planId);
        if (plan === undefined)
          return error(res, 404, 'NotFoundException', 'Invalid Usage Plan ID specified');
        if (input.keyType !== 'API_KEY') return error(res, 400, 'BadRequestException', 'Invalid key type');
        const key = keys.get(String(input.keyId));
        if (key === undefined)
          return error(res, 404, 'NotFoundException', 'Invalid API Key identifier specified');
        // An API key can be in at most one usage plan per API stage.
        const clash = plans.some(
          (p) => planKeys.get(p.id)?.has(key.id) === true && p.stages.some((s) => plan.stages.includes(s)),
        );
        if (clash)
          return error(
            res,
            409,
            'ConflictException',
            'Usage Plan already contains a key for the same API stage',
          );
        planKeys.get(plan.id)?.add(key.id);
        return send(res, 201, { id: key.id, type: 'API_KEY', value: key.value, name: key.name });
      }
      case 'UpdateApiKey': {
        const key = keys.get(decodeURIComponent(path.split('/')[2] as string));
        if (key === undefined)
          return error(res, 404, 'NotFoundException', 'Invalid API Key identifier specified');
        for (const op of (input.patchOperations ?? []) as { op: string; path: string; value?: string }[]) {
          if (op.op !== 'replace' || op.path !== '/enabled' || (op.value !== 'true' && op.value !== 'false'))
            return error(res, 400, 'BadRequestException', `Invalid patch operation ${op.op} ${op.path}`);
          key.enabled = op.value === 'true';
        }
        return send(res, 200, apiKeyJson(key));
      }
      case 'DeleteApiKey': {
        const id = decodeURIComponent(path.split('/')[2] as string);
        if (!keys.delete(id))
          return error(res, 404, 'NotFoundException', 'Invalid API Key identifier specified');
        for (const members of planKeys.values()) members.delete(id);
        return send(res, 202);
      }
      case 'GetUsagePlans': {
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 25), options.pageSize ?? 25);
        const start = Number(url.searchParams.get('position') ?? 0);
        const page = plans.slice(start, start + limit);
        const next = start + limit < plans.length ? String(start + limit) : undefined;
        return send(res, 200, {
          item: page.map((p) => ({
            id: p.id,
            name: p.name,
            apiStages: p.stages.map((s) => ({ apiId: s.split('/')[0], stage: s.split('/')[1] })),
          })),
          ...(next === undefined ? {} : { position: next }),
        });
      }
    }
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    keys,
    planKeys,
    calls,
    failNext: (operation, status, type) => faults.set(operation, { status, type }),
    plansOf: (keyId) => [...planKeys].filter(([, members]) => members.has(keyId)).map(([id]) => id),
    close: closer(server),
  };
}

/** A running CloudFormation fake. */
export interface CloudFormationFake {
  readonly endpoint: string;
  /** Stack names asked for, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Starts the CloudFormation fake with these stacks (name → outputs). */
export async function startCloudFormationFake(
  stacks: Readonly<Record<string, Readonly<Record<string, string>>>>,
): Promise<CloudFormationFake> {
  const asked: string[] = [];
  const server = createServer(async (req, res) => {
    const form = new URLSearchParams(await body(req));
    const reply = (status: number, text: string) => {
      res.writeHead(status, {
        'content-type': 'text/xml',
        'x-amzn-requestid': randomBytes(8).toString('hex'),
      });
      res.end(text);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(
        status,
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
      );
    if (!signedFor(req, 'cloudformation')) return fail(403, 'MissingAuthenticationToken', 'not signed');
    if (form.get('Action') !== 'DescribeStacks')
      return fail(400, 'InvalidAction', String(form.get('Action')));
    const name = form.get('StackName') ?? '';
    asked.push(name);
    const outputs = stacks[name];
    if (outputs === undefined) return fail(400, 'ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs)
      .map(
        ([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`,
      )
      .join('');
    reply(
      200,
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xml(name)}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  });
  const endpoint = await listen(server);
  return { endpoint, asked, close: closer(server) };
}
