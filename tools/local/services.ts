/**
 * What a function needs around it to run locally, prepared by `invoke` and the local gateway alike:
 * the local token issuer for functions that read JWT_ISSUERS, and (for functions with a table) the
 * embedded DynamoDB. Each service is added to the function's environment only in local runs.
 */
import {
  fillTokenPlaceholders,
  type RunningIssuer,
  startLocalIssuer,
  withLocalIssuer,
} from '../issuer/local-issuer.ts';

/** Services started for local runs; close them when done. */
export interface LocalServices {
  /** Adjusts a function's resolved environment for local running. */
  environmentFor(env: Readonly<Record<string, string>>): Record<string, string>;
  /** Fills placeholders (tokens) in a sample event. */
  prepareEvent(event: unknown): unknown;
  readonly issuer: RunningIssuer | undefined;
  close(): Promise<void>;
}

/** Starts what the given environments need. */
export async function startLocalServices(
  environments: readonly Readonly<Record<string, string>>[],
  options: { issuerPort?: number } = {},
): Promise<LocalServices> {
  const needsIssuer = environments.some((env) => 'JWT_ISSUERS' in env);
  const issuer = needsIssuer ? await startLocalIssuer({ port: options.issuerPort ?? 0 }) : undefined;
  return {
    issuer,
    environmentFor(env) {
      const out = { ...env };
      if (issuer !== undefined && 'JWT_ISSUERS' in out) {
        const value = withLocalIssuer(out.JWT_ISSUERS, issuer.url);
        if (value !== undefined) out.JWT_ISSUERS = value;
      }
      return out;
    },
    prepareEvent(event) {
      if (issuer === undefined) return event;
      return fillTokenPlaceholders(event, (o) => issuer.mint(o));
    },
    async close() {
      await issuer?.close();
    },
  };
}
