/**
 * The local IAM credentials `AWS_IAM` routes are verified against. Nothing reaches AWS: each entry
 * is an access key pair and the principal it stands for.
 *
 * - `{ "user": "name" }`: an IAM user `arn:aws:iam::{account}:user/{name}`; its identity policy is
 *   `policy` (statements) or, without one, `execute-api:Invoke` on everything.
 * - `{ "role": "LogicalId" }`: a session of the template's `AWS::IAM::Role` of that logical ID
 *   (`arn:aws:sts::{account}:assumed-role/{RoleName}/{session}`); its identity policy is the role's
 *   inline `Policies` plus the `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` resources attached to
 *   it, resolved for the local stack. A statement the gateway cannot evaluate (conditions,
 *   `NotAction`, `NotResource`, AWS managed policy ARNs) is refused at start-up.
 *
 * `npm start` reads them from `.gatehouse/iam/credentials.json`, created on first start with one
 * random developer key pair (the banner prints it). See docs/local-gateway.md#iam-routes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { STATE_DIR } from '../paths.ts';
import { type LocalStack, resolveValue } from '../template/resolve.ts';
import { TemplateError } from '../template/template.ts';
import { deployed, list, obj } from './model.ts';
import type { LocalIamCredential } from './sigv4.ts';

/** One entry of the credentials file. */
export interface IamCredentialConfig {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** An IAM user name (exactly one of `user` and `role`). */
  readonly user?: string;
  /** The logical ID of an `AWS::IAM::Role` of the template. */
  readonly role?: string;
  /** Session name of a role entry (default `local`). */
  readonly session?: string;
  /** A user's identity policy statements (default: `execute-api:Invoke` on `*`). */
  readonly policy?: readonly unknown[];
  /** Account of the principal (default the local account): another account is cross-account. */
  readonly accountId?: string;
}

/** The credentials file: `{ "credentials": [ ... ] }`. */
export interface IamCredentialsFile {
  readonly credentials: readonly IamCredentialConfig[];
}

/** Where `npm start` keeps the local credentials. */
export const DEFAULT_IAM_CREDENTIALS_FILE = join(STATE_DIR, 'iam', 'credentials.json');

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out.slice(0, prefix.length + length);
}

/** A fresh developer key pair (`AKIA…`, 40-character secret), for an admin-like local user. */
export function newDeveloperCredential(): IamCredentialConfig {
  return {
    accessKeyId: randomId('AKIA', 16),
    secretAccessKey: randomBytes(30).toString('base64'),
    user: 'gatehouse-developer',
  };
}

