// SigV4-signed requests for tests, signed by the AWS SDK's own signer (@smithy/signature-v4), the
// way a service calling an AWS_IAM route signs them.
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../shared/aws/sha256.ts';

/** Options of {@link signedFetch}. */
export interface SignOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly region?: string;
  readonly service?: string;
  /** When the request is signed (default now). */
  readonly signingDate?: Date;
  /** Sends another body than the one signed (a tampered request). */
  readonly sendBody?: string;
}

/** The headers of a signed request to `url`. */
export async function signedHeaders(url: string, options: SignOptions): Promise<Record<string, string>> {
  const u = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of u.searchParams) {
    const had = query[k];
    query[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'execute-api',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: options.method ?? 'GET',
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query,
      headers: { host: u.host, ...(options.headers ?? {}) },
      body: options.body,
    },
    { signingDate: options.signingDate ?? new Date() },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
  return headers;
}

/** Sends a request signed with SigV4. */
export async function signedFetch(url: string, options: SignOptions): Promise<Response> {
  const headers = await signedHeaders(url, options);
  const body = options.sendBody ?? options.body;
  return fetch(url, { method: options.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
}
