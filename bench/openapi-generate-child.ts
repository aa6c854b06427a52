// One generation, run by bench/openapi.ts in a fresh process so its time and peak memory are its
// own: compiles a document into `<root>/shared/generated/` and prints the figures as one JSON line.
// The policy check is run and reported apart (it is not part of writing the validators).
import { checkPolicies, routesModule, writeGenerated } from '../tools/generate.ts';
import { loadOpenApi } from '../tools/openapi/document.ts';
import { routeTable } from '../tools/openapi/routes.ts';
import { compileDocument } from '../tools/openapi/validators.ts';

const [file, root, responses] = process.argv.slice(2) as [string, string, string];
const started = performance.now();
const doc = loadOpenApi(file);
const routes = routeTable(doc);
const compiled = compileDocument(doc, { responseValidators: responses === 'true', source: file });
writeGenerated(root, [
  routesModule(routes, file),
  {
    path: 'shared/generated/validation-table.ts',
    content: `import { validationTable } from '../validation/registry.ts';\nimport registry from './validators/index.cjs';\n\nexport const VALIDATION = validationTable(registry);\n`,
  },
  { path: 'shared/generated/validators/index.cjs', content: compiled.registry },
  ...compiled.modules.map((m) => ({ path: `shared/generated/validators/${m.file}`, content: m.content })),
]);
const generationMs = performance.now() - started;
const policyStarted = performance.now();
const policyProblems = checkPolicies(routes).length;
process.stdout.write(
  `@@openapi ${JSON.stringify({
    generationMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    operations: compiled.modules.length,
    warnings: compiled.warnings.length,
    moduleBytes: compiled.modules.reduce((sum, m) => sum + Buffer.byteLength(m.content), 0),
    largestModuleBytes: Math.max(0, ...compiled.modules.map((m) => Buffer.byteLength(m.content))),
    policyProblems,
    policyMs: performance.now() - policyStarted,
  })}\n`,
);
