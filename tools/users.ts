/**
 * Manages HTTP Basic users in the credentials table, each with its own API Gateway usage key:
 *
 *   npm run users -- create <username> --scopes 'orders:read' [--tier basic] [--cidr <range>]...
 *                            [--client <id>] [--tenant <id>] [--password-stdin]
 *   npm run users -- passwd <username> [--password-stdin] | lock <username> | unlock <username>
 *                  | revoke <username> | delete <username> | list | migrate
 *
 * Passwords are never taken from the command line (shell history, `ps`): without
 * `--password-stdin` a random one is generated and printed exactly once. Target flags and exit
 * status as for `npm run keys` (see tools/keys.ts).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  attachMissingUsageKeys,
  checkGrantAgainst,
  createUser,
  deleteUser,
  describeUser,
  setPassword,
  setUserStatus,
} from '../shared/credentials/admin.ts';
import { createPasswordHasher, type PasswordHasher } from '../shared/credentials/password.ts';
import type { UsageKeyRegistry } from '../shared/credentials/usage-keys.ts';
import { type CliName, cliProgram, collectValue, parseCommandLine, runCli } from './cli/program.ts';
import {
  attachFailed,
  type CliIo,
  CliUsageError,
  describeAttach,
  grantCatalog,
  PROCESS_IO,
  runAgainstTarget,
  splitList,
  type TargetValues,
  usageFailure,
  usageKeysForNew,
  withTargetOptions,
} from './keys.ts';

const USERS_NAME: CliName = { tool: 'users', invocation: 'npm run users --' };

/** The `npm run users` command line. */
export function usersProgram(): Command {
  return withTargetOptions(
    cliProgram(USERS_NAME, 'Manage HTTP Basic users in the credentials table.')
      .argument('<command>', 'create, passwd, lock, unlock, revoke, delete, list or migrate')
      .argument('[username]', 'the user (every command but list and migrate)')
      .option(
        '--scopes <scopes>',
        "create: scopes the API document defines, space- or comma-separated ('orders:read'; required)",
      )
      .option('--tier <tier>', 'create: a usage plan tier the stack defines (default basic)')
      .option('--cidr <range>', 'create: allowed source range (repeatable)', collectValue)
      .option('--client <id>', 'create: client id reported to the API (default the username)')
      .option('--tenant <id>', 'create: the tenant the user acts for (tenant-bound paths)')
      .option('--password-stdin', 'create, passwd: read the password from stdin (else one is generated)')
      .option('--no-usage-key', 'create: no usage key of its own (only for APIs that require no API key)'),
  ).addHelpText(
    'after',
    `
Commands:
  create <username> --scopes 'a b' [--tier basic] [--cidr <range>]... [--client <id>] [--tenant <id>]
         [--password-stdin]
  passwd <username> [--password-stdin]
  lock <username> | unlock <username>    unlock also enables the user's usage key
  revoke <username>                      also disables the user's usage key
  delete <username>                      also deletes the user's usage key
  list
  migrate                                gives every user without a usage key its own

Target flags as for npm run keys (--stack <name>, --table, --endpoint, --usage-plan).`,
  );
}

/** Parsed `npm run users` options. */
interface UsersValues extends TargetValues {
  readonly scopes?: string;
  readonly tier?: string;
  readonly cidr?: string[];
  readonly client?: string;
  readonly tenant?: string;
  readonly passwordStdin?: true;
  /** false with `--no-usage-key`. */
  readonly usageKey: boolean;
}

