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
 * its `x5t#S256` (the value a certificate-bound token carries in `cnf`). Exit status 2 on bad usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
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

/** Bad usage: exit status 2. */
export class CertsUsageError extends Error {
  override readonly name = 'CertsUsageError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650)
    throw new CertsUsageError('--days must be a whole number from 1 to 3650');
  return n;
}

async function caIn(dir: string, out: string[]): Promise<LocalCa> {
  const existing = readCa(dir);
  if (existing !== undefined) return existing;
  const ca = await createCa();
  writeIssued(dir, 'ca', ca);
  out.push(`created the CA: ${caFiles(dir).certificate}`);
  return ca;
}

/** Runs one certs command; resolves to the lines to print. */
export async function certsCli(argv: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  let action: Promise<void> = Promise.resolve();
  // commander directly; when the shared CLI module lands, only this wiring changes.
  const program = new Command('certs')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--dir <dir>', 'where certificates are kept', DEFAULT_CERTS_DIR);
  const dirOf = () => program.opts().dir as string;
  program
    .command('ca')
    .option('--name <name>', 'the CA common name', 'Gatehouse Local CA')
    .option('--days <n>', 'validity in days', '3650')
    .option('--force', 'replace an existing CA (every certificate it issued stops being trusted)', false)
    .action((options: { name: string; days: string; force: boolean }) => {
      action = (async () => {
        const dir = dirOf();
        if (!options.force && existsSync(caFiles(dir).certificate))
          throw new CertsUsageError(`${caFiles(dir).certificate} exists (--force replaces it)`);
        const ca = await createCa(options.name, days(options.days));
        const files = writeIssued(dir, 'ca', ca);
        out.push(`certificate: ${files.certificate}`, `key: ${files.key}`, `x5t#S256: ${ca.thumbprint}`);
      })();
    });
  program
    .command('client <name>')
    .option('--days <n>', 'validity in days', '825')
    .action((name: string, options: { days: string }) => {
      action = (async () => {
        if (!NAME.test(name))
          throw new CertsUsageError('the client name must be letters, digits, ".", "_" or "-"');
        const dir = dirOf();
        const ca = await caIn(dir, out);
        const cert = await issueCertificate(ca, {
          commonName: name,
          kind: 'client',
          days: days(options.days),
        });
        const files = writeIssued(dir, name, cert);
        out.push(`certificate: ${files.certificate}`, `key: ${files.key}`, `x5t#S256: ${cert.thumbprint}`);
      })();
    });
  program
    .command('server')
    .option('--host <host...>', 'DNS names and IP addresses the certificate is for', [
      'localhost',
      '127.0.0.1',
    ])
    .option('--days <n>', 'validity in days', '825')
    .action((options: { host: string[]; days: string }) => {
      action = (async () => {
        const dir = dirOf();
        const ca = await caIn(dir, out);
        const cert = await issueCertificate(ca, {
          commonName: options.host[0] as string,
          kind: 'server',
          hosts: options.host,
          days: days(options.days),
        });
        const files = writeIssued(dir, 'server', cert);
        out.push(`certificate: ${files.certificate}`, `key: ${files.key}`);
      })();
    });
  program.command('thumbprint <file>').action((file: string) => {
    action = (async () => {
      const thumbprint = existsSync(file) ? certificateThumbprint(readFileSync(file, 'utf8')) : undefined;
      if (thumbprint === undefined) throw new CertsUsageError(`${file} is not one PEM certificate`);
      out.push(thumbprint);
    })();
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new CertsUsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  await action;
  return out;
}

const USAGE =
  'usage: npm run certs -- ca [--force] | client <name> [--days n] | server [--host h ...] | thumbprint <file.pem> [--dir dir]\n';

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const lines = await certsCli(process.argv.slice(2));
    if (lines.length === 0) throw new CertsUsageError('a command is required');
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    process.stderr.write(`certs: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = err instanceof CertsUsageError ? 2 : 1;
  }
}
