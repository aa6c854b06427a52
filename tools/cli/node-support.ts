/**
 * Which Node.js versions the local tools support, from package.json `engines.node` (the one place
 * it is written; `.nvmrc` names the recommended one, the Lambda runtime's major).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths.ts';

/** The oldest supported version, from `engines.node` (`>=20.19`). */
export function minimumNode(packageJson = join(PROJECT_ROOT, 'package.json')): readonly [number, number] {
  const range = (JSON.parse(readFileSync(packageJson, 'utf8')) as { engines?: { node?: string } }).engines
    ?.node;
  const m = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range ?? '');
  if (m === null) throw new Error(`package.json engines.node must be ">=MAJOR.MINOR", not ${range}`);
  return [Number(m[1]), Number(m[2] ?? 0)];
}

/** Whether `version` (`20.19.1`, `v22.3.0`) is at least the minimum. */
export function isSupportedNode(
  version: string,
  minimum: readonly [number, number] = minimumNode(),
): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/**
 * The AWS SDK's documented switch for its Node.js support notice (aws-sdk-js-v3 announcement
 * #7983). The notice is about the SDK's own future releases, printed by every process that makes a
 * client; on a Node.js version this project supports it says nothing a user can act on, so the
 * local tools and local Lambda environments set the switch — on supported versions only.
 */
export const SDK_NODE_NOTICE_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** `{ [SDK_NODE_NOTICE_SWITCH]: 'true' }` on a supported Node.js, else nothing. */
export function sdkNoticeEnvironment(version = process.version): Record<string, string> {
  return isSupportedNode(version) ? { [SDK_NODE_NOTICE_SWITCH]: 'true' } : {};
}
