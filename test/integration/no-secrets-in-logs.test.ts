// Every event in events/ (all folders) through every function's REAL bundle, with the log stream
// captured: no token, key, password, hash, DPoP proof, client certificate or Authorization value may
// appear anywhere in the logs.
// The secrets are collected from each event AFTER its placeholders were filled (fresh tokens, keys
// and users), plus the stored hashes of those keys and users and the functions' own secrets.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_QUERY_NAMES } from '../../shared/apigw/credentials.ts';
import { API_KEY_PATTERN, hashSecret, parseApiKey } from '../../shared/credentials/api-key.ts';
import { ensureBuilt } from '../../tools/build.ts';
import { LambdaEnvironment } from '../../tools/lambda/runtime.ts';
import { type LocalServices, startLocalServices } from '../../tools/local/services.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { findFunction, templateFunctions } from '../../tools/template/functions.ts';
import { loadTemplate } from '../../tools/template/template.ts';
import { templateEnvironment } from '../hostile/support/bundle.ts';

const EVENTS_DIR = join(PROJECT_ROOT, 'events');
const template = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));
const FUNCTIONS = templateFunctions(template).map((f) => f.logicalId);
/** Header names whose values are credentials (a DPoP proof is one: it is single-use, and signed). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'dpop']);
/** Shorter strings could occur in logs by chance ("Basic", a scope); no real secret is this short. */
const MIN_SECRET_LENGTH = 8;

