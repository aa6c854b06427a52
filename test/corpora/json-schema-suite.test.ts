/**
 * JSON-Schema-Test-Suite (draft 2020-12 and draft-07) through the request validator's own path:
 * schemas compiled by tools/openapi/validators.ts (same ajv options, standalone ESM module, ajv-formats
 * full mode for optional/format only), data sent as a JSON body text through the strict body check.
 * Our verdict must equal the suite's for every case outside SKIPPED, and every SKIPPED case must
 * still differ (so the list cannot go stale).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../shared/validation/body.ts';
import type { ValidateFunction } from '../../shared/validation/table.ts';
import { createAjv, type Draft, standaloneModule } from '../../tools/openapi/validators.ts';
import { STATE_DIR } from '../../tools/paths.ts';

const ROOT = 'test/fixtures/json-schema-test-suite';
const MAX_DEPTH = 64;

interface SuiteGroup {
  readonly description: string;
  readonly schema: unknown;
  readonly tests: readonly {
    readonly description: string;
    readonly data: unknown;
    readonly valid: boolean;
  }[];
}

const FORMAT = 'ajv-formats does not implement this part of the format';
const GENERATOR_REFUSES =
  'ajv gets this wrong; tools/openapi/validators.ts refuses the keyword in API documents';
const PROTO = 'by design: bodies with __proto__/constructor/prototype keys are refused (json_forbidden_key)';

/**
 * Where our verdict differs from the suite's, each with its reason. Keys are a file (`optional/
 * format/iri.json`, every case) or `<file>|<group>` (at least one case of the group differs), for
 * both drafts unless prefixed with one (`draft2020-12/ref.json|...`). The test fails when an entry
 * no longer differs, so the list cannot go stale.
 */
const SKIPPED: Readonly<Record<string, string>> = {
  'dynamicRef.json': GENERATOR_REFUSES,
  'optional/format/idn-email.json': FORMAT,
  'optional/format/idn-hostname.json': FORMAT,
  'optional/format/iri.json': FORMAT,
  'optional/format/iri-reference.json': FORMAT,
  'optional/format/hostname.json|validation of A-label (punycode) host names': FORMAT,
  'optional/format/hostname.json|validation of host names': FORMAT,
  'optional/format/date-time.json|validation of date-time strings': FORMAT,
  'optional/format/duration.json|validation of duration strings': FORMAT,
  'draft2020-12/optional/format/email.json|validation of e-mail addresses': FORMAT,
  'optional/format/uri.json|validation of URIs': FORMAT,
  'optional/format/uri-reference.json|validation of URI References': FORMAT,
  'optional/format/uri-template.json|format: uri-template': FORMAT,
  'optional/format/uuid.json|uuid format': FORMAT,
  'optional/format/ecmascript-regex.json|\\a is not an ECMA 262 control escape': FORMAT,
  'properties.json|properties whose names are Javascript object property names': PROTO,
  'required.json|required properties whose names are Javascript object property names': PROTO,
  'enum.json|empty enum': 'ajv refuses to compile an empty enum, so the build fails instead',
  'draft2020-12/ref.json|URN ref with nested pointer ref':
    'ajv cannot compile it (stack overflow); the build would fail',
  'draft2020-12/ref.json|refs with relative uris and defs':
    'ajv cannot compile it (stack overflow); the build would fail',
  'draft2020-12/ref.json|relative refs with absolute uris and defs':
    'ajv cannot compile it (stack overflow); the build would fail',
  'ref.json|$ref prevents a sibling $id from changing the base uri': 'draft-07: ajv applies $ref siblings',
  'ref.json|ref overrides any sibling keywords':
    'draft-07: ajv applies $ref siblings (OpenAPI 3.0 documents should not rely on either)',
  'vocabulary.json|schema that uses custom metaschema with with no validation vocabulary':
    'ajv ignores $vocabulary',
  'unevaluatedItems.json|unevaluatedItems and contains interact to control item dependency relationship':
    GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems can see annotations from if without then and else':
    GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems depends on adjacent contains': GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems depends on multiple nested contains': GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems with $dynamicRef': GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems with minContains = 0': GENERATOR_REFUSES,
  'unevaluatedItems.json|unevaluatedItems with nested items': GENERATOR_REFUSES,
  'unevaluatedProperties.json|unevaluatedProperties can see annotations from if without then and else':
    GENERATOR_REFUSES,
  'unevaluatedProperties.json|unevaluatedProperties with $dynamicRef': GENERATOR_REFUSES,
  'unevaluatedProperties.json|unevaluatedProperties with if/then/else, then not defined': GENERATOR_REFUSES,
};

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') ? [p] : [];
  });
}

function remotes(draftDir: string): [string, unknown][] {
  const base = join(ROOT, 'remotes');
  return walk(base)
    .filter((p) => {
      const rel = relative(base, p);
      return !rel.includes('/') || rel.startsWith(`${draftDir}/`) || !/^draft/.test(rel.split('/')[0] ?? '');
    })
    .map((p) => [`http://localhost:1234/${relative(base, p)}`, JSON.parse(readFileSync(p, 'utf8'))]);
}

