// One cold start, run by bench/cold-start.ts in a fresh Node process: import the bundle, serve one
// invocation, print the outcome on a marked line, exit. With mode `empty` it does nothing, so the
// difference between the two is what the bundle costs. Plain JS so no loader adds to the time.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [mode, bundle, exportName, eventFile] = process.argv.slice(2);
if (mode === 'empty') process.exit(0);

const started = performance.now();
const mod = await import(pathToFileURL(bundle).href);
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
process.stdout.write(
  `\n@@bench ${JSON.stringify({ ...outcome, importMs: imported - started, invokeMs: invoked - imported })}\n`,
  // Exit at once: keep-alive sockets (JWKS, DynamoDB) would otherwise hold the process open.
  () => process.exit(0),
);
