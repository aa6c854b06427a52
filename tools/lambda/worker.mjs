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

// Must match MARK_START / MARK_END in runtime.ts.
const MARK_START = '\u001egatehouse-invocation-end:';
const MARK_END = '\u001e';

/**
 * Replies for an invocation after marking its end on stdout and stderr (runtime.ts): the parent
 * resolves the invocation once both marks have come through the pipes, behind everything the
 * invocation wrote to them, by the streams or straight to the descriptors.
 */
async function reply(message) {
  const mark = `${MARK_START}${message.id}${MARK_END}`;
  await Promise.all(
    [process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write(mark, resolve))),
  );
  process.send(message);
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
    await reply({ id, ok: false, error: initError });
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
  try {
    const result = await new Promise((resolve, reject) => {
      const callback = (err, value) => (err ? reject(err) : resolve(value));
      const returned = handler(event, context, callback);
      if (returned !== undefined && typeof returned.then === 'function') returned.then(resolve, reject);
    });
    await reply({ id, ok: true, result: result === undefined ? null : result });
  } catch (err) {
    await reply({ id, ok: false, error: errorShape(err) });
  }
});

// The init outcome goes with `ready`, so a caller can report a failed cold start before any event.
process.send({ ready: true, initError });
