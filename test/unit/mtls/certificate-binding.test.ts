// Certificate-bound tokens (RFC 8705): the thumbprint of the certificate API Gateway passes, against
// the token's cnf["x5t#S256"]. Certificates are issued here by a local CA.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateThumbprint,
  checkCertificateBinding,
  clientCertificatePem,
  isCertificateThumbprint,
} from '../../../shared/mtls/certificate-binding.ts';
import { createCa, type IssuedCertificate, issueCertificate } from '../../../tools/certs/local-ca.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';

let alice: IssuedCertificate;
let mallory: IssuedCertificate;
beforeAll(async () => {
  const ca = await createCa('Test CA');
  alice = await issueCertificate(ca, { commonName: 'alice', kind: 'client' });
  mallory = await issueCertificate(ca, { commonName: 'mallory', kind: 'client' });
});

const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');

describe('certificate thumbprints', () => {
  it('is base64url SHA-256 of the DER, the same as the platform fingerprint', () => {
    const x509 = new X509Certificate(alice.certificatePem);
    const expected = createHash('sha256').update(x509.raw).digest('base64url');
    expect(certificateThumbprint(alice.certificatePem)).toBe(expected);
    expect(Buffer.from(expected, 'base64url').toString('hex').toUpperCase()).toBe(
      x509.fingerprint256.replaceAll(':', ''),
    );
  });

  it('reads PEM with CRLF line ends, one long line, and surrounding whitespace', () => {
    const crlf = alice.certificatePem.replace(/\n/g, '\r\n');
    const oneLine = `-----BEGIN CERTIFICATE-----\n${body(alice.certificatePem)}\n-----END CERTIFICATE-----`;
    for (const pem of [crlf, oneLine, `\n  ${alice.certificatePem}\n\n`])
      expect(certificateThumbprint(pem)).toBe(alice.thumbprint);
  });

  it.each([
    ['an empty string', ''],
    ['text', 'not a certificate'],
    ['a private key', 'PRIVATE'],
    ['two certificates', 'TWO'],
    ['trailing data', 'TRAIL'],
    ['a truncated body', 'TRUNCATED'],
    ['non-canonical base64', 'NONCANON'],
    ['a body that is not a certificate', 'NOTCERT'],
  ])('reads no thumbprint from %s', (_case, kind) => {
    const pem =
      {
        PRIVATE: alice.privateKeyPem,
        TWO: `${alice.certificatePem}${mallory.certificatePem}`,
        TRAIL: `${alice.certificatePem}junk`,
        TRUNCATED: `-----BEGIN CERTIFICATE-----\n${body(alice.certificatePem).slice(0, 200)}\n-----END CERTIFICATE-----`,
        NONCANON: `-----BEGIN CERTIFICATE-----\n${body(alice.certificatePem)}%\n-----END CERTIFICATE-----`,
        NOTCERT: `-----BEGIN CERTIFICATE-----\n${Buffer.from('hello world').toString('base64')}\n-----END CERTIFICATE-----`,
      }[kind] ?? kind;
    expect(certificateThumbprint(pem)).toBeUndefined();
  });

  it('recognises the shape of an x5t#S256 value', () => {
    expect(isCertificateThumbprint(alice.thumbprint)).toBe(true);
    expect(isCertificateThumbprint(`${alice.thumbprint}=`)).toBe(false);
    expect(isCertificateThumbprint(alice.thumbprint.slice(1))).toBe(false);
    expect(isCertificateThumbprint(42)).toBe(false);
  });
});

describe('certificate binding', () => {
  it('matches the certificate the token is bound to', () => {
    expect(checkCertificateBinding(alice.certificatePem, alice.thumbprint)).toEqual({
      outcome: 'match',
      thumbprint: alice.thumbprint,
    });
  });

  it('refuses another certificate from the same CA', () => {
    expect(checkCertificateBinding(mallory.certificatePem, alice.thumbprint)).toEqual({
      outcome: 'mismatch',
    });
  });

  it('reports a missing certificate and a malformed one', () => {
    expect(checkCertificateBinding(undefined, alice.thumbprint)).toEqual({ outcome: 'certificate_missing' });
    expect(checkCertificateBinding('  ', alice.thumbprint)).toEqual({ outcome: 'certificate_missing' });
    expect(checkCertificateBinding('CERT_CONTENT', alice.thumbprint)).toEqual({
      outcome: 'certificate_malformed',
    });
  });
});

describe('where API Gateway puts the client certificate (AWS sample events)', () => {
  const fixture = (path: string) =>
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/apigw-events', path), 'utf8')) as Record<
      string,
      unknown
    >;

  it.each([
    [
      'REST REQUEST authorizer',
      'aws-lambda-go/apigw-custom-auth-request-type-request.json',
      '-----BEGIN CERTIFICATE-----\nMIIEZTCCAk0CAQEwDQ...',
    ],
    ['HTTP API payload 1.0', 'aws-lambda-go/apigw-v2-custom-authorizer-v1-request.json', 'CERT_CONTENT'],
    ['HTTP API payload 2.0', 'aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json', 'CERT_CONTENT'],
    [
      'REST REQUEST (Powertools sample)',
      'powertools-python/apiGatewayAuthorizerRequestEvent.json',
      'CERT_CONTENT',
    ],
  ])('reads it from a %s event', (_case, path, expected) => {
    expect(clientCertificatePem(fixture(path))).toBe(expected);
  });

  it('finds none in a TOKEN event, or at the other payload version’s place', () => {
    expect(
      clientCertificatePem(fixture('powertools-python/apiGatewayAuthorizerTokenEvent.json')),
    ).toBeUndefined();
    const v2 = fixture('aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json');
    expect(clientCertificatePem({ ...v2, version: '1.0' })).toBeUndefined();
  });
});

describe('certificateThumbprint, repeated', () => {
  it('gives the same thumbprint for the same certificate, and keeps refusing what is not one', () => {
    const cert = alice;

    expect(certificateThumbprint(cert.certificatePem)).toBe(cert.thumbprint);
    expect(certificateThumbprint(cert.certificatePem)).toBe(cert.thumbprint);
    expect(certificateThumbprint('CERT_CONTENT')).toBeUndefined();
    expect(certificateThumbprint('CERT_CONTENT')).toBeUndefined();
  });
});
