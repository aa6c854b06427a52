import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundledJwksError, bundledJwksModule } from '../../../tools/jwt/bundled-jwks.ts';
import { testKey } from '../../support/keys.ts';

function projectWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-jwks-'));
  mkdirSync(join(root, 'jwks'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'jwks', name), text);
  return root;
}

describe('bundledJwksModule', () => {
  it('bundles every jwks/*.json by name, in order', async () => {
    const key = testKey('ES256', 'bundled');
    const root = projectWith({
      'b.json': JSON.stringify({ keys: [key.jwk] }),
      'a.json': '{"keys":[]}',
      'notes.txt': 'x',
    });

    const module = bundledJwksModule(root);

    expect(module.path).toBe('shared/generated/jwks-files.ts');
    expect(module.content).toContain('"jwks/a.json": {"keys":[]},\n  "jwks/b.json": {"keys":[{');
    expect(module.content).not.toContain('notes.txt');
  });

  it('bundles nothing when there is no jwks folder', () => {
    expect(bundledJwksModule(mkdtempSync(join(tmpdir(), 'gatehouse-none-'))).content).toContain(
      'export const JWKS_FILES: BundledJwksFiles = {};',
    );
  });

  it.each([
    ['duplicate members', '{"keys":[],"keys":[]}', 'jwks/x.json: not a JWKS document (json_duplicate_key)'],
    ['no keys array', '{"key":[]}', 'jwks/x.json: not a JWKS document (no "keys" array)'],
    ['not JSON', '<html>', 'jwks/x.json: not a JWKS document (json_invalid)'],
  ])('refuses a file with %s, naming it', (_name, text, message) => {
    expect(() => bundledJwksModule(projectWith({ 'x.json': text }))).toThrow(BundledJwksError);
    expect(() => bundledJwksModule(projectWith({ 'x.json': text }))).toThrow(message);
  });
});
