/**
 * The string formats a document's schemas check with code (`date`, `date-time`, `uri`, `int32`...),
 * as one small generated module beside the validation modules, instead of ajv-formats' whole
 * `dist/formats.js` (7.5 KB minified: one CommonJS object of every format, which a bundler cannot
 * take apart). Formats that are a regular expression (`email`, `uuid`...) need nothing: ajv writes
 * the expression into the validation code itself.
 *
 * The code is ajv-formats' own (MIT): each format's definition as `fullFormats` writes it, with the
 * declarations it uses, taken from the installed `dist/formats.js`. Nothing is rewritten, so the
 * checks are the same; test/unit/validation/formats.test.ts compares every format with ajv-formats',
 * and the JSON-Schema-Test-Suite run (test/corpora) goes through this module. A version of
 * ajv-formats laid out differently fails the generation with a message, not the checks.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** How the validation modules name the formats module (a `require` of the registry's folder). */
export const FORMATS_MODULE = './formats.cjs';

const requireHere = createRequire(import.meta.url);

/** A top-level declaration of ajv-formats' `dist/formats.js`. */
interface Declaration {
  readonly name: string;
  readonly text: string;
}

interface FormatsSource {
  readonly version: string;
  /** In file order. */
  readonly declarations: readonly Declaration[];
  /** Format name → the expression `fullFormats` gives it. */
  readonly entries: ReadonlyMap<string, string>;
}

let source: FormatsSource | undefined;

function formatsSource(): FormatsSource {
  if (source !== undefined) return source;
  const file = requireHere.resolve('ajv-formats/dist/formats.js');
  const { version } = JSON.parse(readFileSync(requireHere.resolve('ajv-formats/package.json'), 'utf8')) as {
    version: string;
  };
  const lines = readFileSync(file, 'utf8').split('\n');
  const fail = (what: string) =>
    new Error(
      `ajv-formats ${version}: ${what} not found in ${file} (tools/openapi/formats.ts reads its layout)`,
    );

  const start = lines.indexOf('exports.fullFormats = {');
  const end = lines.indexOf('};', start);
  if (start < 0 || end < 0) throw fail('exports.fullFormats = { ... };');
  const entries = new Map<string, string>();
  for (const line of lines.slice(start + 1, end)) {
    if (/^\s*(?:\/\/.*)?$/.test(line)) continue;
    const m = /^ {4}(?:"([^"]+)"|([A-Za-z_$][\w$]*))(?:: (.*))?,$/.exec(line);
    if (m === null) throw fail(`a one-line entry (${line.trim().slice(0, 40)})`);
    const name = (m[1] ?? m[2]) as string;
    entries.set(name, m[3] ?? name);
  }

  // A top-level statement starts at a line that is not indented, not a comment and not a closing
  // brace; it runs to the next one. Only `function name(` and `const name =` are taken.
  const declarations: Declaration[] = [];
  let current: { name: string | undefined; lines: string[] } | undefined;
  const close = () => {
    if (current?.name !== undefined)
      declarations.push({ name: current.name, text: current.lines.join('\n') });
  };
  for (const line of lines) {
    if (line === '' || /^[\s}]/.test(line) || line.startsWith('//')) {
      if (current !== undefined && line !== '' && !line.startsWith('//')) current.lines.push(line);
      continue;
    }
    close();
    const name = /^(?:function ([A-Za-z_$][\w$]*)\(|const ([A-Za-z_$][\w$]*) = )/.exec(line);
    current = { name: name === null ? undefined : (name[1] ?? name[2]), lines: [line] };
  }
  close();
  source = { version, declarations, entries };
  return source;
}

/** The format names ajv-formats implements with code (the others are expressions or `true`). */
export function codedFormats(): string[] {
  return [...formatsSource().entries]
    .filter(([, expression]) => !expression.startsWith('/') && expression !== 'true')
    .map(([n]) => n);
}

/**
 * The CommonJS module exporting the named formats as ajv-formats' `fullFormats` defines them, with
 * the declarations they use; `header` is the first comment line.
 */
export function formatsModule(names: readonly string[], header: string): string {
  const { version, declarations, entries } = formatsSource();
  const byName = new Map(declarations.map((d) => [d.name, d]));
  const needed = new Set<string>();
  const visit = (code: string) => {
    for (const word of code.match(/[A-Za-z_$][\w$]*/g) ?? []) {
      const declaration = byName.get(word);
      if (declaration === undefined || needed.has(word)) continue;
      needed.add(word);
      visit(declaration.text);
    }
  };
  const exported = [...new Set(names)].sort().map((name) => {
    const expression = entries.get(name);
    if (expression === undefined)
      throw new Error(`ajv-formats ${version} has no format ${JSON.stringify(name)}`);
    visit(expression);
    return `exports[${JSON.stringify(name)}] = ${expression};`;
  });
  return [
    "'use strict';",
    header,
    `// The formats the document's schemas check with code, as ajv-formats ${version} defines them (MIT,`,
    '// dist/formats.js; tools/openapi/formats.ts).',
    ...declarations.filter((d) => needed.has(d.name)).map((d) => d.text),
    ...exported,
    '',
  ].join('\n');
}

/** The formats a validation module's code takes from the formats module. */
export function formatsUsed(code: string): string[] {
  const used = new Set<string>();
  const call = /__rt\("\.\/formats\.cjs"\)(?:\.([A-Za-z_$][\w$]*)|\[("(?:[^"\\]|\\.)*")\])/g;
  for (const m of code.matchAll(call)) used.add(m[1] ?? (JSON.parse(m[2] as string) as string));
  return [...used];
}
