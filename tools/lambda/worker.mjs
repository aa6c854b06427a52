// One local Lambda execution environment: imports the bundle once (the cold start), then serves
// invocations sent by the parent over IPC, one at a time, as the Lambda runtime does.
// Plain JavaScript so that it starts with bare `node`, like the real runtime.
import { pathToFileURL } from 'node:url';

const bundle = process.env.GATEHOUSE_BUNDLE;
const exportName = process.env.GATEHOUSE_EXPORT ?? 'handler';
delete process.env.GATEHOUSE_BUNDLE;
delete process.env.GATEHOUSE_EXPORT;

function errorShape(err) {
  if (err instanceof Error) return { errorType: err.name || 'Error', errorMessage: err.message };
  return { errorType: 'Error', errorMessage: typeof err === 'string' ? err : JSON.stringify(err) };
}

// The last 4 KB of what an invocation logged goes back with its result, as Lambda's Invoke API
// returns it with `LogType: Tail` (the local gateway reads the decision reason from it). The
// streams still write as usual.
const TAIL_LENGTH = 4096;
let tail;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (tail !== undefined)
      tail = (tail + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))).slice(
        -TAIL_LENGTH,
      );
    return write(chunk, ...rest);
  };
}

let handler;
let initError;
try {
  const mod = await import(pathToFileURL(bundle).href);
  handler = mod[exportName] ?? mod.default?.[exportName];
  if (typeof handler !== 'function') {
    initError = {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${bundle} does not export ${exportName}`,
    };
  }
} catch (err) {
  const shape = errorShape(err);
  initError = { errorType: `Runtime.InitError`, errorMessage: `${shape.errorType}: ${shape.errorMessage}` };
}

process.on('message', async (message) => {
  const { id, event, context: ctx } = message;
  if (initError !== undefined) {
    process.send({ id, ok: false, error: initError });
    return;
  }
  const deadline = ctx.deadlineMs;
  const context = {
    ...ctx,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  tail = '';
  try {
    const result = await new Promise((resolve, reject) => {
      const callback = (err, value) => (err ? reject(err) : resolve(value));
      const returned = handler(event, context, callback);
      if (returned !== undefined && typeof returned.then === 'function') returned.then(resolve, reject);
    });
    const logTail = tail;
    tail = undefined;
    process.send({ id, ok: true, result: result === undefined ? null : result, logTail });
  } catch (err) {
    const logTail = tail;
    tail = undefined;
    process.send({ id, ok: false, error: errorShape(err), logTail });
  }
});

// The init outcome goes with `ready`, so a caller can report a failed cold start before any event.
process.send({ ready: true, initError });
