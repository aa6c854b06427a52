/**
 * The certificates of the gateway's mutual-TLS listener (`npm start -- --mtls`): the local CA of
 * `npm run certs` is the truststore (as `ca.pem` in S3 is for a custom domain), and `server.pem` the
 * gateway's own certificate. Either is created when missing, as `npm run certs -- server` would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, DEFAULT_CERTS_DIR, issueCertificate, readCa, writeIssued } from '../certs/local-ca.ts';

/** What the HTTPS listener needs. */
export interface LocalTls {
  /** The folder of the certificates. */
  readonly certsDir: string;
  /** The CA (PEM) whose client certificates are accepted. */
  readonly caPem: string;
  readonly serverCertificatePem: string;
  readonly serverKeyPem: string;
  /** Files created now (the banner says so). */
  readonly created: readonly string[];
}

/** Reads (or creates) the CA and the server certificate for loopback (`localhost`, `127.0.0.1`). */
export async function localTls(certsDir: string = DEFAULT_CERTS_DIR): Promise<LocalTls> {
  const created: string[] = [];
  let ca = readCa(certsDir);
  if (ca === undefined) {
    ca = await createCa();
    created.push(writeIssued(certsDir, 'ca', ca).certificate);
  }
  const cert = join(certsDir, 'server.pem');
  const key = join(certsDir, 'server-key.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    const issued = await issueCertificate(ca, {
      commonName: 'localhost',
      kind: 'server',
      hosts: ['localhost', '127.0.0.1'],
    });
    created.push(writeIssued(certsDir, 'server', issued).certificate);
  }
  return {
    certsDir,
    caPem: ca.certificatePem,
    serverCertificatePem: readFileSync(cert, 'utf8'),
    serverKeyPem: readFileSync(key, 'utf8'),
    created,
  };
}
