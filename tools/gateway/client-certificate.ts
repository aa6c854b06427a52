/**
 * The client certificate of a mutual-TLS request, as API Gateway hands it to Lambda authorizers and
 * integrations: `clientCertPem` (the leaf certificate), `subjectDN`, `issuerDN`, `serialNumber` and
 * `validity` (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html;
 * AWS's sample events in test/fixtures/apigw-events). REST APIs and HTTP API payload 1.0 put it at
 * `requestContext.identity.clientCert`, payload 2.0 at `requestContext.authentication.clientCert`.
 */
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

/** `clientCert` of an event. */
export interface ClientCertificate {
  readonly clientCertPem: string;
  /** Distinguished names, RDNs joined with commas (`C=US,O=Example,CN=alice`). */
  readonly subjectDN: string;
  readonly issuerDN: string;
  /** Colon-separated lower-case hex (`a1:b2:...`), as HTTP APIs write it. */
  readonly serialNumber: string;
  /** OpenSSL's date format (`Aug  5 00:28:21 2120 GMT`), as in AWS's samples. */
  readonly validity: { readonly notBefore: string; readonly notAfter: string };
}

/** The fields API Gateway passes for a certificate (PEM or DER). */
export function clientCertificate(certificate: X509Certificate): ClientCertificate {
  const dn = (name: string) => name.split('\n').filter(Boolean).join(',');
  const hex = certificate.serialNumber.toLowerCase().padStart(2, '0');
  return {
    clientCertPem: certificate.toString().trim(),
    subjectDN: dn(certificate.subject),
    issuerDN: dn(certificate.issuer),
    serialNumber: (hex.length % 2 === 0 ? hex : `0${hex}`).match(/../g)?.join(':') ?? hex,
    validity: { notBefore: certificate.validFrom, notAfter: certificate.validTo },
  };
}

/**
 * The verified client certificate of a request received over mutual TLS; undefined over plain
 * HTTP or TLS without one (the gateway's mutual-TLS listener refuses those at the handshake).
 */
export function clientCertificateOf(req: IncomingMessage): ClientCertificate | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const peer = socket.getPeerX509Certificate();
  return peer === undefined ? undefined : clientCertificate(peer);
}

/** How the client reached the gateway: `https` over TLS, else `http` (X-Forwarded-Proto). */
export function protocolOf(req: IncomingMessage): 'http' | 'https' {
  return req.socket instanceof TLSSocket ? 'https' : 'http';
}