function newAjv(draft: Draft, draftDir: string, formats: boolean): Ajv {
  const ajv = createAjv(draft, { formats, strict: false });
  for (const [url, schema] of remotes(draftDir)) {
    try {
      ajv.addSchema(schema as object, url);
    } catch {
      // A remote of another dialect; the tests that need it are in SKIPPED if any.
    }
  }
  return ajv;
}

/** Compiles a file's groups into as few standalone modules as their `$id`s allow; imports them. */
async function compileFile(draft: Draft, draftDir: string, groups: readonly SuiteGroup[], formats: boolean) {
  const validators: (ValidateFunction | string)[] = [];
  const chunks: { ajv: Ajv; exports: Record<string, string>; members: number[] }[] = [];
  let chunk = {
    ajv: newAjv(draft, draftDir, formats),
    exports: {} as Record<string, string>,
    members: [] as number[],
  };
  chunks.push(chunk);
  groups.forEach((group, i) => {
    const key = `https://suite.test/group/${i}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        chunk.ajv.addSchema(group.schema as object, key);
        chunk.ajv.getSchema(key);
        chunk.exports[`g${i}`] = key;
        chunk.members.push(i);
        validators[i] = '';
        return;
      } catch (err) {
        try {
          chunk.ajv.removeSchema(key);
        } catch {
          // not added
        }
        const message = (err as Error).message;
        if (attempt === 0 && /already exists/.test(message)) {
          chunk = { ajv: newAjv(draft, draftDir, formats), exports: {}, members: [] };
          chunks.push(chunk);
          continue;
        }
        validators[i] = `ajv cannot compile: ${message.slice(0, 80)}`;
        return;
      }
    }
  });
  const dir = join(STATE_DIR, 'json-schema-suite');
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, 'run-'));
  const load = async (file: string, ajv: Ajv, exports: Record<string, string>) => {
    writeFileSync(file, standaloneModule(ajv, exports));
    return (await import(pathToFileURL(file).href)) as Record<string, ValidateFunction>;
  };
  for (const [n, c] of chunks.entries()) {
    if (c.members.length === 0) continue;
    try {
      const mod = await load(join(tmp, `chunk-${n}.mjs`), c.ajv, c.exports);
      for (const i of c.members) validators[i] = mod[`g${i}`] as ValidateFunction;
    } catch {
      // One group's standalone code failed; find which, one group per module.
      for (const i of c.members) {
        const ajv = newAjv(draft, draftDir, formats);
        const key = `https://suite.test/group/${i}`;
        try {
          ajv.addSchema(groups[i]?.schema as object, key);
          const mod = await load(join(tmp, `group-${i}.mjs`), ajv, { [`g${i}`]: key });
          validators[i] = mod[`g${i}`] as ValidateFunction;
        } catch (err) {
          validators[i] = `no standalone code: ${(err as Error).message.slice(0, 60)}`;
        }
      }
    }
  }
  // Imported modules stay loaded; their files are not needed any more.
  rmSync(tmp, { recursive: true, force: true });
  return validators;
}

/** Our verdict for one datum: the body text through the strict check, then the validator. */
function verdict(validate: ValidateFunction, data: unknown): boolean | 'threw' {
  const parsed = parseJsonBody(JSON.stringify(data), MAX_DEPTH);
  try {
    return parsed.ok && validate(parsed.value);
  } catch {
    return 'threw';
  }
}

const DRAFTS: readonly { readonly draft: Draft; readonly dir: string }[] = [
  { draft: '2020-12', dir: 'draft2020-12' },
  { draft: 'draft-07', dir: 'draft7' },
];

for (const { draft, dir } of DRAFTS) {
  const files = [
    ...listFiles(join(ROOT, 'tests', dir)),
    ...listFiles(join(ROOT, 'tests', dir, 'optional', 'format')),
  ];
  describe(`JSON-Schema-Test-Suite ${dir}`, () => {
    it.each(files.map((f) => relative(join(ROOT, 'tests'), f)))(
      '%s gives the suite verdicts',
      async (name) => {
        // Arrange
        const groups = JSON.parse(readFileSync(join(ROOT, 'tests', name), 'utf8')) as SuiteGroup[];
        const validators = await compileFile(draft, dir, groups, name.includes('/optional/format/'));
        const differing: string[] = [];
        const skipsHit = new Set<string>();
        const file = name.slice(name.indexOf('/') + 1);
        // Act
        groups.forEach((group, i) => {
          const validate = validators[i];
          for (const test of group.tests) {
            const ours = typeof validate === 'function' ? verdict(validate, test.data) : validate;
            if (ours === test.valid) continue;
            const skip = [file, name, `${file}|${group.description}`, `${name}|${group.description}`].find(
              (k) => SKIPPED[k] !== undefined,
            );
            if (skip !== undefined) skipsHit.add(skip);
            else differing.push(`${name}|${group.description}|${test.description} (ours: ${ours})`);
          }
        });
        const mine = [
          file,
          name,
          ...groups.flatMap((g) => [`${file}|${g.description}`, `${name}|${g.description}`]),
        ];
        const staleSkips = mine.filter((k) => SKIPPED[k] !== undefined && !skipsHit.has(k));
        // Assert
        expect(differing).toEqual([]);
        expect(staleSkips).toEqual([]);
      },
    );
  });
}
