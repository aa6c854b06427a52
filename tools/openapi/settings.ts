/**
 * The document setting: which OpenAPI document the project protects, and how it is compiled. One
 * place — the `gatehouse` field of package.json — read by generate, build, invoke and `npm start`;
 * each command's flags override it for one run (docs/openapi.md#the-document-setting).
 *
 *   "gatehouse": {
 *     "openapi": "openapi.yaml",       the document (path from the project root)
 *     "publicApi": false,              operations without a security requirement are public
 *     "strictSchemas": false,          schema review warnings fail the generation
 *     "responseValidators": false      generate response validators (RESPONSE_VALIDATION needs them)
 *   }
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** How the project's document is compiled. */
export interface DocumentSettings {
  /** The document, as given (relative to the project root unless absolute). */
  readonly openapi: string;
  /** Declares the API intentionally public: operations without `security` need no credentials. */
  readonly publicApi: boolean;
  /** Schema review warnings are errors. */
  readonly strictSchemas: boolean;
  /** Response validators are generated (needed by RESPONSE_VALIDATION=log or strict). */
  readonly responseValidators: boolean;
}

/** Settings when package.json says nothing. */
export const DEFAULT_SETTINGS: DocumentSettings = {
  openapi: 'openapi.yaml',
  publicApi: false,
  strictSchemas: false,
  responseValidators: false,
};

/** A bad `gatehouse` field or flag; the message names it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Overrides from a command line (undefined: keep the project setting). */
export type SettingsOverrides = { readonly [K in keyof DocumentSettings]?: DocumentSettings[K] | undefined };

/** The project's settings (package.json `gatehouse`), with a command's overrides applied. */
export function readDocumentSettings(root: string, overrides: SettingsOverrides = {}): DocumentSettings {
  const file = join(root, 'package.json');
  let field: unknown;
  if (existsSync(file)) field = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>).gatehouse;
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (field !== undefined) {
    if (typeof field !== 'object' || field === null || Array.isArray(field))
      throw new SettingsError('package.json "gatehouse" must be an object');
    for (const [key, value] of Object.entries(field)) {
      if (!Object.hasOwn(DEFAULT_SETTINGS, key))
        throw new SettingsError(
          `package.json "gatehouse.${key}" is not a setting (known: ${Object.keys(DEFAULT_SETTINGS).join(', ')})`,
        );
      const expected = typeof DEFAULT_SETTINGS[key as keyof DocumentSettings];
      if (typeof value !== expected || value === '')
        throw new SettingsError(
          `package.json "gatehouse.${key}" must be a${expected === 'string' ? ' non-empty string' : ' boolean'}`,
        );
      settings[key] = value;
    }
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) settings[key] = value;
  return settings as unknown as DocumentSettings;
}

/** The document's absolute path. */
export function documentPath(root: string, settings: DocumentSettings): string {
  return isAbsolute(settings.openapi) ? settings.openapi : resolve(root, settings.openapi);
}
