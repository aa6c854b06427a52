import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sdkNoticeEnvironment } from '../cli/node-support.ts';

/** What one invocation returned: the handler's result, or the error Lambda would report. */
export type InvocationResult =
  | {
      readonly ok: true;
      readonly result: unknown;
      readonly coldStart: boolean;
      readonly durationMs: number;
      /** The last 4 KB the invocation logged (Lambda's `LogType: Tail`), when it ran. */
      readonly logTail?: string;
    }
  | {
      readonly ok: false;
      readonly error: { readonly errorType: string; readonly errorMessage: string };
      readonly coldStart: boolean;
      readonly durationMs: number;
      readonly logTail?: string;
    };

/** The function a local environment runs. */
export interface LocalFunction {
  readonly logicalId: string;
  readonly bundle: string;
  readonly exportName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly region: string;
  readonly accountId: string;
}

/** Where the function's stdout/stderr goes (the Lambda log stream). */
export type LogSink = (chunk: string) => void;

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));

/**
 * A warm local Lambda execution environment: a child process that imported the bundle with the
 * function's environment. Invocations are serialized, as in Lambda; a timed-out or crashed
 * environment is discarded and the next invocation cold-starts a new one.
 */
export class LambdaEnvironment {
  readonly #fn: LocalFunction;
  readonly #log: LogSink;
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = new Map<string, (message: WorkerReply) => void>();
  #initError: InitError | undefined;

  constructor(fn: LocalFunction, log: LogSink = (chunk) => process.stderr.write(chunk)) {
    this.#fn = fn;
    this.#log = log;
  }

  /**
   * Starts the environment now (the cold start) instead of at the first invocation; resolves to the
   * error of a failed init (`Runtime.InitError`, e.g. a function refusing its configuration), or
   * undefined. Never rejects.
   */
  async warm(): Promise<InitError | undefined> {
    await this.#queue;
    try {
      await this.#start();
    } catch (err) {
      return { errorType: 'Runtime.ExitError', errorMessage: (err as Error).message };
    }
    return this.#initError;
  }

  /** Invokes the handler with the event; never rejects (errors are part of the result). */
  invoke(event: unknown): Promise<InvocationResult> {
    const run = this.#queue.then(() => this.#invokeNow(event));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #invokeNow(event: unknown): Promise<InvocationResult> {
    const started = performance.now();
    const coldStart = this.#child === undefined;
    try {
      await this.#start();
    } catch (err) {
      return {
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: (err as Error).message },
        coldStart,
        durationMs: performance.now() - started,
      };
    }
    const child = this.#child as ChildProcess;
    const id = randomUUID();
    const timeoutMs = this.#fn.timeoutSeconds * 1000;
    const context = {
      awsRequestId: id,
      functionName: this.#fn.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.#fn.region}:${this.#fn.accountId}:function:${this.#fn.logicalId}`,
      memoryLimitInMB: String(this.#fn.memoryMb),
      logGroupName: `/aws/lambda/${this.#fn.logicalId}`,
      logStreamName: `local/${id}`,
      deadlineMs: Date.now() + timeoutMs,
    };
    const reply = await new Promise<WorkerReply>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#discard();
        resolve({
          id,
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${this.#fn.timeoutSeconds.toFixed(2)} seconds`,
          },
        });
      }, timeoutMs);
      // The entry lives exactly as long as the invocation: whichever way it ends (reply, timeout,
      // exit), it is removed, so a long-running local gateway does not grow with every request.
      this.#pending.set(id, (message) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(message);
      });
      child.send({ id, event, context });
    });
    const durationMs = performance.now() - started;
    const logTail = reply.logTail === undefined ? {} : { logTail: reply.logTail };
    return reply.ok
      ? { ok: true, result: reply.result, coldStart, durationMs, ...logTail }
      : { ok: false, error: reply.error, coldStart, durationMs, ...logTail };
  }

  #start(): Promise<void> {
    if (this.#ready !== undefined) return this.#ready;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      AWS_REGION: this.#fn.region,
      AWS_DEFAULT_REGION: this.#fn.region,
      AWS_LAMBDA_FUNCTION_NAME: this.#fn.logicalId,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.#fn.memoryMb),
      // Set by local emulators (SAM CLI, the runtime interface emulator), not by Lambda itself.
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(this.#fn.timeoutSeconds),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.#fn.logicalId}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      // Local runs never reach AWS: the SDK gets dummy credentials (the embedded DynamoDB ignores them).
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      // The runtime emulated is nodejs22.x; the SDK's notice about the local Node.js is noise here.
      ...sdkNoticeEnvironment(),
      ...this.#fn.env,
      GATEHOUSE_BUNDLE: this.#fn.bundle,
      GATEHOUSE_EXPORT: this.#fn.exportName,
    };
    const child = fork(WORKER, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#log(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.#log(chunk));
    this.#ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: WorkerReply | { ready: true; initError?: InitError }) => {
        if ('ready' in message) {
          this.#initError = message.initError;
          resolve();
        } else this.#pending.get(message.id)?.(message);
      });
      child.on('exit', (code, signal) => {
        const error = {
          errorType: 'Runtime.ExitError',
          errorMessage: `the function process exited (${signal ?? `code ${code}`})`,
        };
        for (const [id, settle] of this.#pending) settle({ id, ok: false, error });
        this.#pending.clear();
        if (this.#child === child) {
          this.#child = undefined;
          this.#ready = undefined;
        }
        reject(new Error(error.errorMessage));
      });
    });
    return this.#ready;
  }

  #discard(): void {
    this.#child?.kill('SIGKILL');
    this.#child = undefined;
    this.#ready = undefined;
  }

  /** Stops the environment. */
  async close(): Promise<void> {
    const child = this.#child;
    this.#discard();
    if (child !== undefined && child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
}

/** Why an environment could not start (as Lambda reports it). */
export interface InitError {
  readonly errorType: string;
  readonly errorMessage: string;
}

type WorkerReply =
  | { readonly id: string; readonly ok: true; readonly result: unknown; readonly logTail?: string }
  | {
      readonly id: string;
      readonly ok: false;
      readonly error: { errorType: string; errorMessage: string };
      readonly logTail?: string;
    };
