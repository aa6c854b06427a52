// One cold start, run by bench/cold-start.ts in a fresh Node process: import the bundle, serve one
// invocation, print the outcome on a marked line, exit. With mode `empty` it prints at once, so the
// difference between the two is what the bundle costs. The parent times the arrival of the marked
// line, not the process's exit (Lambda keeps the process; tearing it down is not a cold start).
// Plain JS so no loader adds to the time.
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [mode, bundle, exportName, eventFile] = process.argv.slice(2);

function report(outcome) {
  // Synchronous write, then exit at once: keep-alive sockets (JWKS, DynamoDB) would otherwise hold
  // the process open.
  writeSync(1, `\n@@bench ${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

if (mode === 'empty') report({ ok: true, importMs: 0, invokeMs: 0 });

const started = performance.now();
let mod;
try {
  mod = await import(pathToFileURL(bundle).href);
} catch (err) {
  report({
    ok: false,
    error: `init failed: ${err instanceof Error ? err.message : String(err)}`,
    importMs: NaN,
    invokeMs: NaN,
  });
}
const imported = performance.now();
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'bench-cold-start',
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 5000,
  callbackWaitsForEmptyEventLoop: false,
};
let outcome;
try {
  const result = await mod[exportName](event, context);
  outcome = { ok: true, result };
} catch (err) {
  outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
}
const invoked = performance.now();
// `performance.now()` counts from the process's start: what Node itself took before our code ran
// is `started`, and `invoked` is the whole cold start as seen from inside.
report({
  ...outcome,
  bootMs: started,
  importMs: imported - started,
  invokeMs: invoked - imported,
  totalMs: invoked,
});
