// Builds every bundle once before the tests, from template.yaml, as `npm run build` does.
// GATEHOUSE_BUILD_ONLY=LogicalId,... narrows the build while working on one function.
import { buildAll } from '../tools/build.ts';

export default async function setup(): Promise<void> {
  const only = process.env.GATEHOUSE_BUILD_ONLY?.split(',').filter(Boolean);
  await buildAll(only === undefined ? {} : { only });
}
