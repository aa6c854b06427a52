// SigV4-signed requests for tests, signed by the AWS SDK's own signer (@smithy/signature-v4), the
// way a service calling an AWS_IAM route signs them.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

class Sha256 {
  readonly #key: Uint8Array | undefined;
  #hash: Hash | Hmac;
  constructor(key?: string | ArrayBuffer | ArrayBufferView) {
    this.#key =
      key === undefined
        ? undefined
        : typeof key === 'string'
          ? Buffer.from(key)
          : ArrayBuffer.isView(key)
            ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
            : new Uint8Array(key);
    this.#hash = this.#key === undefined ? createHash('sha256') : createHmac('sha256', this.#key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(
      typeof data === 'string'
        ? Buffer.from(data)
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#key === undefined ? createHash('sha256') : createHmac('sha256', this.#key);
  }
}

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
