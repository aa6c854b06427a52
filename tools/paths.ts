import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding template.yaml). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where local builds and local state live (git-ignored). */
export const STATE_DIR = resolve(PROJECT_ROOT, '.gatehouse');
export const BUILD_DIR = resolve(STATE_DIR, 'build');
