// REST authorizer events for the credentials authorizer, built from the sample events in
// events/key-authorizer/ with the credential placeholder replaced by a concrete value.
import { readEvent } from '../../support/events.ts';

/** A REST REQUEST event for `GET /orders/{id}`. */
export type CredentialEvent = Record<string, unknown> & { readonly methodArn: string };

function withHeader(file: string, name: string, value: string): CredentialEvent {
  const event = readEvent(`events/key-authorizer/${file}`) as CredentialEvent;
  const headers = { ...(event.headers as Record<string, string>), [name]: value };
  const multi = { ...(event.multiValueHeaders as Record<string, string[]>), [name]: [value] };
  return { ...event, headers, multiValueHeaders: multi };
}

/** `Authorization: Basic base64(user:password)` on the Basic sample event. */
export function basicEvent(username: string, password: string): CredentialEvent {
  const value = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return withHeader('rest-basic-allow.json', 'Authorization', value);
}

/** `x-api-key: <key>` on the API key sample event. */
export function apiKeyEvent(key: string): CredentialEvent {
  return withHeader('rest-apikey-allow.json', 'x-api-key', key);
}

/** The reason of every decision log line in `logs` (one JSON line per invocation). */
export function decisionReasons(logs: string): string[] {
  const reasons: string[] = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { message?: unknown; reason?: unknown; decision?: { reason?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const reason = entry.decision?.reason ?? (entry.message === 'decision' ? entry.reason : undefined);
    if (typeof reason === 'string') reasons.push(reason);
  }
  return reasons;
}

/** How many decision log lines in `logs` carry `reason`. */
export function decisionsWithReason(logs: string, reason: string): number {
  return decisionReasons(logs).filter((r) => r === reason).length;
}
