// cfn-lint, informational checks included, on template.yaml and on what the SAM translator turns it
// into (CloudFormation deploys the latter).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths.ts';
import { loadTemplate } from '../../tools/template/template.ts';
import { EXPANSIONS_DIR, expandAll, PARAMETER_SETS, translatorAvailable } from './expansion.ts';

interface Finding {
  readonly Filename: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Location: { readonly Path: readonly (string | number)[] };
}

const hasLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
const available = hasLint && translatorAvailable();
if (!available && process.env.CI !== undefined)
  throw new Error('CI needs cfn-lint and aws-sam-translator for the template lint tests');

/** Every finding of one cfn-lint run over the files (informational checks included). */
function lint(files: readonly string[]): Finding[] {
  const run = spawnSync('cfn-lint', ['--include-checks', 'I', '--format', 'json', '--', ...files], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  if (run.stdout.trim() === '') throw new Error(`cfn-lint printed nothing: ${run.stderr}`);
  return JSON.parse(run.stdout) as Finding[];
}

function at(document: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
    document,
  );
}

// The expansions that differ most: the defaults, every switch turned, and the mutual-TLS domain
// (see ./expansion.ts).
const LINTED_SETS = ['defaults', 'locked-down', 'mtls-domain'] as const;

describe.skipIf(!available)('cfn-lint (informational checks included)', () => {
  it('finds nothing in template.yaml, nor in the translator output but the partition the translator writes', () => {
    // Arrange
    const sets = Object.fromEntries(LINTED_SETS.map((name) => [name, PARAMETER_SETS[name] ?? {}]));
    const dir = join(EXPANSIONS_DIR, 'lint');
    expandAll(sets, dir);
    const files = LINTED_SETS.map((name) => join(dir, `${name}.json`));
    const source = loadTemplate(join(PROJECT_ROOT, 'template.yaml'));

    // Act
    const findings = lint(['template.yaml', ...files]);

    // Assert
    // The translator runs in the stack's region and writes that region's partition into the ARNs
    // it generates (samtranslator ArnGenerator.get_partition_name): correct for what deploys, and
    // no ARN of ours (next test). Every other finding fails.
    const unexpected = findings.filter((f) => {
      if (f.Rule.Id !== 'I3042' || f.Filename.endsWith('template.yaml')) return true;
      const id = String(f.Location.Path[1]);
      const generated =
        source.Resources[id] === undefined || source.Resources[id]?.Type.startsWith('AWS::Serverless::');
      const value = at(JSON.parse(readFileSync(f.Filename, 'utf8')), f.Location.Path);
      return !(generated && typeof value === 'string' && value.startsWith('arn:aws:'));
    });
    expect(unexpected.map((f) => `${f.Filename}: ${f.Rule.Id} ${f.Message}`)).toEqual([]);
  }, 240_000);

  it('writes no partition literal into any ARN of template.yaml', () => {
    const text = readFileSync(join(PROJECT_ROOT, 'template.yaml'), 'utf8');

    expect(text.match(/arn:aws(-[a-z]+)*:/g) ?? []).toEqual([]);
  });
});
