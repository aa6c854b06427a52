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
 * The worker writes `<MARK_START><invocation id><MARK_END>` on stdout and on stderr when an
 * invocation has ended, before it replies (worker.mjs). A pipe delivers in order what was written to
 * it, by the stream or straight to the descriptor (the functions' observer writes with one system
 * call), so once both marks have arrived, every line the invocation wrote has too. The reply
 * travels on its own channel (IPC) and can overtake them: an invocation resolves only when its marks
 * are in, so its logs reach the sink, and its log tail, before its result does.
 */
export const MARK_START = '\u001egatehouse-invocation-end:';
export const MARK_END = '\u001e';
/** Bytes of an invocation's log returned with its result (Lambda's `LogType: Tail`: 4 KB). */
const TAIL_LENGTH = 4096;
/** The longest mark: anything longer that starts like one is log text. */
const MAX_MARK = MARK_START.length + 64 + MARK_END.length;

/**
 * One of the worker's output pipes: text goes to `forward`, marks are taken out and reported. A mark
 * split across chunks is held back until it is complete.
 */
export class MarkedOutput {
  readonly #forward: (text: string) => void;
  #carry = '';
  #closed = false;
  readonly #seen = new Set<string>();
  readonly #waiting = new Map<string, () => void>();

  constructor(forward: (text: string) => void) {
    this.#forward = forward;
  }

  /** Takes a chunk of the pipe's text. */
  push(chunk: string): void {
    let text = this.#carry + chunk;
    this.#carry = '';
    for (;;) {
      const at = text.indexOf(MARK_START);
      if (at < 0) break;
      const end = text.indexOf(MARK_END, at + MARK_START.length);
      if (end < 0 && text.length - at < MAX_MARK) {
        this.#emit(text.slice(0, at));
        this.#carry = text.slice(at);
        return;
      }
      if (end < 0 || end - at > MAX_MARK) {
        // Not a mark after all: log text that happens to start like one.
        this.#emit(text.slice(0, at + 1));
        text = text.slice(at + 1);
        continue;
      }
      this.#emit(text.slice(0, at));
      this.#marked(text.slice(at + MARK_START.length, end));
      text = text.slice(end + MARK_END.length);
    }
    // The end may be the beginning of a mark whose rest is in the next chunk.
    const last = text.lastIndexOf(MARK_START[0] as string);
    const held = last >= 0 && MARK_START.startsWith(text.slice(last)) ? last : text.length;
    this.#emit(text.slice(0, held));
    this.#carry = text.slice(held);
  }

  /** The pipe ended: what was held back is log text, and no mark will come. */
  close(): void {
    this.#closed = true;
    this.#emit(this.#carry);
    this.#carry = '';
    for (const settle of this.#waiting.values()) settle();
    this.#waiting.clear();
  }

  /** Resolves once the mark of `id` has arrived (at once if it has), or the pipe has ended. */
  marked(id: string): Promise<void> {
    if (this.#seen.delete(id) || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  #emit(text: string): void {
    if (text !== '') this.#forward(text);
  }

  #marked(id: string): void {
    const settle = this.#waiting.get(id);
    if (settle === undefined) this.#seen.add(id);
    else {
      this.#waiting.delete(id);
      settle();
    }
  }
}

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
  #pending = new Map<string, (message: WorkerReply, fromWorker?: boolean) => void>();
  #initError: InitError | undefined;
  #outputs: readonly MarkedOutput[] = [];
  /** What the running invocation has logged so far (its last TAIL_LENGTH characters). */
  #tail: string | undefined;

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
    this.#tail = '';
    // True when the worker replied (then its marks follow); false for a timeout or an exit.
    let replied = false;
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
      this.#pending.set(id, (message, fromWorker = false) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        replied = fromWorker;
        resolve(message);
      });
      child.send({ id, event, context });
    });
    const durationMs = performance.now() - started;
    if (replied) await Promise.all(this.#outputs.map((output) => output.marked(id)));
    const tail = this.#tail;
    this.#tail = undefined;
    const logTail = replied && tail !== undefined ? { logTail: tail } : {};
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
      // What `sam local` sets: the function runs locally. The JWT authorizer then trusts the
      // published development key of events/env.json, which it refuses anywhere else.
      AWS_SAM_LOCAL: 'true',
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
    const forward = (text: string) => {
      this.#log(text);
      if (this.#tail !== undefined) this.#tail = (this.#tail + text).slice(-TAIL_LENGTH);
    };
    const outputs: MarkedOutput[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      const output = new MarkedOutput(forward);
      outputs.push(output);
      stream.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
      stream.on('close', () => output.close());
    }
    this.#outputs = outputs;
    this.#ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: WorkerReply | { ready: true; initError?: InitError }) => {
        if ('ready' in message) {
          this.#initError = message.initError;
          resolve();
        } else this.#pending.get(message.id)?.(message, true);
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
  | { readonly id: string; readonly ok: true; readonly result: unknown }
  | {
      readonly id: string;
      readonly ok: false;
      readonly error: { errorType: string; errorMessage: string };
    };
