/**
 * A local CA and certificates for mutual TLS, without hand-run openssl:
 *
 *   npm run certs -- ca [--name "Gatehouse Local CA"] [--force]     the CA (ca.pem is the truststore)
 *   npm run certs -- client <name> [--days 825]                      a client certificate <name>.pem
 *   npm run certs -- server [--host localhost --host 127.0.0.1]      a server certificate server.pem
 *   npm run certs -- thumbprint <file.pem>                           a certificate's x5t#S256
 *
 * Files go to `.gatehouse/certs/` (`--dir` to change), keys with mode 0600. `client` and `server`
 * create the CA first when there is none. Each command prints what it wrote and, for a certificate,
 * its `x5t#S256` (the value a certificate-bound token carries in `cnf`).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { certificateThumbprint } from '../shared/mtls/certificate-binding.ts';
import {
  caFiles,
  createCa,
  DEFAULT_CERTS_DIR,
  issueCertificate,
  type LocalCa,
  readCa,
  writeIssued,
} from './certs/local-ca.ts';
import {
  type CliName,
  cliProgram,
  collectValue,
  integerValue,
  PROCESS_OUTPUT,
  parseCommandLine,
  runCli,
  UsageError,
} from './cli/program.ts';

const NAME: CliName = { tool: 'certs', invocation: 'npm run certs --' };
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The `npm run certs` command line. */
export function certsProgram(): Command {
  return cliProgram(NAME, 'Create a local CA and certificates for mutual TLS.')
    .argument('<command>', 'ca, client, server or thumbprint')
    .argument('[name]', 'client: the certificate name; thumbprint: a PEM file')
    .option('--dir <dir>', 'where certificates are kept', DEFAULT_CERTS_DIR)
    .option('--name <name>', 'ca: the CA common name', 'Gatehouse Local CA')
    .option('--days <n>', 'validity in days', integerValue('--days', { min: 1, max: 3650 }))
    .option('--host <host>', 'server: a DNS name or IP address (repeatable)', collectValue)
    .option('--force', 'ca: replace an existing CA (every certificate it issued stops being trusted)', false)
    .addHelpText(
      'after',
      `
Commands:
  ca [--name <cn>] [--force]
  client <name> [--days 825]
  server [--host localhost --host 127.0.0.1]
  thumbprint <file.pem>`,
    );
}

interface CertsValues {
  readonly dir: string;
  readonly name: string;
  readonly days?: number;
  readonly host?: string[];
  readonly force: boolean;
}

async function caIn(dir: string, out: string[]): Promise<LocalCa> {
  const existing = readCa(dir);
  if (existing !== undefined) return existing;
  const ca = await createCa();
  writeIssued(dir, 'ca', ca);
  out.push(`created the CA: ${caFiles(dir).certificate}`);
  return ca;
}

/** Runs one certs command; resolves to the lines to print. Throws UsageError on bad usage. */
export async function certsCli(argv: readonly string[]): Promise<string[]> {
  const { options, operands } = parseCommandLine<CertsValues>(certsProgram(), argv);
  const [command, name] = operands;
  const out: string[] = [];
  switch (command) {
    case 'ca': {
      if (name !== undefined) throw new UsageError('ca takes no name (--name sets the common name)');
      if (!options.force && existsSync(caFiles(options.dir).certificate))
        throw new UsageError(`${caFiles(options.dir).certificate} exists (--force replaces it)`);
      const ca = await createCa(options.name, options.days ?? 3650);
      const files = writeIssued(options.dir, 'ca', ca);
      out.push(`certificate: ${files.certificate}`, `key: ${files.key}`, `x5t#S256: ${ca.thumbprint}`);
      return out;
    }
    case 'client': {
      if (name === undefined || !CLIENT_NAME.test(name))
        throw new UsageError('client needs a name of letters, digits, ".", "_" or "-"');
      const ca = await caIn(options.dir, out);
      const cert = await issueCertificate(ca, {
        commonName: name,
        kind: 'client',
        days: options.days ?? 825,
      });
      const files = writeIssued(options.dir, name, cert);
      out.push(`certificate: ${files.certificate}`, `key: ${files.key}`, `x5t#S256: ${cert.thumbprint}`);
      return out;
    }
    case 'server': {
      if (name !== undefined)
        throw new UsageError('server takes no name (--host names the server, repeatable)');
      const hosts = options.host ?? ['localhost', '127.0.0.1'];
      const ca = await caIn(options.dir, out);
      const cert = await issueCertificate(ca, {
        commonName: hosts[0] as string,
        kind: 'server',
        hosts,
        days: options.days ?? 825,
      });
      const files = writeIssued(options.dir, 'server', cert);
      out.push(`certificate: ${files.certificate}`, `key: ${files.key}`);
      return out;
    }
    case 'thumbprint': {
      const thumbprint =
        name !== undefined && existsSync(name)
          ? certificateThumbprint(readFileSync(name, 'utf8'))
          : undefined;
      if (thumbprint === undefined) throw new UsageError(`${name ?? '(no file)'} is not one PEM certificate`);
      return [thumbprint];
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (ca, client, server, thumbprint)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runCli(NAME, async (argv) => {
    PROCESS_OUTPUT.out((await certsCli(argv)).join('\n'));
    return 0;
  });
}