/** Reads the credentials file, creating it with one developer key pair when it does not exist. */
export function loadOrCreateCredentialsFile(file = DEFAULT_IAM_CREDENTIALS_FILE): IamCredentialsFile {
  if (!existsSync(file)) {
    const created: IamCredentialsFile = { credentials: [newDeveloperCredential()] };
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return created;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TemplateError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const credentials = obj(parsed).credentials;
  if (!Array.isArray(credentials)) throw new TemplateError(`${file}: "credentials" must be a list`);
  return { credentials: credentials as IamCredentialConfig[] };
}

/** A stable principal id from the principal's name (AWS ids are opaque; tests need them stable). */
function principalId(prefix: string, name: string): string {
  const digest = createHash('sha256').update(name).digest();
  let out = prefix;
  for (let i = 0; out.length < prefix.length + 17; i++)
    out += ALPHABET[(digest[i] as number) % ALPHABET.length];
  return out;
}

type Statement = LocalIamCredential['statements'][number];

function statementsOf(where: string, document: unknown): Statement[] {
  const out: Statement[] = [];
  for (const raw of list(obj(document).Statement)) {
    const s = obj(raw);
    const strings = (v: unknown) => list(v).map(String);
    const actions = strings(s.Action);
    // Only statements about execute-api matter to the gateway; the rest are checked by IAM in AWS.
    const aboutInvoke = actions.some((a) => /^(\*|execute-api:.*)$/i.test(a)) || s.NotAction !== undefined;
    if (!aboutInvoke) continue;
    for (const key of ['Condition', 'NotAction', 'NotResource', 'NotPrincipal'])
      if (s[key] !== undefined)
        throw new TemplateError(
          `${where}: ${key} in an execute-api statement is not evaluated by the local gateway (docs/local-gateway.md#iam-routes)`,
        );
    const effect = s.Effect === 'Deny' ? 'Deny' : s.Effect === 'Allow' ? 'Allow' : undefined;
    if (effect === undefined) throw new TemplateError(`${where}: Effect must be Allow or Deny`);
    out.push({ effect, actions, resources: strings(s.Resource) });
  }
  return out;
}

function roleStatements(stack: LocalStack, roleId: string): { statements: Statement[]; roleName: string } {
  const resources = stack.template.Resources;
  const role = resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role' || !deployed(stack, role))
    throw new TemplateError(`IAM credential role ${roleId} is not an AWS::IAM::Role of the template`);
  const props = obj(resolveValue(stack, role.Properties ?? {}));
  if (list(props.ManagedPolicyArns).length > 0)
    throw new TemplateError(
      `${roleId}.ManagedPolicyArns: managed policies outside the template are not evaluated by the local gateway (docs/local-gateway.md#iam-routes)`,
    );
  if (props.PermissionsBoundary !== undefined)
    throw new TemplateError(
      `${roleId}.PermissionsBoundary is not evaluated by the local gateway (docs/local-gateway.md#iam-routes)`,
    );
  const statements: Statement[] = [];
  for (const [i, p] of list(props.Policies).entries())
    statements.push(...statementsOf(`${roleId}.Policies[${i}]`, obj(p).PolicyDocument));
  for (const [id, other] of Object.entries(resources)) {
    if (
      (other.Type !== 'AWS::IAM::Policy' && other.Type !== 'AWS::IAM::ManagedPolicy') ||
      !deployed(stack, other)
    )
      continue;
    const p = obj(resolveValue(stack, other.Properties ?? {}));
    if (list(p.Roles).some((r) => r === roleId)) statements.push(...statementsOf(id, p.PolicyDocument));
  }
  return { statements, roleName: typeof props.RoleName === 'string' ? props.RoleName : roleId };
}

/** Turns the file's entries into verifiable credentials (template roles resolved). */
export function localCredentials(
  entries: readonly IamCredentialConfig[],
  stack: LocalStack,
  where = 'IAM credentials',
): LocalIamCredential[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const at = `${where}[${i}]`;
    if (typeof e.accessKeyId !== 'string' || !/^[A-Z0-9]{16,128}$/.test(e.accessKeyId))
      throw new TemplateError(`${at}.accessKeyId must be 16 to 128 upper-case letters and digits`);
    if (typeof e.secretAccessKey !== 'string' || e.secretAccessKey.length < 16)
      throw new TemplateError(`${at}.secretAccessKey must be at least 16 characters`);
    if (seen.has(e.accessKeyId))
      throw new TemplateError(`${at}.accessKeyId ${e.accessKeyId} is listed twice`);
    seen.add(e.accessKeyId);
    if ((e.user === undefined) === (e.role === undefined))
      throw new TemplateError(`${at} must name exactly one of "user" and "role"`);
    const accountId = e.accountId ?? stack.accountId;
    if (!/^\d{12}$/.test(accountId)) throw new TemplateError(`${at}.accountId must be 12 digits`);
    if (e.user !== undefined) {
      const statements =
        e.policy === undefined
          ? [{ effect: 'Allow' as const, actions: ['execute-api:Invoke'], resources: ['*'] }]
          : statementsOf(`${at}.policy`, { Statement: e.policy });
      return {
        accessKeyId: e.accessKeyId,
        secretAccessKey: e.secretAccessKey,
        principal: {
          arn: `arn:aws:iam::${accountId}:user/${e.user}`,
          accountId,
          userId: principalId('AIDA', `${accountId}/${e.user}`),
        },
        statements,
      };
    }
    const { statements, roleName } = roleStatements(stack, e.role as string);
    const session = e.session ?? 'local';
    return {
      accessKeyId: e.accessKeyId,
      secretAccessKey: e.secretAccessKey,
      principal: {
        arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`,
        accountId,
        userId: `${principalId('AROA', `${accountId}/${roleName}`)}:${session}`,
      },
      statements,
    };
  });
}
