// Builds every bundle once before the tests, from template.yaml, as `npm run build` does.
import { buildAll } from '../tools/build.ts';

export default async function setup(): Promise<void> {
  await buildAll();
}
