import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isSupportedNode,
  minimumNode,
  SDK_NODE_NOTICE_SWITCH,
  sdkNoticeEnvironment,
} from '../../../tools/cli/node-support.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { loadTemplate } from '../../../tools/template/template.ts';

const nvmrc = readFileSync(join(PROJECT_ROOT, '.nvmrc'), 'utf8').trim();

describe('Node.js versions', () => {
  it('recommends (.nvmrc) the major version of the Lambda runtime in the template', () => {
    // Arrange
    const runtime = loadTemplate(join(PROJECT_ROOT, 'template.yaml')).Globals?.Function?.Runtime;

    // Assert
    expect(runtime).toMatch(/^nodejs\d+\.x$/);
    expect(nvmrc).toBe(/^nodejs(\d+)\.x$/.exec(String(runtime))?.[1]);
  });

  it('supports (package.json engines) the recommended version', () => {
    expect(isSupportedNode(`${nvmrc}.0.0`)).toBe(true);
    expect(minimumNode()[0]).toBeLessThanOrEqual(Number(nvmrc));
  });

  it('states the same versions in the command reference', () => {
    // Arrange
    const [major, minor] = minimumNode();
    const doc = readFileSync(join(PROJECT_ROOT, 'docs/cli.md'), 'utf8');

    // Assert
    expect(doc).toContain(`Node.js ${nvmrc}`);
    expect(doc).toContain(`${major}.${minor}`);
  });

  it.each([
    ['v20.19.0', true],
    ['20.20.2', true],
    ['v22.1.0', true],
    ['v20.18.3', false],
    ['v18.20.0', false],
  ])('isSupportedNode(%s) is %s (engines >=20.19)', (version, supported) => {
    expect(isSupportedNode(version, [20, 19])).toBe(supported);
  });

  it('turns the AWS SDK notice off on supported versions only', () => {
    expect(sdkNoticeEnvironment('v99.0.0')).toEqual({ [SDK_NODE_NOTICE_SWITCH]: 'true' });
    expect(sdkNoticeEnvironment('v18.20.0')).toEqual({});
  });
});
