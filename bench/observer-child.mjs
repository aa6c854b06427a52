// The observer's cost per decision, measured in a child process whose stdout (the log lines with
// their EMF blocks) goes to /dev/null, so the benchmark's own output stays readable. Each call is
// what an invocation does: `begin` (request id, trace id) and one `decision` line. A long warm-up
// (5,000 decisions) lets the JIT settle; a short one overstates the cost several times. Plain JS.
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
const { AUTHORIZER_METRICS, lambdaObserver } = await import(pathToFileURL(bundle).href);
const observer = lambdaObserver('jwt-authorizer', AUTHORIZER_METRICS);
const record = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  route: 'GET /orders/{id}',
  effect: 'allow',
  reason: 'allowed',
  principal: 'bench-user',
  latencyMs: 0.2,
  cacheHit: true,
};
const invocation = (i) => {
  observer.begin(`bench-${i}`);
  observer.decision(record);
};
for (let i = 0; i < 5000; i++) invocation(i);
const samples = [];
for (let s = 0; s < 101; s++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) invocation(i);
  samples.push(Number(process.hrtime.bigint() - t0) / 200);
}
samples.sort((a, b) => a - b);
process.stderr.write(`\n@@bench ${JSON.stringify({ medianNs: samples[50], p99Ns: samples[99] })}\n`);
