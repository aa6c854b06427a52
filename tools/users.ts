/**
 * Manages HTTP Basic users in the credentials table:
 *
 *   npm run users -- create <username> [--scopes 'orders:read'] [--tier basic] [--cidr <range>]...
 *                            [--client <id>] [--password-stdin]
 *   npm run users -- passwd <username> [--password-stdin] | lock <username> | unlock <username>
 *                  | revoke <username> | list
 *
 * Passwords are never taken from the command line (shell history, `ps`): without
 * `--password-stdin` a random one is generated and printed exactly once. Target flags and exit
 * status as for `npm run keys` (see tools/keys.ts).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createUser, describeUser, setPassword, setUserStatus } from '../shared/credentials/admin.ts';
import { createPasswordHasher, type PasswordHasher } from '../shared/credentials/password.ts';
import { type CliName, cliProgram, collectValue, parseCommandLine, runCli } from './cli/program.ts';
import {
  type CliIo,
  CliUsageError,
  PROCESS_IO,
  runAgainstTarget,
  splitList,
  type TargetValues,
  usageFailure,
  withTargetOptions,
} from './keys.ts';

const USERS_NAME: CliName = { tool: 'users', invocation: 'npm run users --' };

/** The `npm run users` command line. */
export function usersProgram(): Command {
  return withTargetOptions(
    cliProgram(USERS_NAME, 'Manage HTTP Basic users in the credentials table.')
      .argument('<command>', 'create, passwd, lock, unlock, revoke or list')
      .argument('[username]', 'the user (every command but list)')
      .option('--scopes <scopes>', "create: scopes, space- or comma-separated ('orders:read')")
      .option('--tier <tier>', 'create: usage plan tier (default basic)')
      .option('--cidr <range>', 'create: allowed source range (repeatable)', collectValue)
      .option('--client <id>', 'create: client id reported to the API (default the username)')
      .option('--password-stdin', 'create, passwd: read the password from stdin (else one is generated)'),
  ).addHelpText(
    'after',
    `
Commands:
  create <username> [--scopes 'a b'] [--tier basic] [--cidr <range>]... [--client <id>] [--password-stdin]
  passwd <username> [--password-stdin]
  lock <username> | unlock <username> | revoke <username>
  list`,
  );
}

/** Parsed `npm run users` options. */
interface UsersValues extends TargetValues {
  readonly scopes?: string;
  readonly tier?: string;
  readonly cidr?: string[];
  readonly client?: string;
  readonly passwordStdin?: true;
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
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const issued = await createUser(
              store,
              hasher,
              {
                username: name,
                password: given,
                clientId: values.client,
                scopes: splitList(values.scopes),
                tier: values.tier ?? 'basic',
                allowedCidrs: values.cidr ?? [],
              },
              now,
            );
            print(
              {
                ...describeUser(issued.record, now),
                ...(given === undefined ? { password: issued.secret } : {}),
              },
              `created user ${name}${shownOnce(issued.secret, given === undefined)}`,
            );
          },
          io.err,
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
          },
          io.err,
        );
      }
      case 'lock':
      case 'unlock':
      case 'revoke': {
        const name = username();
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const record = await setUserStatus(store, name, command);
            print(
              describeUser(record, now),
              `${command === 'revoke' ? 'revoked' : `${command}ed`} user ${name}`,
            );
          },
          io.err,
        );
      }
      case 'list':
        return await runAgainstTarget(
          values,
          async ({ store }) => {
            const users = (await store.listUsers()).map((u) => describeUser(u, now));
            const rows = users.map(
              (u) =>
                `${String(u.username).padEnd(24)} ${String(u.status).padEnd(10)} ${String(u.tier).padEnd(8)} ${(u.scopes as string[]).join(' ')}`,
            );
            print(users, users.length === 0 ? 'no users' : rows.join('\n'));
          },
          io.err,
        );
      default:
        throw new CliUsageError(`unknown command ${command}`);
    }
  } catch (e) {
    return usageFailure(e, USERS_NAME, io);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runCli(USERS_NAME, (argv) => usersCli(argv));
