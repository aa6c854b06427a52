/**
 * A local certificate authority for mutual TLS in development: a CA, client certificates signed by
 * it (for certificate-bound tokens), and a server certificate (for an HTTPS listener that asks for
 * client certificates). Keys are ECDSA P-256, certificates X.509 v3 with the extensions TLS stacks
 * check (basic constraints, key usage, extended key usage, subject alternative names).
 *
 * Node can read X.509 (`X509Certificate`) but not issue it, so issuing uses @peculiar/x509, which
 * builds certificates over the platform's WebCrypto: no cryptography implemented in JavaScript, EC
 * and RSA keys alike (node-forge, the other common choice, signs only RSA certificates with its own
 * JavaScript RSA). It needs the reflect-metadata polyfill for its dependency injection container.
 * Development only: never bundled into a Lambda function.
 */
import 'reflect-metadata';
import { createPrivateKey, type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { certificateThumbprint } from '../../shared/mtls/certificate-binding.ts';
import { STATE_DIR } from '../paths.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Where `npm run certs` writes unless told otherwise. */
export const DEFAULT_CERTS_DIR = join(STATE_DIR, 'certs');

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** RFC 8705 `x5t#S256` of the certificate (what a certificate-bound token's `cnf` holds). */
  readonly thumbprint: string;
}

/** A CA able to issue certificates. */
export interface LocalCa extends IssuedCertificate {
  readonly name: string;
}

function serial(): string {
  // Positive 16-byte serial (RFC 5280 §4.1.2.2: at most 20 octets, non-negative).
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = (createPrivateKey(pem) as KeyObject).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

function issued(certificate: x509.X509Certificate, privateKeyPem: string): IssuedCertificate {
  const certificatePem = certificate.toString('pem');
  const thumbprint = certificateThumbprint(certificatePem);
  if (thumbprint === undefined) throw new Error('the issued certificate does not read back');
  return { certificatePem, privateKeyPem, thumbprint };
}

/** Creates a self-signed CA valid for `days`. */
export async function createCa(name = 'Gatehouse Local CA', days = 3650, now = new Date()): Promise<LocalCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { name, ...issued(certificate, await exportKey(keys.privateKey)) };
}

/** What to issue. */
export interface IssueOptions {
  /** Subject common name. */
  readonly commonName: string;
  /** `client` (TLS client authentication) or `server` (TLS server, with DNS/IP names). */
  readonly kind: 'client' | 'server';
  /** Subject alternative names for a server certificate (`localhost`, `127.0.0.1` ...). */
  readonly hosts?: readonly string[];
  readonly days?: number;
  readonly now?: Date;
}

/** Issues a certificate signed by `ca`. */
export async function issueCertificate(ca: LocalCa, options: IssueOptions): Promise<IssuedCertificate> {
  const now = options.now ?? new Date();
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const hosts = options.hosts ?? [];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [options.kind === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false),
  ];
  if (hosts.length > 0)
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) =>
          /^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
        ),
      ),
    );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.commonName}`,
    issuer: caCertificate.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.days ?? 825) * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.privateKeyPem),
    extensions,
  });
  return issued(certificate, await exportKey(keys.privateKey));
}

/** File names of the CA in a directory. */
export function caFiles(dir: string): { certificate: string; key: string } {
  return { certificate: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') };
}

/** Reads the CA in `dir`; undefined when there is none. */
export function readCa(dir: string): LocalCa | undefined {
  const files = caFiles(dir);
  if (!existsSync(files.certificate) || !existsSync(files.key)) return undefined;
  const certificatePem = readFileSync(files.certificate, 'utf8');
  const thumbprint = certificateThumbprint(certificatePem);
  if (thumbprint === undefined) throw new Error(`${files.certificate} is not a readable certificate`);
  const name = new X509Certificate(certificatePem).subject.replace(/^CN=/, '');
  return { name, certificatePem, privateKeyPem: readFileSync(files.key, 'utf8'), thumbprint };
}

/** Writes a certificate as `<base>.pem` and its key as `<base>-key.pem` (mode 0600). */
export function writeIssued(
  dir: string,
  base: string,
  value: IssuedCertificate,
): { certificate: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const certificate = join(dir, `${base}.pem`);
  const key = join(dir, `${base}-key.pem`);
  writeFileSync(certificate, value.certificatePem);
  writeFileSync(key, value.privateKeyPem, { mode: 0o600 });
  return { certificate, key };
}