/** Runs `users` with the given arguments; returns the exit status. */
export async function usersCli(
  argv: readonly string[],
  io: CliIo & { readonly stdin?: () => string } = PROCESS_IO,
  hasher: PasswordHasher = createPasswordHasher(),
): Promise<number> {
  try {
    const { options: values, operands: positionals } = parseCommandLine<UsersValues>(usersProgram(), argv);
    const command = positionals[0];
    const print = (json: unknown, human: string) =>
      io.out(values.json ? JSON.stringify(json, null, 2) : human);
    const now = io.now();
    const username = () => {
      const name = positionals[1];
      if (name === undefined) throw new CliUsageError(`${command} needs a username`);
      return name;
    };
    const password = () => {
      if (!values.passwordStdin) return undefined;
      // One line from stdin; the trailing newline of `echo` / a here-string is not part of it.
      const text = (io.stdin ?? (() => readFileSync(0, 'utf8')))();
      return text.replace(/\r?\n$/, '');
    };
    const shownOnce = (secret: string, generated: boolean) =>
      generated ? `\nthe password is shown once, store it now:\n\n  ${secret}\n` : '';
    switch (command) {
      case 'create': {
        const name = username();
        const given = password();
        const grant = { scopes: splitList(values.scopes), tier: values.tier ?? 'basic' };
        return await runAgainstTarget(
          values,
          async (target) => {
            checkGrantAgainst(grant, grantCatalog(target));
            const usageKeys = await usageKeysForNew(target, values.usageKey);
            const issued = await createUser(
              target.store,
              hasher,
              {
                username: name,
                password: given,
                clientId: values.client,
                ...grant,
                allowedCidrs: values.cidr ?? [],
                usageKeys,
                tenant: values.tenant,
              },
              now,
            );
            const usage = issued.record.usageKey;
            print(
              {
                ...describeUser(issued.record, now),
                ...(given === undefined ? { password: issued.secret } : {}),
              },
              `created user ${name}${
                usage === undefined
                  ? ' without a usage key: APIs that require API keys refuse it'
                  : ` (tier ${issued.record.tier}: its own usage key ${usage.id})`
              }${shownOnce(issued.secret, given === undefined)}`,
            );
            return 0;
          },
          io,
        );
      }
      case 'passwd': {
        const name = username();
        const given = password();
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const issued = await setPassword(store, hasher, name, given);
            print(
              {
                ...describeUser(issued.record, now),
                ...(given === undefined ? { password: issued.secret } : {}),
              },
              `changed the password of ${name}${shownOnce(issued.secret, given === undefined)}`,
            );
            return 0;
          },
          io,
        );
      }
      case 'lock':
      case 'unlock':
      case 'revoke': {
        const name = username();
        return await runAgainstTarget(
          values,
          async ({ store, usageKeys }) => {
            const record = await setUserStatus(store, name, command, usageKeys);
            print(
              describeUser(record, now),
              `${command === 'revoke' ? 'revoked' : `${command}ed`} user ${name}`,
            );
            return 0;
          },
          io,
        );
      }
      case 'delete': {
        const name = username();
        return await runAgainstTarget(
          values,
          async ({ store, usageKeys }) => {
            await deleteUser(store, name, usageKeys);
            print({ username: name, deleted: true }, `deleted user ${name}`);
            return 0;
          },
          io,
        );
      }
      case 'migrate':
        return await runAgainstTarget(
          values,
          async (target) => {
            const usageKeys = await usageKeysForNew(target, true);
            const report = await attachMissingUsageKeys(target.store, 'user', usageKeys as UsageKeyRegistry);
            print(report, describeAttach(report, 'user').join('\n'));
            return attachFailed(report) ? 1 : 0;
          },
          io,
        );
      case 'list':
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const users = (await store.listUsers()).map((u) => describeUser(u, now));
            const rows = users.map(
              (u) =>
                `${String(u.username).padEnd(24)} ${String(u.status).padEnd(10)} ${String(u.tier).padEnd(8)} ${String(u.usageKeyId ?? '(no usage key)').padEnd(14)} ${(u.scopes as string[]).join(' ')}`,
            );
            print(users, users.length === 0 ? 'no users' : rows.join('\n'));
            return 0;
          },
          io,
        );
      default:
        throw new CliUsageError(`unknown command ${command}`);
    }
  } catch (e) {
    return usageFailure(e, USERS_NAME, io);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(USERS_NAME, (argv) => usersCli(argv));
