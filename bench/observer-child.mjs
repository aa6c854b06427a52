// The Powertools observer's cost per decision, measured in a child process whose stdout (the log
// lines and EMF blobs) goes nowhere, so the benchmark's own output stays readable. Plain JS.
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
const { powertoolsObserver } = await import(pathToFileURL(bundle).href);
const observer = powertoolsObserver('jwt-authorizer');
const record = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  route: 'GET /orders/{id}',
  effect: 'allow',
  reason: 'allowed',
  principal: 'bench-user',
  latencyMs: 0.2,
  cacheHit: true,
};
for (let i = 0; i < 300; i++) observer.decision(record);
const samples = [];
for (let s = 0; s < 41; s++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 25; i++) observer.decision(record);
  samples.push(Number(process.hrtime.bigint() - t0) / 25);
}
samples.sort((a, b) => a - b);
process.stderr.write(`\n@@bench ${JSON.stringify({ medianNs: samples[20], p99Ns: samples[40] })}\n`);
