// One generation, run by bench/openapi.ts in a fresh process so its time and peak memory are its
// own: compiles a document into `<root>/shared/generated/` (the route table with its policy plan,
// and the validation modules) and prints the figures as one JSON line.
import { planRoutes, routesModule, validationTableModule, writeGenerated } from '../tools/generate.ts';
import { loadOpenApi } from '../tools/openapi/document.ts';
import { routeTable } from '../tools/openapi/routes.ts';
import { compileDocument } from '../tools/openapi/validators.ts';

const [file, root, responses] = process.argv.slice(2) as [string, string, string];
const started = performance.now();
const doc = loadOpenApi(file);
const routes = routeTable(doc);
const planStarted = performance.now();
const plan = planRoutes(routes);
const planMs = performance.now() - planStarted;
const compiled = compileDocument(doc, { responseValidators: responses === 'true', source: file });
writeGenerated(root, [
  routesModule(routes, file, plan),
  validationTableModule(compiled, file),
  { path: 'shared/generated/validators/index.cjs', content: compiled.registry },
  ...(compiled.formats === undefined
    ? []
    : [{ path: 'shared/generated/validators/formats.cjs', content: compiled.formats }]),
  ...compiled.modules.map((m) => ({ path: `shared/generated/validators/${m.file}`, content: m.content })),
]);
const generationMs = performance.now() - started;
process.stdout.write(
  `@@openapi ${JSON.stringify({
    generationMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    operations: compiled.modules.length,
    warnings: compiled.warnings.length,
    moduleBytes: compiled.modules.reduce((sum, m) => sum + Buffer.byteLength(m.content), 0),
    largestModuleBytes: Math.max(0, ...compiled.modules.map((m) => Buffer.byteLength(m.content))),
    policyMode: plan.mode,
    largestPolicyBytes: plan.largestPolicyBytes,
    planMs,
  })}\n`,
);
