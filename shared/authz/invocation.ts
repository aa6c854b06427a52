import {
  type AuthorizerRequest,
  MalformedEventError,
  normalizeAuthorizerEvent,
} from '../apigw/authorizer-request.ts';
import type { Observer } from '../observability/observer.ts';

/** The error API Gateway turns into a 401: the message must be exactly `Unauthorized`. */
export function unauthorized(): Error {
  return new Error('Unauthorized');
}

/** A failure API Gateway turns into a 500 (nothing cached). The message names no credential. */
export class AuthorizerFailureError extends Error {
  override readonly name = 'AuthorizerFailureError';
}

/** What an authorizer decided, as its decision log line says it. */
export type AuthorizerEffect = 'allow' | 'deny' | 'unauthorized' | 'error';

/** Facts for the decision log line beyond effect and reason. */
export interface DecisionFacts {
  readonly route?: string | undefined;
  readonly principal?: string | undefined;
  readonly cacheHit?: boolean;
}

/**
 * One authorizer invocation: it reads the event and owes exactly one decision log line, whichever
 * way it ends. Both authorizers go through it, so their logs and their 401 / 500 paths are the same.
 */
export class AuthorizerInvocation {
  readonly #observer: Observer;
  readonly #clock: () => number;
  readonly #started: number;
  #request: AuthorizerRequest | undefined;

  constructor(observer: Observer, clock: () => number) {
    this.#observer = observer;
    this.#clock = clock;
    this.#started = clock();
  }

  /** Normalizes the event; an event of no known shape is logged and refused (401). */
  read(event: unknown, simpleResponses: boolean): AuthorizerRequest {
    try {
      this.#request = normalizeAuthorizerEvent(event, simpleResponses);
      return this.#request;
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      return this.refuse(err.reason);
    }
  }

  /** Writes the decision log line. */
  log(effect: AuthorizerEffect, reason: string, facts: DecisionFacts = {}): void {
    this.#observer.decision({
      requestId: this.#request?.requestId,
      route: facts.route,
      effect,
      reason,
      principal: facts.principal,
      latencyMs: this.#clock() - this.#started,
      cacheHit: facts.cacheHit ?? false,
    });
  }

  /** Logs the reason and throws `Unauthorized` (401). */
  refuse(reason: string, facts: DecisionFacts = {}): never {
    this.log('unauthorized', reason, facts);
    throw unauthorized();
  }

  /**
   * Logs a dependency failure and throws {@link AuthorizerFailureError} (500, nothing cached):
   * never Allow, never a cacheable Deny. `details` go to a warning line; they must hold no secret.
   */
  fail(message: string, cause: unknown, details: Readonly<Record<string, unknown>>): never {
    this.log('error', 'dependency_failure');
    this.#observer.warn(message, details);
    throw new AuthorizerFailureError(`the authorizer could not ${message}`, { cause });
  }
}