/** events/<function>/<case>.json (events/env.json is an environment, not an event). */
function eventFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? eventFiles(join(dir, entry.name))
      : entry.name.endsWith('.json') && dir !== EVENTS_DIR
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every secret a prepared event carries, in every form it could leak in. */
function secretsOf(event: unknown, pepper: string | undefined): Set<string> {
  const out = new Set<string>();
  const add = (value: string) => {
    if (value.length >= MIN_SECRET_LENGTH) out.add(value);
  };
  const credential = (value: string) => {
    add(value);
    const rest = value.replace(/^\s*[A-Za-z]+\s+/, '').trim();
    add(rest);
    if (/^basic\s/i.test(value)) {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      add(decoded);
      add(decoded.slice(decoded.indexOf(':') + 1));
    }
    const parts = rest.split('.');
    if (parts.length === 3) {
      add(parts[2] as string);
      add(`${parts[0]}.${parts[1]}`);
    }
    for (const candidate of [value.trim(), rest]) {
      const match = API_KEY_PATTERN.exec(candidate);
      if (match === null) continue;
      const parsed = parseApiKey(candidate, match[1] as 'live' | 'test');
      if (!parsed.ok) continue;
      add(parsed.secret);
      add(hashSecret(parsed.secret, pepper));
      add(hashSecret(parsed.secret, pepper).split(':')[1] as string);
    }
  };
  const certificate = (pem: string) => {
    add(pem);
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    add(body);
    // Any line of it, as a log could cut or wrap it.
    for (const line of pem.split('\n')) if (!line.startsWith('-----')) add(line.trim());
  };
  const walk = (node: unknown, key: string | undefined, inQuery: boolean) => {
    if (typeof node === 'string') {
      const name = (key ?? '').toLowerCase();
      if (name === 'clientcertpem') certificate(node);
      else if (CREDENTIAL_HEADERS.has(name) || (inQuery && CREDENTIAL_QUERY_NAMES.has(name)))
        credential(node);
      // The HTTP APIs' identity sources also hold the route key ($context.routeKey): not a credential.
      else if (name === 'authorizationtoken' || (name === 'identitysource' && !/^[A-Z]+ \//.test(node)))
        credential(node);
      // Tokens and keys anywhere else (a body, a stage variable) count too.
      else if (/^[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}$/.test(node) || API_KEY_PATTERN.test(node))
        credential(node);
      return;
    }
    if (Array.isArray(node)) {
      for (const item of node) walk(item, key, inQuery);
      return;
    }
    if (typeof node === 'object' && node !== null)
      for (const [k, v] of Object.entries(node)) walk(v, k, inQuery || /querystring/i.test(k));
  };
  walk(event, undefined, false);
  return out;
}

let services: LocalServices;
const runtimes = new Map<string, LambdaEnvironment>();
const logs = new Map<string, string>();
const secrets = new Set<string>();
const invocations = new Map<string, number>();
const files = eventFiles(EVENTS_DIR);

beforeAll(async () => {
  const envs = FUNCTIONS.map((id) => templateEnvironment(id));
  services = await startLocalServices(envs, { inMemory: true });
  for (const [i, id] of FUNCTIONS.entries()) {
    const fn = findFunction(template, id);
    const built = await ensureBuilt(fn);
    const env = services.environmentFor(envs[i] as Record<string, string>);
    logs.set(id, '');
    for (const name of ['API_KEY_PEPPER', 'UPSTREAM_SIGNING_SECRET'])
      if ((env[name] ?? '').length >= MIN_SECRET_LENGTH) secrets.add(env[name] as string);
    runtimes.set(
      id,
      new LambdaEnvironment(
        {
          logicalId: id,
          bundle: built.bundle,
          exportName: built.exportName,
          env,
          timeoutSeconds: fn.timeoutSeconds,
          memoryMb: fn.memoryMb,
          region: 'us-east-1',
          accountId: '123456789012',
        },
        (chunk) => logs.set(id, `${logs.get(id)}${chunk}`),
      ),
    );
  }
  const keyEnv = envs.find((e) => 'CREDENTIALS_TABLE' in e);
  const pepper = keyEnv?.API_KEY_PEPPER === '' ? undefined : keyEnv?.API_KEY_PEPPER;
  for (const file of files) {
    const event = await services.prepareEvent(JSON.parse(readFileSync(file, 'utf8')));
    for (const s of secretsOf(event, pepper)) secrets.add(s);
    // Stored password hashes of the users the placeholders created, and every credential's usage
    // key value (returned as usageIdentifierKey, never logged).
    for (const user of (await services.credentialStore?.listUsers()) ?? []) {
      secrets.add(user.hash);
      if (user.usageKey !== undefined) secrets.add(user.usageKey.value);
    }
    for (const key of (await services.credentialStore?.listKeys()) ?? [])
      if (key.usageKey !== undefined) secrets.add(key.usageKey.value);
    for (const id of FUNCTIONS) {
      await runtimes.get(id)?.invoke(event);
      invocations.set(id, (invocations.get(id) ?? 0) + 1);
    }
  }
}, 300_000);

afterAll(async () => {
  for (const runtime of runtimes.values()) await runtime.close();
  await services?.close();
});

describe('no secrets in logs', () => {
  it('ran every event of every folder through every function', () => {
    const folders = new Set(files.map((f) => relative(EVENTS_DIR, f).split('/')[0]));

    expect(folders.size).toBeGreaterThanOrEqual(3);
    for (const id of FUNCTIONS) expect(invocations.get(id)).toBe(files.length);
    // Enough secrets were found for the search to mean something (tokens, keys, Basic users).
    expect(secrets.size).toBeGreaterThan(files.length);
  });

  it.each(FUNCTIONS)('%s logged one decision per invocation and none of the secrets', (id) => {
    const text = logs.get(id) ?? '';
    const leaked = [...secrets].filter((s) => text.includes(s));

    expect(text.match(/"message":"decision"/g)?.length ?? 0).toBe(files.length);
    expect(leaked).toEqual([]);
    expect(text).not.toMatch(/"authorization"\s*:/i);
    expect(text).not.toMatch(/"x-api-key"\s*:/i);
    expect(text).not.toMatch(/"dpop"\s*:/i);
    expect(text).not.toContain('BEGIN CERTIFICATE');
  });

  it('searched the DPoP proofs and client certificates of the sender-constrained events', () => {
    const sender = files.filter((f) => /-(dpop|mtls)-/.test(f));

    expect(sender.length).toBeGreaterThanOrEqual(10);
    expect([...secrets].some((s) => s.startsWith('-----BEGIN CERTIFICATE-----'))).toBe(true);
    // A proof's header is base64url of {"typ":"dpop+jwt",...}.
    expect([...secrets].some((s) => s.startsWith('eyJ0eXAiOiJkcG9wK2p3dCI'))).toBe(true);
  });
});
